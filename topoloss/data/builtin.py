"""Datasets that need no files: scikit-learn's digits and synthetic 2-D problems.

Every function returns ``(train, test)`` as :class:`ClassificationDataset` s (float32
inputs, int64 labels), split with a stratified, seeded shuffle. scikit-learn is
imported on first use.
"""

from __future__ import annotations

import numpy as np
import torch

from topoloss.data.core import ClassificationDataset, standardize
from topoloss.errors import InputError

__all__ = ["blobs", "circles", "digits", "moons"]


def _check_common(n_samples: int | None, test_size: float) -> None:
    if n_samples is not None and (
        isinstance(n_samples, bool) or int(n_samples) != n_samples or n_samples < 4
    ):
        raise InputError(f"n_samples must be an integer >= 4, got {n_samples=}")
    if not 0.0 < float(test_size) < 1.0:
        raise InputError(f"test_size must lie strictly between 0 and 1, got {test_size=}")


def _split(
    x: np.ndarray,
    y: np.ndarray,
    *,
    test_size: float,
    seed: int,
    normalize: bool,
    num_classes: int,
    image_shape: tuple[int, ...] | None = None,
) -> tuple[ClassificationDataset, ClassificationDataset]:
    from sklearn.model_selection import train_test_split

    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=test_size, random_state=seed, stratify=y
    )
    tr = torch.as_tensor(x_tr, dtype=torch.float32)
    te = torch.as_tensor(x_te, dtype=torch.float32)
    if image_shape is not None:
        tr, te = tr.reshape(-1, *image_shape), te.reshape(-1, *image_shape)
    if normalize:
        tr, te = standardize(tr, te)
    return (
        ClassificationDataset(tr, torch.as_tensor(y_tr), num_classes=num_classes),
        ClassificationDataset(te, torch.as_tensor(y_te), num_classes=num_classes),
    )


def digits(
    *, as_images: bool = False, test_size: float = 0.2, seed: int = 0, normalize: bool = True
) -> tuple[ClassificationDataset, ClassificationDataset]:
    """scikit-learn's 8x8 handwritten digits (1797 samples, 10 classes), offline.

    Pixels ``0..16`` are scaled to ``[0, 1]``; with ``normalize`` they are then
    standardized with the training mean and std.

    Parameters
    ----------
    as_images : bool, default=False
        Return images ``(1, 8, 8)`` (for CNNs) instead of flat 64-vectors.
    test_size : float, default=0.2
        Fraction of the samples held out (stratified by class).
    seed : int, default=0
        Seed of the split.
    normalize : bool, default=True
        Standardize with training statistics.

    Returns
    -------
    train, test : ClassificationDataset
        Inputs ``(64,)`` or ``(1, 8, 8)`` float32, labels int64 in ``0..9``.

    Examples
    --------
    >>> train, test = digits()
    >>> len(train), len(test), train.info
    (1437, 360, DatasetInfo(input_shape=(64,), num_classes=10))
    """
    from sklearn.datasets import load_digits

    _check_common(None, test_size)
    bunch = load_digits()
    return _split(
        bunch.data / 16.0,
        bunch.target,
        test_size=test_size,
        seed=seed,
        normalize=normalize,
        num_classes=10,
        image_shape=(1, 8, 8) if as_images else None,
    )


def moons(
    n_samples: int = 512,
    *,
    noise: float = 0.1,
    test_size: float = 0.2,
    seed: int = 0,
    normalize: bool = True,
) -> tuple[ClassificationDataset, ClassificationDataset]:
    """Two interleaving half circles in 2-D (:func:`sklearn.datasets.make_moons`).

    Parameters
    ----------
    n_samples : int, default=512
        Total number of points, split into train and test.
    noise : float, default=0.1
        Std of the Gaussian noise added to the points.
    test_size : float, default=0.2
        Fraction held out.
    seed : int, default=0
        Seed of the generator and of the split.
    normalize : bool, default=True
        Standardize with training statistics.

    Returns
    -------
    train, test : ClassificationDataset
        Inputs ``(2,)``, two classes.
    """
    _check_common(n_samples, test_size)
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=int(n_samples), noise=noise, random_state=seed)
    return _split(x, y, test_size=test_size, seed=seed, normalize=normalize, num_classes=2)


def circles(
    n_samples: int = 512,
    *,
    noise: float = 0.05,
    factor: float = 0.5,
    test_size: float = 0.2,
    seed: int = 0,
    normalize: bool = True,
) -> tuple[ClassificationDataset, ClassificationDataset]:
    """A small circle inside a large one in 2-D (:func:`sklearn.datasets.make_circles`).

    Parameters
    ----------
    n_samples : int, default=512
        Total number of points.
    noise : float, default=0.05
        Std of the Gaussian noise.
    factor : float, default=0.5
        Ratio of the inner to the outer radius, in ``(0, 1)``.
    test_size : float, default=0.2
        Fraction held out.
    seed : int, default=0
        Seed of the generator and of the split.
    normalize : bool, default=True
        Standardize with training statistics.

    Returns
    -------
    train, test : ClassificationDataset
        Inputs ``(2,)``, two classes.
    """
    _check_common(n_samples, test_size)
    if not 0.0 < factor < 1.0:
        raise InputError(f"factor must lie strictly between 0 and 1, got {factor=}")
    from sklearn.datasets import make_circles

    x, y = make_circles(n_samples=int(n_samples), noise=noise, factor=factor, random_state=seed)
    return _split(x, y, test_size=test_size, seed=seed, normalize=normalize, num_classes=2)


def blobs(
    n_samples: int = 512,
    *,
    centers: int = 4,
    n_features: int = 2,
    cluster_std: float = 1.0,
    test_size: float = 0.2,
    seed: int = 0,
    normalize: bool = True,
) -> tuple[ClassificationDataset, ClassificationDataset]:
    """A mixture of isotropic Gaussians, one class each (:func:`sklearn.datasets.make_blobs`).

    Parameters
    ----------
    n_samples : int, default=512
        Total number of points.
    centers : int, default=4
        Number of Gaussians (= classes), ``>= 2``.
    n_features : int, default=2
        Input dimension.
    cluster_std : float, default=1.0
        Std of each Gaussian; larger values make the classes overlap.
    test_size : float, default=0.2
        Fraction held out.
    seed : int, default=0
        Seed of the generator and of the split.
    normalize : bool, default=True
        Standardize with training statistics.

    Returns
    -------
    train, test : ClassificationDataset
        Inputs ``(n_features,)``, ``centers`` classes.
    """
    _check_common(n_samples, test_size)
    if isinstance(centers, bool) or int(centers) != centers or centers < 2:
        raise InputError(f"centers must be an integer >= 2, got {centers=}")
    if isinstance(n_features, bool) or int(n_features) != n_features or n_features < 1:
        raise InputError(f"n_features must be an integer >= 1, got {n_features=}")
    if not cluster_std > 0:
        raise InputError(f"cluster_std must be positive, got {cluster_std=}")
    from sklearn.datasets import make_blobs

    x, y = make_blobs(
        n_samples=int(n_samples),
        centers=int(centers),
        n_features=int(n_features),
        cluster_std=cluster_std,
        random_state=seed,
    )
    return _split(
        x, y, test_size=test_size, seed=seed, normalize=normalize, num_classes=int(centers)
    )
