"""CIFAR-10 and CIFAR-100 read from their binary or python batches on disk (see
:mod:`topoloss.data.local`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from topoloss.data._local_files import PathLike, missing_files, search_files, to_datasets
from topoloss.data._pickle import load_numpy_pickle
from topoloss.data.core import ClassificationDataset
from topoloss.errors import InputError

__all__ = ["cifar10", "cifar100", "read_cifar_bin"]


def read_cifar_bin(path: PathLike, *, label_bytes: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Read a CIFAR binary batch: records of ``label_bytes`` labels and 3072 pixels.

    Parameters
    ----------
    path : path-like
        A ``.bin`` file of CIFAR-10 (``label_bytes=1``) or CIFAR-100
        (``label_bytes=2``: coarse label, then fine label).
    label_bytes : {1, 2}, default=1
        Label bytes that precede each image.

    Returns
    -------
    images : numpy.ndarray
        ``(N, 3, 32, 32)`` uint8.
    labels : numpy.ndarray
        ``(N, label_bytes)`` uint8.

    Raises
    ------
    ValueError
        If the file size is not a whole number of records.
    """
    record = label_bytes + 3 * 32 * 32
    raw = np.fromfile(Path(path), dtype=np.uint8)
    if raw.size == 0 or raw.size % record:
        raise InputError(
            f"{str(path)!r} has {raw.size} bytes, not a whole number of {record}-byte records"
        )
    rows = raw.reshape(-1, record)
    return rows[:, label_bytes:].reshape(-1, 3, 32, 32), rows[:, :label_bytes]


def _cifar_python(files: list[Path], label_key: bytes) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    for f in files:
        batch = load_numpy_pickle(f)
        if not isinstance(batch, dict) or b"data" not in batch or label_key not in batch:
            raise InputError(f"{str(f)!r} is not a CIFAR python batch (keys data, {label_key!r})")
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        images.append(data.reshape(-1, 3, 32, 32))
        labels.append(np.asarray(batch[label_key], dtype=np.int64).reshape(-1))
    return np.concatenate(images), np.concatenate(labels)


def _cifar_bin(files: list[Path], label_bytes: int, column: int) -> tuple[np.ndarray, np.ndarray]:
    parts = [read_cifar_bin(f, label_bytes=label_bytes) for f in files]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1][:, column] for p in parts])


_CIFAR_HOW = "Get the binary version from the CIFAR page (www.cs.toronto.edu/~kriz/cifar.html)."


def cifar10(
    root: PathLike, *, normalize: bool = True, n_train: int | None = None, n_test: int | None = None
) -> tuple[ClassificationDataset, ClassificationDataset]:
    """CIFAR-10 from the binary (preferred) or python batches in ``root`` (3x32x32).

    Parameters
    ----------
    root : path-like
        Folder holding ``cifar-10-batches-bin/`` (or ``cifar-10-batches-py/``), or
        that folder itself.
    normalize : bool, default=True
        Standardize per channel with the training mean and std.
    n_train, n_test : int, optional
        Keep only the first ``n`` samples of a split.

    Returns
    -------
    train, test : ClassificationDataset
        Images ``(3, 32, 32)`` float32, 10 classes.

    Raises
    ------
    FileNotFoundError
        If neither version is found; the message names the folders and files.
    """
    base = Path(root)
    bins = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    found = search_files(base, ("", "cifar-10-batches-bin"), [(n,) for n in bins])
    if found is not None:
        x_tr, y_tr = _cifar_bin(found[:5], 1, 0)
        x_te, y_te = _cifar_bin(found[5:], 1, 0)
    else:
        pys = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
        found = search_files(base, ("", "cifar-10-batches-py"), [(n,) for n in pys])
        if found is None:
            expected = (
                "the binary version: cifar-10-batches-bin/ with "
                + ", ".join(bins)
                + "; or the python version: cifar-10-batches-py/ with "
                + ", ".join(pys)
            )
            raise missing_files(
                "CIFAR-10",
                base,
                ("", "cifar-10-batches-bin", "cifar-10-batches-py"),
                expected,
                _CIFAR_HOW,
            )
        x_tr, y_tr = _cifar_python(found[:5], b"labels")
        x_te, y_te = _cifar_python(found[5:], b"labels")
    return to_datasets(
        x_tr, y_tr, x_te, y_te, num_classes=10, normalize=normalize, n_train=n_train, n_test=n_test
    )


def cifar100(
    root: PathLike,
    *,
    labels: Literal["fine", "coarse"] = "fine",
    normalize: bool = True,
    n_train: int | None = None,
    n_test: int | None = None,
) -> tuple[ClassificationDataset, ClassificationDataset]:
    """CIFAR-100 from the binary (preferred) or python files in ``root`` (3x32x32).

    Parameters
    ----------
    root : path-like
        Folder holding ``cifar-100-binary/`` (or ``cifar-100-python/``), or that
        folder itself.
    labels : {"fine", "coarse"}, default="fine"
        The 100 fine classes or the 20 coarse superclasses.
    normalize : bool, default=True
        Standardize per channel with the training mean and std.
    n_train, n_test : int, optional
        Keep only the first ``n`` samples of a split.

    Returns
    -------
    train, test : ClassificationDataset
        Images ``(3, 32, 32)`` float32, 100 (or 20) classes.

    Raises
    ------
    FileNotFoundError
        If neither version is found; the message names the folders and files.
    """
    if labels not in ("fine", "coarse"):
        raise InputError(f"labels must be 'fine' or 'coarse', got {labels=}")
    base = Path(root)
    found = search_files(base, ("", "cifar-100-binary"), [("train.bin",), ("test.bin",)])
    if found is not None:
        column = 1 if labels == "fine" else 0
        x_tr, y_tr = _cifar_bin(found[:1], 2, column)
        x_te, y_te = _cifar_bin(found[1:], 2, column)
    else:
        found = search_files(base, ("", "cifar-100-python"), [("train",), ("test",)])
        if found is None:
            expected = (
                "the binary version: cifar-100-binary/ with train.bin, test.bin; "
                "or the python version: cifar-100-python/ with train, test"
            )
            raise missing_files(
                "CIFAR-100",
                base,
                ("", "cifar-100-binary", "cifar-100-python"),
                expected,
                _CIFAR_HOW,
            )
        key = b"fine_labels" if labels == "fine" else b"coarse_labels"
        x_tr, y_tr = _cifar_python(found[:1], key)
        x_te, y_te = _cifar_python(found[1:], key)
    return to_datasets(
        x_tr,
        y_tr,
        x_te,
        y_te,
        num_classes=100 if labels == "fine" else 20,
        normalize=normalize,
        n_train=n_train,
        n_test=n_test,
    )
