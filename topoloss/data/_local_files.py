"""What the loaders of local dataset files share: finding the files, the error, the datasets.

:func:`search_files` finds the first folder holding every file a dataset needs,
:func:`missing_files` is the error naming the folders searched and the files expected,
and :func:`to_datasets` turns the arrays read into the ``(train, test)``
:class:`~topoloss.data.core.ClassificationDataset` pair (``[0, 1]`` images, optionally
standardized, optionally cut to their first samples).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from topoloss.data.core import ClassificationDataset, standardize
from topoloss.errors import InputError

__all__ = ["PathLike", "missing_files", "search_files", "to_datasets"]

PathLike = str | os.PathLike[str]


def search_files(
    root: Path, subdirs: Sequence[str], names: Sequence[Sequence[str]]
) -> list[Path] | None:
    """First folder among ``root/sub`` holding one candidate name of every file."""
    for sub in subdirs:
        folder = root / sub if sub else root
        found = [
            next((folder / n for n in cands if (folder / n).is_file()), None) for cands in names
        ]
        if all(f is not None for f in found):
            return found  # type: ignore[return-value]
    return None


def missing_files(
    what: str, root: Path, subdirs: Sequence[str], expected: str, how: str
) -> FileNotFoundError:
    """The error for a dataset ``what`` whose files are not in any ``root/sub``."""
    folders = ", ".join(repr(str(root / s if s else root)) for s in subdirs)
    return FileNotFoundError(
        f"{what} files not found; searched {folders}. Expected {expected}. {how} "
        "topoloss never downloads data."
    )


def to_datasets(
    x_tr: np.ndarray,
    y_tr: np.ndarray,
    x_te: np.ndarray,
    y_te: np.ndarray,
    *,
    num_classes: int,
    normalize: bool,
    n_train: int | None,
    n_test: int | None,
) -> tuple[ClassificationDataset, ClassificationDataset]:
    """The ``(train, test)`` datasets of uint8 images and integer labels (see the module)."""
    out = []
    for x, y, n, name in ((x_tr, y_tr, n_train, "n_train"), (x_te, y_te, n_test, "n_test")):
        if len(x) != len(y):
            raise InputError(f"{len(x)} images but {len(y)} labels in the {name[2:]} split")
        if n is not None:
            if isinstance(n, bool) or int(n) != n or n < 1:
                raise InputError(f"{name} must be a positive integer, got {name}={n!r}")
            x, y = x[: int(n)], y[: int(n)]
        images = torch.from_numpy(np.ascontiguousarray(x)).to(torch.float32).div_(255.0)
        labels = torch.from_numpy(np.asarray(y, dtype=np.int64).reshape(-1))
        out.append((images, labels))
    (tr, ytr), (te, yte) = out
    if normalize:
        tr, te = standardize(tr, te, inplace=True)
    return (
        ClassificationDataset(tr, ytr, num_classes=num_classes),
        ClassificationDataset(te, yte, num_classes=num_classes),
    )
