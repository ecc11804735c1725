"""The TO-score: distance from a loss barcode to the ideal one-bar barcode (SPEC §6)."""

from __future__ import annotations

import math
from typing import Any, Literal

import gudhi
import numpy as np
import numpy.typing as npt

from topoloss._validate import check_choice, check_number, finite_or_none
from topoloss.errors import InputError, InputTypeError
from topoloss.topology.barcode import Barcode

__all__ = ["barcode_summary", "ideal_diagram", "to_score", "wasserstein_to_ideal"]


def ideal_diagram(barcode: Barcode) -> np.ndarray:
    """The barcode of an ideal landscape: one infinite bar at the global minimum level."""
    if len(barcode) == 0:
        raise InputError("empty barcode")
    return np.array([[float(barcode.intervals[:, 0].min()), math.inf]])


def to_score(
    barcode: Barcode,
    *,
    metric: Literal["bottleneck", "wasserstein"] = "bottleneck",
    order: float = 1.0,
    internal_p: float = math.inf,
) -> float:
    """Topological Obstructions score of a loss barcode.

    ``TO = d(barcode, {[L_min, +inf)})``: with the bottleneck distance (L∞ ground
    metric) this is ``max_i (d_i - b_i) / 2`` over the finite bars; with the
    ``order``-Wasserstein distance (``internal_p = inf``), order 1 gives
    ``sum_i (d_i - b_i) / 2``.

    With another ground metric ``internal_p = q`` a finite bar's distance to the diagonal
    is ``2^(1/q) (d - b) / 2`` instead of ``(d - b) / 2``: ``internal_p=2`` matches
    ``persim.wasserstein`` (L2), which gives ``√2`` times the default score. The
    conventions of each tool are tabulated in ``docs/tda.md``.

    Parameters
    ----------
    barcode : Barcode
        A loss barcode from :func:`topoloss.loss_barcode`.
    metric : {"bottleneck", "wasserstein"}
        Distance between persistence diagrams: the bottleneck distance is computed by
        GUDHI, the Wasserstein distance in closed form (:func:`wasserstein_to_ideal`).
    order : float
        Order of the Wasserstein distance (ignored for the bottleneck).
    internal_p : float
        The ground metric ``L_q`` between diagram points, ``1 <= q <= inf``; default ``inf``
        (GUDHI's bottleneck and ``gudhi.wasserstein`` default; persim's ``bottleneck``).

    Returns
    -------
    float
        ``0`` for a single minimum, ``inf`` if the landscape graph is disconnected.

    Examples
    --------
    >>> from topoloss import LandscapeGraph, loss_barcode
    >>> g = LandscapeGraph.from_barriers([0.0, 1.0], [[0, 3], [3, 0]])
    >>> to_score(loss_barcode(g))
    1.0
    >>> round(to_score(loss_barcode(g), metric="wasserstein", internal_p=2), 6)  # persim.wasserstein
    1.414214
    """
    if not isinstance(barcode, Barcode):
        raise InputTypeError(f"expected a Barcode, got {type(barcode).__name__}")
    check_choice(metric, "metric", ("bottleneck", "wasserstein"))
    order = check_number(order, "order", low=1.0)
    internal_p = _check_internal_p(internal_p)
    if barcode.n_components > 1:
        return math.inf
    if metric == "bottleneck":
        if internal_p == math.inf:
            return float(gudhi.bottleneck_distance(barcode.to_diagram("keep"), ideal_diagram(barcode), e=0.0))
        return wasserstein_to_ideal(barcode.intervals, order=math.inf, internal_p=internal_p)
    return wasserstein_to_ideal(barcode.intervals, order=order, internal_p=internal_p)


def _check_internal_p(internal_p: float) -> float:
    try:
        q = float(internal_p)
    except (TypeError, ValueError):
        raise InputError(f"internal_p={internal_p!r}; expected a number >= 1 or inf") from None
    if math.isnan(q) or q < 1:
        raise InputError(f"internal_p={internal_p!r}; expected a number >= 1 or inf")
    return q


def wasserstein_to_ideal(intervals: npt.ArrayLike, *, order: float = 1.0, internal_p: float = math.inf) -> float:
    """``order``-Wasserstein distance (ground metric ``L_internal_p``, default ``L∞``) from a
    diagram to the ideal one-bar diagram ``{[min birth, +inf)}``, in closed form (SPEC §6).

    The ideal diagram has no finite point, so every finite bar ``[b, d]`` is matched to
    the diagonal at its L∞ distance ``(d - b) / 2``; the one essential bar is matched to
    the ideal bar at cost ``|b - b_ideal|`` (``0`` when it is born at the global
    minimum, as in every connected loss barcode). With any other number of essential
    bars the essential parts cannot be matched and the distance is ``inf``. So

    ``W_p = (sum_i ((d_i - b_i) / 2)^p + |b_ess - b_ideal|^p)^(1/p)``,

    (``order = inf`` gives the bottleneck distance, the largest term), which is what
    ``gudhi.wasserstein.wasserstein_distance(diagram, ideal, order=p, internal_p=inf,
    keep_essential_parts=True)`` computes by optimal transport (POT).

    Parameters
    ----------
    intervals : array_like, shape (n, 2)
        ``[birth, death]`` rows, ``death = inf`` for essential bars; finite births.
    order : float
        The order ``p >= 1``; ``inf`` for the bottleneck distance.
    internal_p : float
        Ground metric ``L_q``: a bar's distance to the diagonal is ``2^(1/q) (d - b) / 2``.

    Returns
    -------
    float

    Examples
    --------
    >>> wasserstein_to_ideal([[0.0, float("inf")], [1.0, 3.0], [2.0, 5.0]])
    2.5
    """
    iv = np.asarray(intervals, dtype=float).reshape(-1, 2)
    if iv.shape[0] == 0:
        raise InputError("empty barcode")
    order = float(order)
    if not order >= 1:
        raise InputError(f"order={order!r}; expected a number >= 1 or inf")
    q = _check_internal_p(internal_p)
    essential = ~np.isfinite(iv[:, 1])
    if int(essential.sum()) != 1:
        return math.inf
    half = (iv[~essential, 1] - iv[~essential, 0]) / 2.0
    if q != math.inf:
        half = half * 2.0 ** (1.0 / q)
    shift = abs(float(iv[essential, 0][0]) - float(iv[:, 0].min()))
    if order == math.inf:
        return float(max(float(half.max()) if half.size else 0.0, shift))
    cost = float(np.sum(half**order)) + shift**order
    return float(cost ** (1.0 / order))


def barcode_summary(barcode: Barcode) -> dict[str, Any]:
    """JSON-ready bars, saddles and TO-scores (``None`` stands for ``inf``).

    The object ``topoloss barcode --json`` prints and run directories store as
    ``barcode.json``: :meth:`Barcode.to_dict` plus ``to_score`` (bottleneck),
    ``to_score_wasserstein1`` and ``connected``.
    """

    return {
        **barcode.to_dict(),
        "to_score": finite_or_none(to_score(barcode)),
        "to_score_wasserstein1": finite_or_none(to_score(barcode, metric="wasserstein")),
        "connected": barcode.n_components == 1,
    }
