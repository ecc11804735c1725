"""Validation helpers shared by the model builders."""

from __future__ import annotations

from typing import Any

from torch import nn

from topoloss.errors import InputError

__all__ = ["ACTIVATIONS", "check_positive_int", "make_activation"]

#: Activation names accepted by the builders, mapped to their module classes.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "softplus": nn.Softplus,
}


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an ``int``, raising ``ValueError`` if it is below ``minimum``.

    Parameters
    ----------
    value : Any
        The value to check; bools and non-integral numbers are rejected.
    name : str
        The argument name used in the error message.
    minimum : int, default=1
        The smallest accepted value.

    Returns
    -------
    int
        The checked value.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            as_int = int(value)
        except (TypeError, ValueError):
            raise InputError(f"{name} must be an integer, got {value!r}") from None
        if isinstance(value, bool) or as_int != value:
            raise InputError(f"{name} must be an integer, got {value!r}")
        value = as_int
    if value < minimum:
        raise InputError(f"{name} must be >= {minimum}, got {name}={value!r}")
    return value


def make_activation(name: str) -> nn.Module:
    """Return a fresh activation module for ``name`` (one of :data:`ACTIVATIONS`).

    Parameters
    ----------
    name : str
        Activation name, e.g. ``"relu"``.

    Returns
    -------
    torch.nn.Module
        A new, parameter-free activation module.
    """
    try:
        return ACTIVATIONS[name]()
    except (KeyError, TypeError):
        raise InputError(
            f"activation={name!r} is not known; choose one of {sorted(ACTIVATIONS)}"
        ) from None
