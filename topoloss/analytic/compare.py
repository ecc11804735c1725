"""Comparing a loss barcode with the exact barcode of an analytic landscape.

One rule for short bars, one scale
----------------------------------
Every threshold here is a fraction of one reference quantity, the **value range of a
barcode**: the largest finite value in it (birth or death) minus the lowest birth, see
:func:`value_range`. It depends on the bars alone, not on the box the landscape is
sampled on (whose walls can be far higher than any saddle).

- Grid artifacts: an exact barcode on a grid has extra bars of length ``O(h**2)`` in
  valleys not aligned with the grid. :func:`artifact_length` is ``1e-3`` times the value
  range; ``topoloss exact`` drops bars up to that length by default.
- Comparison: :func:`compare_to_exact` drops, on both sides, the bars of length at most
  ``tolerance`` times the exact barcode's value range, and calls the two barcodes equal
  when their bottleneck distance is at most that much too.

Dropping is one rule everywhere (:func:`drop_short_bars`): a finite bar whose length is
at most ``min_length`` is dropped; essential bars always stay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import gudhi
import numpy as np
import numpy.typing as npt

from topoloss._validate import check_number, finite_or_none
from topoloss.errors import InputTypeError
from topoloss.topology.barcode import Barcode

__all__ = [
    "ARTIFACT_FRACTION",
    "ExactComparison",
    "artifact_length",
    "compare_to_exact",
    "drop_short_bars",
    "value_range",
]

#: Bars at most this fraction of the value range are grid artifacts.
ARTIFACT_FRACTION = 1e-3


def value_range(barcode_or_values: Barcode | npt.ArrayLike) -> float:
    """The reference scale of every threshold: the spread of a barcode's finite values.

    Parameters
    ----------
    barcode_or_values : Barcode or array_like
        A barcode: the largest finite value among its births and deaths minus its
        lowest birth. An array (e.g. sampled landscape values): its largest minus its
        smallest finite entry.

    Returns
    -------
    float
        ``0.0`` when there is at most one finite value.

    Examples
    --------
    >>> from topoloss import LandscapeGraph, loss_barcode
    >>> value_range(loss_barcode(LandscapeGraph.from_barriers([0.0, 1.0], [[0, 3], [3, 0]])))
    3.0
    """
    if isinstance(barcode_or_values, Barcode):
        iv = barcode_or_values.intervals
        if iv.shape[0] == 0:
            return 0.0
        finite = iv[np.isfinite(iv)]
        return float(finite.max() - iv[:, 0].min()) if finite.size else 0.0
    values = np.asarray(barcode_or_values, dtype=float).ravel()
    finite = values[np.isfinite(values)]
    return float(finite.max() - finite.min()) if finite.size else 0.0


def artifact_length(barcode_or_values: Barcode | npt.ArrayLike) -> float:
    """Default length up to which a bar of an exact (grid) barcode is a grid artifact.

    ``ARTIFACT_FRACTION * value_range(barcode_or_values)``, i.e. 0.1 % of the value range.

    Examples
    --------
    >>> artifact_length([0.0, 5.0, 250.0])
    0.25
    """
    return ARTIFACT_FRACTION * value_range(barcode_or_values)


def drop_short_bars(barcode: Barcode, min_length: float) -> Barcode:
    """A copy of ``barcode`` without the finite bars of length at most ``min_length``.

    Essential (infinite) bars always stay. ``min_length = 0`` drops only zero-length
    bars.

    Parameters
    ----------
    barcode : Barcode
    min_length : float
        ``>= 0``; e.g. :func:`artifact_length` of the barcode.

    Returns
    -------
    Barcode

    Raises
    ------
    InputError
        If ``min_length`` is negative or not a finite number.
    """
    if not isinstance(barcode, Barcode):
        raise InputTypeError(f"expected a Barcode, got {type(barcode).__name__}")
    min_length = check_number(min_length, "min_length", low=0.0)
    return barcode.drop_short(min_length)


@dataclass(frozen=True)
class ExactComparison:
    """A loss barcode measured against the exact barcode of the same landscape.

    Attributes
    ----------
    distance : float
        Bottleneck distance between the two barcodes after short bars are dropped
        (``inf`` when they have different numbers of essential bars).
    scale : float
        The value range of the exact barcode (:func:`value_range`); ``1.0`` when that
        is ``0`` (a single exact minimum), so that distances stay absolute.
    relative : float
        ``distance / scale``.
    min_length : float
        Bars of length at most this were dropped on both sides.
    n_bars : int
        Bars of the loss barcode left after dropping.
    n_exact_bars : int
        Bars of the exact barcode left after dropping.
    tolerance : float
        The fraction of ``scale`` the distance may reach.
    within_tolerance : bool
        ``relative <= tolerance``.
    """

    distance: float
    scale: float
    relative: float
    min_length: float
    n_bars: int
    n_exact_bars: int
    tolerance: float
    within_tolerance: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields (``None`` stands for ``inf``)."""
        return {
            "distance": finite_or_none(self.distance),
            "scale": self.scale,
            "relative": finite_or_none(self.relative),
            "min_length": self.min_length,
            "n_bars": self.n_bars,
            "n_exact_bars": self.n_exact_bars,
            "tolerance": self.tolerance,
            "within_tolerance": self.within_tolerance,
        }


def compare_to_exact(
    barcode: Barcode,
    exact: Barcode,
    *,
    tolerance: float = 0.02,
    min_length: float | None = None,
) -> ExactComparison:
    """Bottleneck distance from a loss barcode to the exact one, relative to its scale.

    Parameters
    ----------
    barcode : Barcode
        The loss barcode found by optimized paths.
    exact : Barcode
        The exact barcode (:func:`topoloss.analytic.exact_barcode`).
    tolerance : float
        Fraction of the scale (the value range of ``exact``) up to which the two count
        as equal; default 2 %.
    min_length : float, optional
        Bars of length at most this are dropped on both sides before comparing;
        default ``tolerance * scale`` (bars too short to matter at that tolerance).

    Returns
    -------
    ExactComparison

    Raises
    ------
    InputError
        If ``tolerance`` or ``min_length`` is negative or not finite.

    Examples
    --------
    >>> from topoloss import Barcode
    >>> inf = float("inf")
    >>> exact = Barcode((0, 1), [[0.0, inf], [1.0, 3.0]], (None, (1, 0)), (None, 0))
    >>> found = Barcode((0, 1), [[0.0, inf], [1.0, 3.5]], (None, (1, 0)), (None, 0))
    >>> c = compare_to_exact(found, exact, tolerance=0.1)
    >>> c.distance, c.scale, round(c.relative, 4), c.within_tolerance
    (0.5, 3.0, 0.1667, False)
    """
    for name, bc in (("barcode", barcode), ("exact", exact)):
        if not isinstance(bc, Barcode):
            raise InputTypeError(f"{name}: expected a Barcode, got {type(bc).__name__}")
    tolerance = check_number(tolerance, "tolerance", low=0.0)
    scale = value_range(exact) or 1.0
    cut = tolerance * scale if min_length is None else check_number(min_length, "min_length", low=0.0)
    ours, truth = barcode.drop_short(cut), exact.drop_short(cut)
    distance = float(gudhi.bottleneck_distance(ours.to_diagram("keep"), truth.to_diagram("keep"), e=0.0))
    relative = distance / scale
    return ExactComparison(
        distance=distance,
        scale=float(scale),
        relative=relative,
        min_length=float(cut),
        n_bars=len(ours),
        n_exact_bars=len(truth),
        tolerance=tolerance,
        within_tolerance=bool(math.isfinite(relative) and relative <= tolerance),
    )

