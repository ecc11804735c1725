"""The essential-bar policies of diagram conversions, and their default.

A loss barcode has one essential (infinite) bar per connected component. Most
vectorizations reject ``inf``, so every conversion (:meth:`Barcode.to_diagram
<topoloss.topology.barcode.Barcode.to_diagram>`, :func:`topoloss.tda.diagrams`,
:class:`~topoloss.tda.BarcodeDiagrams`, the ``to_giotto`` functions) takes an
``essential`` policy: ``"keep"``, ``"drop"``, ``"max"`` or a float cap
(:func:`essential_policy`).
"""

from __future__ import annotations

import enum
import math
import warnings
from typing import Literal, TypeAlias

import numpy as np

from topoloss.errors import InputError

__all__ = ["DEFAULT_ESSENTIAL", "NOT_GIVEN", "Essential", "NotGiven", "essential_policy", "keep_unless_given"]

#: The policy for essential (infinite) bars in conversions: keep ``inf``, drop the rows,
#: cap at the largest finite death (``"max"``) or cap at a given value.
Essential: TypeAlias = Literal["keep", "drop", "max"] | float

#: The essential-bar policy every conversion will default to: what persim's tools (which
#: ignore infinite deaths with a warning), giotto-tda (whose H0 diagrams drop the essential
#: bar: reduced homology) and ``gudhi.representations`` (which rejects ``inf``) expect.
#: :func:`~topoloss.tda.diagrams`, :class:`~topoloss.tda.BarcodeDiagrams` and the
#: ``to_giotto`` functions use it already; :meth:`Barcode.to_diagram`,
#: :meth:`Barcode.to_persistence` and :func:`essential_policy` still default to ``"keep"``,
#: with a FutureWarning, until the change. GUDHI's own format keeps them: :meth:`Barcode.to_gudhi`.
DEFAULT_ESSENTIAL: Literal["drop"] = "drop"


class NotGiven(enum.Enum):
    """The type of :data:`NOT_GIVEN`, the default of an ``essential`` argument whose default changes."""

    NOT_GIVEN = "not given"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


#: ``essential`` was not given: ``"keep"`` today, with a FutureWarning (see :func:`keep_unless_given`).
NOT_GIVEN = NotGiven.NOT_GIVEN


def keep_unless_given(essential: Essential | NotGiven, caller: str) -> Essential:
    """``essential``, or ``"keep"`` with a FutureWarning where it is :data:`NOT_GIVEN`.

    For the conversions whose default ``"keep"`` becomes :data:`DEFAULT_ESSENTIAL`;
    ``caller`` names the function in the message, which points at the caller's caller.
    """
    if not isinstance(essential, NotGiven):
        return essential
    warnings.warn(
        f"{caller} without essential= keeps the essential (infinite) bars; the default will change to "
        f"essential={DEFAULT_ESSENTIAL!r}, as in topoloss.tda. Pass essential='keep' (GUDHI's distances) "
        f"or essential='drop' explicitly",
        FutureWarning,
        stacklevel=3,
    )
    return "keep"


def essential_policy(intervals: np.ndarray, essential: Essential | NotGiven = NOT_GIVEN) -> np.ndarray:
    """Apply an essential-bar policy (see :meth:`Barcode.to_diagram`) to ``(n, 2)`` intervals.

    Without ``essential``: ``"keep"``, with a FutureWarning (the default will become
    :data:`DEFAULT_ESSENTIAL`).

    Raises
    ------
    InputError
        An unknown policy, or a cap that is NaN or infinite.
    """
    essential = keep_unless_given(essential, "essential_policy()")
    iv = np.array(intervals, dtype=float, copy=True).reshape(-1, 2)
    inf = ~np.isfinite(iv[:, 1])
    if isinstance(essential, str):
        if essential == "keep":
            return iv
        if essential == "drop":
            return iv[~inf]
        if essential == "max":
            finite = iv[~inf, 1]
            cap = float(finite.max()) if finite.size else -math.inf
            iv[inf, 1] = np.maximum(cap, iv[inf, 0])
            return iv
        raise InputError(f"essential={essential!r}; expected 'keep', 'drop', 'max' or a finite number")
    if isinstance(essential, bool) or not isinstance(essential, int | float | np.floating | np.integer) \
            or not math.isfinite(float(essential)):
        raise InputError(f"essential={essential!r}; expected 'keep', 'drop', 'max' or a finite number")
    iv[inf, 1] = np.maximum(float(essential), iv[inf, 0])
    return iv
