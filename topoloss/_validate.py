"""Validation at the edges and JSON conversion: the small helpers every module shares.

Every ``check_*`` converts, returns the clean value, and raises
:class:`~topoloss.errors.InputError` (a ``ValueError``) naming the offending item.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from topoloss.errors import InputError

__all__ = ["check_choice", "check_int", "check_number", "check_optional_int", "check_optional_number",
           "finite_or_none", "frozen_array", "plain"]


def check_int(value: Any, name: str, *, low: int | None = None) -> int:
    """``value`` as an ``int`` (not a bool, not a float) that is ``>= low``.

    >>> check_int(3, "bends", low=0)
    3
    >>> check_int(-1, "bends", low=0)
    Traceback (most recent call last):
    ...
    topoloss.errors.InputError: bends=-1; expected an integer >= 0
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputError(f"{name}={value!r}; expected an integer" + (f" >= {low}" if low is not None else ""))
    if low is not None and value < low:
        raise InputError(f"{name}={value!r}; expected an integer >= {low}")
    return int(value)


def check_number(
    value: Any, name: str, *, low: float | None = None, strict: bool = False,
    high: float | None = None, finite: bool = True,
) -> float:
    """``value`` as a ``float``: a real number (not a bool), finite unless ``finite=False``,
    ``>= low`` (``> low`` if ``strict``) and ``< high``.

    >>> check_number(0.5, "lr", low=0, strict=True)
    0.5
    >>> check_number(float("inf"), "lr")
    Traceback (most recent call last):
    ...
    topoloss.errors.InputError: lr=inf; expected a finite number
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"{name}={value!r}; expected a number")
    x = float(value)
    if math.isnan(x) or (finite and not math.isfinite(x)):
        raise InputError(f"{name}={x!r}; expected a finite number")
    if low is not None and not (x > low if strict else x >= low):
        raise InputError(f"{name}={x!r}; expected a number {'>' if strict else '>='} {low}")
    if high is not None and not x < high:
        raise InputError(f"{name}={x!r}; expected a number < {high}")
    return x


def check_optional_int(value: Any, name: str, *, low: int | None = None) -> int | None:
    """``None`` (an automatic value), else :func:`check_int`.

    >>> check_optional_int(None, "steps", low=1) is None, check_optional_int(5, "steps", low=1)
    (True, 5)
    """
    return None if value is None else check_int(value, name, low=low)


def check_optional_number(value: Any, name: str, *, low: float | None = None, strict: bool = False) -> float | None:
    """``None`` (an automatic value), else :func:`check_number`.

    >>> check_optional_number(None, "lr", low=0, strict=True) is None
    True
    """
    return None if value is None else check_number(value, name, low=low, strict=strict)


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``.

    >>> check_choice("sgd", "optimizer", ("sgd", "adam"))
    'sgd'
    """
    if value not in choices:
        raise InputError(f"{name}={value!r}; expected one of {', '.join(map(repr, choices))}")
    return str(value)


def finite_or_none(x: float) -> float | None:
    """``x`` as a float, or ``None`` where it is infinite or NaN (JSON has no ``inf``).

    >>> finite_or_none(float("inf")) is None
    True
    """
    x = float(x)
    return x if math.isfinite(x) else None


def frozen_array(a: Any, dtype: Any = float) -> np.ndarray:
    """A read-only 1-D copy of ``a``: a frozen dataclass stays frozen all the way down."""
    out = np.array(a, dtype=dtype, copy=True).reshape(-1)
    out.setflags(write=False)
    return out


def plain(value: Any) -> Any:
    """numpy / torch scalars and arrays (also inside mappings and lists) as plain JSON values;
    ``nan`` becomes ``None`` and infinities the strings ``"inf"`` / ``"-inf"``.

    >>> plain({"a": np.float64(0.5), "b": [np.inf]})
    {'a': 0.5, 'b': ['inf']}
    """
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "tolist"):
        return plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value
