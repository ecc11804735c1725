"""The paper's small convolutional networks CNN-1-C, CNN-2-C and CNN-3-C (App. G)."""

from __future__ import annotations

from torch import nn

from topoloss.errors import InputError
from topoloss.models._common import check_positive_int

__all__ = ["cnn"]

#: Max-pooling kernel after each convolution, per number of convolutional layers
#: (the paper's Tables 2-4). Every variant downsamples by 8 in total, so the final
#: linear layer sees the same spatial size whatever the depth.
_POOLS: dict[int, tuple[int, ...]] = {1: (8,), 2: (2, 4), 3: (2, 2, 2)}


def cnn(
    n_layers: int = 1,
    channels: int = 32,
    *,
    in_channels: int = 3,
    num_classes: int = 10,
    image_size: int = 32,
    batch_norm: bool = False,
) -> nn.Sequential:
    """Build the paper's CNN-``n_layers``-``channels`` network.

    Each convolutional layer is ``Conv2d(k=5, padding=2)`` (spatial size kept),
    optionally ``BatchNorm2d`` (before the activation, as in the paper's §4.2),
    ``ReLU`` and a max-pooling. The pooling kernels are those of the paper's
    Tables 2-4::

        CNN-1-C: conv, pool 8
        CNN-2-C: conv, pool 2, conv, pool 4
        CNN-3-C: conv, pool 2, conv, pool 2, conv, pool 2

    then ``Flatten`` and ``Linear(C * s * s, num_classes)`` with
    ``s = image_size // 8``. On CIFAR-10 (``image_size=32``) this is the paper's
    ``Linear(16 C, 10)``; all three depths share the size of that last layer.
    (The paper's CNN-3-C has 32 channels; here every layer has ``channels``.)

    Parameters
    ----------
    n_layers : {1, 2, 3}, default=1
        Number of convolutional layers.
    channels : int, default=32
        Output channels of every convolution (the paper uses 32, 64, 128).
    in_channels : int, default=3
        Input channels (3 for CIFAR/SVHN, 1 for MNIST or 8x8 digits images).
    num_classes : int, default=10
        Number of outputs.
    image_size : int, default=32
        Height (= width) of the input images, ``>= 8``.
    batch_norm : bool, default=False
        Add ``BatchNorm2d`` after every convolution.

    Returns
    -------
    torch.nn.Sequential
        Input ``(B, in_channels, image_size, image_size)``, output ``(B, num_classes)``.

    Examples
    --------
    >>> net = cnn(2, 32)
    >>> sum(p.numel() for p in net.parameters())
    33194
    """
    n_layers = check_positive_int(n_layers, "n_layers")
    if n_layers not in _POOLS:
        raise InputError(f"n_layers must be 1, 2 or 3 (the paper's CNNs), got {n_layers=}")
    channels = check_positive_int(channels, "channels")
    in_channels = check_positive_int(in_channels, "in_channels")
    num_classes = check_positive_int(num_classes, "num_classes")
    image_size = check_positive_int(image_size, "image_size")
    if image_size < 8:
        raise InputError(f"image_size must be >= 8 (the CNNs downsample by 8), got {image_size=}")

    layers: list[nn.Module] = []
    fan_in = in_channels
    for pool in _POOLS[n_layers]:
        layers.append(nn.Conv2d(fan_in, channels, kernel_size=5, padding=2))
        if batch_norm:
            layers.append(nn.BatchNorm2d(channels))
        layers.append(nn.ReLU())
        layers.append(nn.MaxPool2d(pool))
        fan_in = channels
    side = image_size // 8  # floor(floor(n / a) / b) == floor(n / (a b))
    layers.append(nn.Flatten())
    layers.append(nn.Linear(channels * side * side, num_classes))
    return nn.Sequential(*layers)
