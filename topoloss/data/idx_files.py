"""MNIST and Fashion-MNIST read from their IDX files on disk (see :mod:`topoloss.data.local`)."""

from __future__ import annotations

import gzip
import math
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from topoloss.data._local_files import PathLike, missing_files, search_files, to_datasets
from topoloss.data.core import ClassificationDataset
from topoloss.errors import InputError

__all__ = ["fashion_mnist", "mnist", "read_idx"]

_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzip-compressed or not.

    Parameters
    ----------
    path : path-like
        The file; a name ending in ``.gz`` is decompressed.

    Returns
    -------
    numpy.ndarray
        The array with the shape and type stored in the header (native byte order).

    Raises
    ------
    ValueError
        If the header is malformed or the data are truncated.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise InputError(f"{str(path)!r} is not an IDX file (bad magic number {raw[:4]!r})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise InputError(f"{str(path)!r}: IDX header is truncated")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    count = math.prod(shape)
    if len(raw) - header < count * dtype.itemsize:
        raise InputError(
            f"{str(path)!r}: expected {count} values of shape {shape}, file is truncated"
        )
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


_IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def _idx_candidates(name: str) -> tuple[str, ...]:
    dotted = name.replace("-idx", ".idx")  # e.g. train-images.idx3-ubyte
    return (name, name + ".gz", dotted, dotted + ".gz")


def _mnist_like(
    root: PathLike,
    what: str,
    subdirs: Sequence[str],
    how: str,
    *,
    normalize: bool,
    n_train: int | None,
    n_test: int | None,
) -> tuple[ClassificationDataset, ClassificationDataset]:
    base = Path(root)
    files = search_files(base, subdirs, [_idx_candidates(n) for n in _IDX_FILES])
    if files is None:
        expected = ", ".join(_IDX_FILES) + " (each optionally gzipped, '.gz')"
        raise missing_files(what, base, subdirs, expected, how)
    x_tr, y_tr, x_te, y_te = (read_idx(f) for f in files)
    for x, f in ((x_tr, files[0]), (x_te, files[2])):
        if x.ndim != 3:
            raise InputError(f"{str(f)!r} holds shape {x.shape}, not (N, H, W) images")
    return to_datasets(
        x_tr[:, None],
        y_tr,
        x_te[:, None],
        y_te,
        num_classes=10,
        normalize=normalize,
        n_train=n_train,
        n_test=n_test,
    )


def mnist(
    root: PathLike, *, normalize: bool = True, n_train: int | None = None, n_test: int | None = None
) -> tuple[ClassificationDataset, ClassificationDataset]:
    """MNIST handwritten digits from IDX files in ``root`` (60000 + 10000, 1x28x28).

    Parameters
    ----------
    root : path-like
        Folder holding the four IDX files, or ``MNIST/raw`` (torchvision's layout)
        or ``mnist`` inside it.
    normalize : bool, default=True
        Standardize with the training mean and std.
    n_train, n_test : int, optional
        Keep only the first ``n`` samples of a split.

    Returns
    -------
    train, test : ClassificationDataset
        Images ``(1, 28, 28)`` float32, 10 classes.

    Raises
    ------
    FileNotFoundError
        If the files are missing; the message names the folders searched and the files.
    """
    return _mnist_like(
        root,
        "MNIST",
        ("", "MNIST/raw", "mnist"),
        "Get them from the MNIST database page (yann.lecun.com/exdb/mnist) or a mirror.",
        normalize=normalize,
        n_train=n_train,
        n_test=n_test,
    )


def fashion_mnist(
    root: PathLike, *, normalize: bool = True, n_train: int | None = None, n_test: int | None = None
) -> tuple[ClassificationDataset, ClassificationDataset]:
    """Fashion-MNIST from IDX files in ``root`` (60000 + 10000, 1x28x28, 10 classes).

    Parameters
    ----------
    root : path-like
        Folder holding the four IDX files (same names as MNIST), or
        ``FashionMNIST/raw`` or ``fashion-mnist`` inside it.
    normalize : bool, default=True
        Standardize with the training mean and std.
    n_train, n_test : int, optional
        Keep only the first ``n`` samples of a split.

    Returns
    -------
    train, test : ClassificationDataset
        Images ``(1, 28, 28)`` float32, 10 classes.

    Raises
    ------
    FileNotFoundError
        If the files are missing; the message names the folders searched and the files.
    """
    return _mnist_like(
        root,
        "Fashion-MNIST",
        ("", "FashionMNIST/raw", "fashion-mnist"),
        "Get them from the zalandoresearch/fashion-mnist repository (data/fashion).",
        normalize=normalize,
        n_train=n_train,
        n_test=n_test,
    )
