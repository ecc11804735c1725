"""Fully connected networks (the paper's §4.1 experiments)."""

from __future__ import annotations

from typing import Literal

from torch import nn

from topoloss.models._common import check_positive_int, make_activation

__all__ = ["fcn"]

Activation = Literal["relu", "tanh", "sigmoid", "gelu", "elu", "leaky_relu", "softplus"]


def fcn(
    in_features: int,
    num_classes: int,
    *,
    depth: int = 2,
    width: int = 32,
    activation: Activation = "relu",
    batch_norm: bool = False,
) -> nn.Sequential:
    """Build a fully connected network with ``depth`` hidden layers of ``width`` units.

    The layers are, in order::

        Flatten,
        [Linear(in, width), (BatchNorm1d(width),) act] * depth,
        Linear(width, num_classes)

    so ``depth`` counts *hidden* layers, as the paper does ("fully connected networks
    with 2, 3, 4, 6 and 8 hidden layers"). BatchNorm, when asked for, sits before the
    activation. ``depth=0`` gives a linear classifier. Because the first module is
    :class:`torch.nn.Flatten`, the network accepts images as well as vectors.

    With ReLU, ``fcn(depth=d)`` and ``fcn(depth=d + 1)`` have the module layout that
    :func:`topoloss.models.deepen` produces, so their parameters can be embedded
    into each other (SPEC §9).

    Parameters
    ----------
    in_features : int
        Number of input features after flattening (``64`` for digits, ``784`` for MNIST).
    num_classes : int
        Number of outputs (logits).
    depth : int, default=2
        Number of hidden layers, ``>= 0``.
    width : int, default=32
        Units per hidden layer, ``>= 1``.
    activation : {"relu", "tanh", "sigmoid", "gelu", "elu", "leaky_relu", "softplus"}
        Hidden activation.
    batch_norm : bool, default=False
        Insert ``BatchNorm1d`` between each hidden ``Linear`` and its activation.

    Returns
    -------
    torch.nn.Sequential
        The network; input ``(B, *)`` with ``in_features`` elements per sample,
        output ``(B, num_classes)``.

    Examples
    --------
    >>> net = fcn(64, 10, depth=3, width=16)
    >>> sum(p.numel() for p in net.parameters())
    1754
    """
    in_features = check_positive_int(in_features, "in_features")
    num_classes = check_positive_int(num_classes, "num_classes")
    depth = check_positive_int(depth, "depth", minimum=0)
    width = check_positive_int(width, "width")
    make_activation(activation)  # validate the name before building anything

    layers: list[nn.Module] = [nn.Flatten()]
    fan_in = in_features
    for _ in range(depth):
        layers.append(nn.Linear(fan_in, width))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(make_activation(activation))
        fan_in = width
    layers.append(nn.Linear(fan_in, num_classes))
    return nn.Sequential(*layers)
