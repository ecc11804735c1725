"""Dataset containers and their description: :class:`DatasetInfo`, :func:`as_dataset`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset

from topoloss.errors import InputError

__all__ = ["ClassificationDataset", "DatasetInfo", "as_dataset", "dataset_info", "materialize"]


@dataclass(frozen=True)
class DatasetInfo:
    """What a model needs to know about a dataset to be sized for it.

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one input sample: ``(64,)`` for flat digits, ``(1, 28, 28)`` for
        MNIST, ``(block_size,)`` for token windows.
    num_classes : int
        Number of classes (the vocabulary size for text).

    Examples
    --------
    >>> from topoloss.models import get_model
    >>> info = DatasetInfo((1, 8, 8), 10)
    >>> net = get_model("cnn:channels=4", input_shape=info.input_shape,
    ...                 num_classes=info.num_classes)
    """

    input_shape: tuple[int, ...]
    num_classes: int

    def __post_init__(self) -> None:
        shape = tuple(int(s) for s in self.input_shape)
        if any(s < 1 for s in shape):
            raise InputError(f"input_shape={self.input_shape!r} must hold positive sizes")
        if int(self.num_classes) < 1:
            raise InputError(f"num_classes={self.num_classes!r} must be >= 1")
        object.__setattr__(self, "input_shape", shape)
        object.__setattr__(self, "num_classes", int(self.num_classes))


class ClassificationDataset(TensorDataset):
    """A :class:`~torch.utils.data.TensorDataset` of inputs and integer labels.

    Items are ``(x, y)`` with ``x`` float32 and ``y`` an int64 scalar; the dataset
    also carries its :class:`DatasetInfo`.

    Parameters
    ----------
    inputs : Tensor
        Inputs ``(N, *input_shape)``.
    targets : Tensor
        Integer labels ``(N,)`` in ``[0, num_classes)``.
    num_classes : int, optional
        Number of classes; default ``targets.max() + 1``. Give it explicitly for a
        split that may miss the last class.

    Attributes
    ----------
    info : DatasetInfo
        Input shape and number of classes.
    """

    def __init__(self, inputs: Tensor, targets: Tensor, *, num_classes: int | None = None) -> None:
        if inputs.shape[0] != targets.shape[0]:
            raise InputError(
                f"inputs and targets differ in length: {inputs.shape[0]} != {targets.shape[0]}"
            )
        if targets.dim() != 1 or targets.is_floating_point() or targets.is_complex():
            raise InputError(
                f"targets must be 1-D integer labels, got shape {tuple(targets.shape)} "
                f"and dtype {targets.dtype}"
            )
        targets = targets.to(torch.int64)
        top = int(targets.max()) + 1 if targets.numel() else 1
        if num_classes is None:
            num_classes = top
        if targets.numel() and (int(targets.min()) < 0 or top > num_classes):
            raise InputError(f"labels must lie in [0, {num_classes=}), got up to {top - 1}")
        super().__init__(inputs, targets)
        self.info = DatasetInfo(tuple(inputs.shape[1:]), num_classes)

    @property
    def inputs(self) -> Tensor:
        """All inputs, ``(N, *input_shape)``."""
        return self.tensors[0]

    @property
    def targets(self) -> Tensor:
        """All labels, ``(N,)`` int64."""
        return self.tensors[1]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n={len(self)}, input_shape={self.info.input_shape}, "
            f"num_classes={self.info.num_classes})"
        )


def _labels_to_info(x0: Tensor, labels: Tensor) -> DatasetInfo:
    if labels.is_floating_point() or labels.is_complex():
        raise InputError(
            f"cannot infer num_classes from non-integer targets of dtype {labels.dtype}"
        )
    return DatasetInfo(tuple(x0.shape), int(labels.max()) + 1)


def dataset_info(dataset: Dataset[Any]) -> DatasetInfo:
    """Describe a dataset's input shape and number of classes.

    Uses the dataset's ``info`` attribute when it has one (every dataset of
    :mod:`topoloss.data` does, and a :class:`~torch.utils.data.Subset` of one);
    otherwise reads the shape of the first input and scans the integer labels
    (``num_classes = max label + 1``).

    Parameters
    ----------
    dataset : torch.utils.data.Dataset
        A non-empty map-style dataset of ``(x, y)`` pairs.

    Returns
    -------
    DatasetInfo
        The input shape and number of classes.

    Raises
    ------
    ValueError
        If the dataset is empty or its labels are not integers.
    """
    info = getattr(dataset, "info", None)
    if isinstance(info, DatasetInfo):
        return info
    if isinstance(dataset, Subset):
        return dataset_info(dataset.dataset)
    if isinstance(dataset, TensorDataset) and len(dataset.tensors) == 2:
        x, y = dataset.tensors
        if len(x) == 0:
            raise InputError("cannot describe an empty dataset")
        return _labels_to_info(x[0], y)
    n = len(dataset)  # type: ignore[arg-type]
    if n == 0:
        raise InputError("cannot describe an empty dataset")
    x0 = torch.as_tensor(dataset[0][0])
    labels = torch.stack([torch.as_tensor(dataset[i][1]).reshape(-1) for i in range(n)])
    return _labels_to_info(x0, labels)


def as_dataset(data: Dataset[Any] | Sequence[Any]) -> Dataset[Any]:
    """Return ``data`` as a map-style dataset.

    Parameters
    ----------
    data : Dataset or (X, y)
        A :class:`~torch.utils.data.Dataset` (returned unchanged) or a pair of
        tensors / NumPy arrays with equal first dimension. Floating inputs become
        float32; integer 1-D labels give a :class:`ClassificationDataset`, other
        targets a plain :class:`~torch.utils.data.TensorDataset`.

    Returns
    -------
    torch.utils.data.Dataset
        The dataset.

    Raises
    ------
    ValueError
        If the pair has mismatched lengths, or ``data`` is neither a dataset nor a
        pair.

    Examples
    --------
    >>> import numpy as np
    >>> ds = as_dataset((np.zeros((4, 2)), np.array([0, 1, 1, 0])))
    >>> ds.info
    DatasetInfo(input_shape=(2,), num_classes=2)
    """
    if isinstance(data, Dataset):
        return data
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise InputError(
            f"data must be a torch Dataset or an (X, y) pair, got {type(data).__name__}"
            + (f" of length {len(data)}" if isinstance(data, (tuple, list)) else "")
        )
    x, y = (torch.as_tensor(np.asarray(v) if not isinstance(v, Tensor) else v) for v in data)
    if x.dim() == 0 or y.dim() == 0 or len(x) != len(y):
        raise InputError(
            f"X and y must have the same length, got len(X)={len(x) if x.dim() else 0} "
            f"and len(y)={len(y) if y.dim() else 0}"
        )
    if x.is_floating_point():
        x = x.to(torch.float32)
    if y.dim() == 1 and not (y.is_floating_point() or y.is_complex() or y.dtype == torch.bool):
        return ClassificationDataset(x, y)
    return TensorDataset(x, y)


def standardize(train: Tensor, test: Tensor, *, inplace: bool = False) -> tuple[Tensor, Tensor]:
    """Subtract the training mean and divide by the training std, per channel.

    Image batches ``(N, C, H, W)`` get one mean and std per channel; other inputs
    ``(N, *)`` get a single scalar pair. A zero std is replaced by 1.

    Parameters
    ----------
    train, test : Tensor
        Float inputs; the statistics come from ``train`` only.
    inplace : bool, default=False
        Overwrite ``train`` and ``test`` instead of allocating new tensors.

    Returns
    -------
    tuple of Tensor
        The standardized ``(train, test)``.
    """
    dims = (0, 2, 3) if train.dim() == 4 else tuple(range(train.dim()))
    mean = train.mean(dim=dims, keepdim=True)
    std = train.std(dim=dims, keepdim=True)
    std = torch.where(std > 0, std, torch.ones_like(std))
    if train.dim() != 4:
        mean, std = mean.reshape(()), std.reshape(())
    if inplace:
        return train.sub_(mean).div_(std), test.sub_(mean).div_(std)
    return (train - mean) / std, (test - mean) / std


def materialize(data: Any, name: str, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    """Materialize a dataset of ``(x, y)`` pairs into two tensors (floating inputs in
    ``dtype``); errors name the dataset as ``name``."""
    try:
        ds = as_dataset(data)
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None
    if isinstance(ds, TensorDataset) and len(ds.tensors) == 2:
        x, y = ds.tensors
    else:
        try:
            parts = list(DataLoader(ds, batch_size=1024, shuffle=False))
            x = torch.cat([torch.as_tensor(p[0]) for p in parts])
            y = torch.cat([torch.as_tensor(p[1]) for p in parts])
        except Exception as exc:  # noqa: BLE001 - any failure means "not (x, y) items"
            raise InputError(f"{name} must yield (input, target) pairs of tensors: {exc}") from None
    if len(x) == 0:
        raise InputError(f"{name} is empty")
    if x.is_floating_point():
        x = x.to(dtype)
    return x, y
