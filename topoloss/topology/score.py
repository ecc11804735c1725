"""The TO-score: distance from a loss barcode to the ideal one-bar barcode (SPEC §6)."""

from __future__ import annotations

import math
from typing import Any, Literal

import gudhi
import numpy as np

from topoloss.topology.barcode import Barcode

__all__ = ["barcode_summary", "ideal_diagram", "to_score"]


def ideal_diagram(barcode: Barcode) -> np.ndarray:
    """The barcode of an ideal landscape: one infinite bar at the global minimum level."""
    if len(barcode) == 0:
        raise ValueError("empty barcode")
    return np.array([[float(barcode.intervals[:, 0].min()), math.inf]])


def to_score(
    barcode: Barcode,
    *,
    metric: Literal["bottleneck", "wasserstein"] = "bottleneck",
    order: float = 1.0,
) -> float:
    """Topological Obstructions score of a loss barcode.

    ``TO = d(barcode, {[L_min, +inf)})``: with the bottleneck distance (L∞ ground
    metric) this is ``max_i (d_i - b_i) / 2`` over the finite bars; with the
    ``order``-Wasserstein distance (``internal_p = inf``), order 1 gives
    ``sum_i (d_i - b_i) / 2``.

    Parameters
    ----------
    barcode : Barcode
        A loss barcode from :func:`topoloss.loss_barcode`.
    metric : {"bottleneck", "wasserstein"}
        Distance between persistence diagrams (computed by GUDHI).
    order : float
        Order of the Wasserstein distance (ignored for the bottleneck).

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
    """
    if not isinstance(barcode, Barcode):
        raise TypeError(f"expected a Barcode, got {type(barcode).__name__}")
    if metric not in ("bottleneck", "wasserstein"):
        raise ValueError(f"metric={metric!r}; expected 'bottleneck' or 'wasserstein'")
    if not (order >= 1.0 and math.isfinite(order)):
        raise ValueError(f"order={order!r}; expected a finite number >= 1")
    if barcode.n_components > 1:
        return math.inf
    diagram = barcode.to_diagram()
    ideal = ideal_diagram(barcode)
    if metric == "bottleneck":
        return float(gudhi.bottleneck_distance(diagram, ideal, e=0.0))
    if diagram.shape[0] == 1:  # already ideal; POT warns on an empty finite part
        return 0.0
    from gudhi.wasserstein import wasserstein_distance  # imports POT and torch: only when asked

    # The POT backend: GUDHI 3.13's Hera backend crashes with internal_p=inf on
    # diagrams of two or more finite points.
    return float(
        wasserstein_distance(
            diagram, ideal, order=order, internal_p=np.inf, keep_essential_parts=True
        )
    )


def barcode_summary(barcode: Barcode) -> dict[str, Any]:
    """JSON-ready bars, saddles and TO-scores (``None`` stands for ``inf``).

    The object ``topoloss barcode --json`` prints and run directories store as
    ``barcode.json``: :meth:`Barcode.to_dict` plus ``to_score`` (bottleneck),
    ``to_score_wasserstein1`` and ``connected``.
    """

    def num(x: float) -> float | None:
        return x if math.isfinite(x) else None

    return {
        **barcode.to_dict(),
        "to_score": num(to_score(barcode)),
        "to_score_wasserstein1": num(to_score(barcode, metric="wasserstein")),
        "connected": barcode.n_components == 1,
    }
