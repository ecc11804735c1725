"""SVHN (cropped digits, format 2) read from its ``.mat`` files on disk (see
:mod:`topoloss.data.local`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from topoloss.data._local_files import PathLike, missing_files, search_files, to_datasets
from topoloss.data.core import ClassificationDataset
from topoloss.errors import InputError

__all__ = ["svhn"]


def _read_svhn(path: Path) -> tuple[np.ndarray, np.ndarray]:
    from scipy.io import loadmat

    mat = loadmat(path)
    if "X" not in mat or "y" not in mat:
        raise InputError(f"{str(path)!r} is not an SVHN format-2 file (variables X and y)")
    x = np.asarray(mat["X"], dtype=np.uint8)
    if x.ndim != 4 or x.shape[2] != 3:
        raise InputError(f"{str(path)!r}: X has shape {x.shape}, not (32, 32, 3, N)")
    y = np.asarray(mat["y"], dtype=np.int64).reshape(-1) % 10  # label 10 is the digit 0
    return x.transpose(3, 2, 0, 1), y


def svhn(
    root: PathLike, *, normalize: bool = True, n_train: int | None = None, n_test: int | None = None
) -> tuple[ClassificationDataset, ClassificationDataset]:
    """SVHN cropped digits (format 2) from ``.mat`` files in ``root`` (3x32x32).

    Parameters
    ----------
    root : path-like
        Folder holding ``train_32x32.mat`` and ``test_32x32.mat``, or ``svhn``
        inside it.
    normalize : bool, default=True
        Standardize per channel with the training mean and std.
    n_train, n_test : int, optional
        Keep only the first ``n`` samples of a split.

    Returns
    -------
    train, test : ClassificationDataset
        Images ``(3, 32, 32)`` float32, 10 classes (label 10 of the files is 0).

    Raises
    ------
    FileNotFoundError
        If the files are missing; the message names the folders searched and the files.
    """
    base = Path(root)
    subdirs = ("", "svhn", "SVHN")
    found = search_files(base, subdirs, [("train_32x32.mat",), ("test_32x32.mat",)])
    if found is None:
        raise missing_files(
            "SVHN",
            base,
            subdirs,
            "train_32x32.mat, test_32x32.mat",
            "Get format 2 from the SVHN page (ufldl.stanford.edu/housenumbers).",
        )
    (x_tr, y_tr), (x_te, y_te) = (_read_svhn(f) for f in found)
    return to_datasets(
        x_tr, y_tr, x_te, y_te, num_classes=10, normalize=normalize, n_train=n_train, n_test=n_test
    )
