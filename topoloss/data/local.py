"""Image datasets read from files already on disk; topoloss never downloads.

Supported layouts (``ROOT`` is the folder you pass; the usual sub-folders are searched
too):

=============  =========================================================================
MNIST          ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
               ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (each may end in
               ``.gz``) in ``ROOT``, ``ROOT/MNIST/raw`` or ``ROOT/mnist``
Fashion-MNIST  the same IDX names in ``ROOT``, ``ROOT/FashionMNIST/raw`` or
               ``ROOT/fashion-mnist``
CIFAR-10       binary version ``cifar-10-batches-bin/data_batch_{1..5}.bin`` and
               ``test_batch.bin``; or the python version ``cifar-10-batches-py/``
CIFAR-100      binary version ``cifar-100-binary/train.bin`` and ``test.bin``; or the
               python version ``cifar-100-python/train`` and ``test``
SVHN           ``train_32x32.mat`` and ``test_32x32.mat`` (format 2) in ``ROOT`` or
               ``ROOT/svhn``
=============  =========================================================================

The CIFAR binary files are plain bytes and are preferred. The python version is a
pickle; it is read with a restricted unpickler that only rebuilds NumPy arrays
(see :mod:`topoloss.data._pickle`).

Every loader returns ``(train, test)`` :class:`ClassificationDataset` s with float32
images ``(N, C, H, W)`` scaled to ``[0, 1]`` and, with ``normalize``, standardized per
channel with the training statistics. ``n_train`` / ``n_test`` keep only the first
samples of each split (handy for small-scale landscapes).
"""

from __future__ import annotations

import gzip
import math
import os
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from topoloss.data._pickle import load_numpy_pickle
from topoloss.data.core import ClassificationDataset, standardize
from topoloss.errors import InputError

__all__ = ["cifar10", "cifar100", "fashion_mnist", "mnist", "read_cifar_bin", "read_idx", "svhn"]

PathLike = str | os.PathLike[str]

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


def _search(
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


def _missing(
    what: str, root: Path, subdirs: Sequence[str], expected: str, how: str
) -> FileNotFoundError:
    folders = ", ".join(repr(str(root / s if s else root)) for s in subdirs)
    return FileNotFoundError(
        f"{what} files not found; searched {folders}. Expected {expected}. {how} "
        "topoloss never downloads data."
    )


def _finish(
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
    files = _search(base, subdirs, [_idx_candidates(n) for n in _IDX_FILES])
    if files is None:
        expected = ", ".join(_IDX_FILES) + " (each optionally gzipped, '.gz')"
        raise _missing(what, base, subdirs, expected, how)
    x_tr, y_tr, x_te, y_te = (read_idx(f) for f in files)
    for x, f in ((x_tr, files[0]), (x_te, files[2])):
        if x.ndim != 3:
            raise InputError(f"{str(f)!r} holds shape {x.shape}, not (N, H, W) images")
    return _finish(
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
    found = _search(base, ("", "cifar-10-batches-bin"), [(n,) for n in bins])
    if found is not None:
        x_tr, y_tr = _cifar_bin(found[:5], 1, 0)
        x_te, y_te = _cifar_bin(found[5:], 1, 0)
    else:
        pys = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
        found = _search(base, ("", "cifar-10-batches-py"), [(n,) for n in pys])
        if found is None:
            expected = (
                "the binary version: cifar-10-batches-bin/ with "
                + ", ".join(bins)
                + "; or the python version: cifar-10-batches-py/ with "
                + ", ".join(pys)
            )
            raise _missing(
                "CIFAR-10",
                base,
                ("", "cifar-10-batches-bin", "cifar-10-batches-py"),
                expected,
                _CIFAR_HOW,
            )
        x_tr, y_tr = _cifar_python(found[:5], b"labels")
        x_te, y_te = _cifar_python(found[5:], b"labels")
    return _finish(
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
    found = _search(base, ("", "cifar-100-binary"), [("train.bin",), ("test.bin",)])
    if found is not None:
        column = 1 if labels == "fine" else 0
        x_tr, y_tr = _cifar_bin(found[:1], 2, column)
        x_te, y_te = _cifar_bin(found[1:], 2, column)
    else:
        found = _search(base, ("", "cifar-100-python"), [("train",), ("test",)])
        if found is None:
            expected = (
                "the binary version: cifar-100-binary/ with train.bin, test.bin; "
                "or the python version: cifar-100-python/ with train, test"
            )
            raise _missing(
                "CIFAR-100",
                base,
                ("", "cifar-100-binary", "cifar-100-python"),
                expected,
                _CIFAR_HOW,
            )
        key = b"fine_labels" if labels == "fine" else b"coarse_labels"
        x_tr, y_tr = _cifar_python(found[:1], key)
        x_te, y_te = _cifar_python(found[1:], key)
    return _finish(
        x_tr,
        y_tr,
        x_te,
        y_te,
        num_classes=100 if labels == "fine" else 20,
        normalize=normalize,
        n_train=n_train,
        n_test=n_test,
    )


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
    found = _search(base, subdirs, [("train_32x32.mat",), ("test_32x32.mat",)])
    if found is None:
        raise _missing(
            "SVHN",
            base,
            subdirs,
            "train_32x32.mat, test_32x32.mat",
            "Get format 2 from the SVHN page (ufldl.stanford.edu/housenumbers).",
        )
    (x_tr, y_tr), (x_te, y_te) = (_read_svhn(f) for f in found)
    return _finish(
        x_tr, y_tr, x_te, y_te, num_classes=10, normalize=normalize, n_train=n_train, n_test=n_test
    )
