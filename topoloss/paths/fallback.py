"""Straight-segment fallbacks: when one is a failed optimization worth a warning (SPEC §2).

Every optimized pair also has its straight segment evaluated, and the edge of the graph
is the lower of the two barriers (:func:`topoloss.paths.optimize.optimize_pairs`,
``fallback="straight"`` when the straight segment won). On a nearly flat pair the
optimized curve often ends a hair above the straight segment: mini-batch noise, not a
failure. A fallback is *material*, and only then reported as a failed optimization, when

    ``e > MATERIAL_FRACTION * max(h, FLAT_FRACTION * V)``

with ``e = B̂_curve − B̂_straight`` the excess of the curve's barrier over the straight
segment's, ``h = B̂_straight − max(L(a), L(b))`` the straight barrier's height above the
higher endpoint, and ``V`` the value range of the call: its highest edge minus its
lowest endpoint loss. A pair whose height is below ``FLAT_FRACTION * V`` counts as flat
and is measured against that floor instead. :func:`fallback_warning` gives the one
warning of a call, :func:`fallback_summary` the CLI's one summary line.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from topoloss._layout import RunLayout
from topoloss.paths.record import PathRecord

if TYPE_CHECKING:
    import torch

    from topoloss.paths._train import _Job
    from topoloss.paths.curves import Curve
    from topoloss.paths.screen import Profile

__all__ = ["FLAT_FRACTION", "MATERIAL_FRACTION", "excess", "fallback_notes", "fallback_summary",
           "fallback_warning", "is_material", "value_range"]

#: A fallback is material when the curve's excess over the straight segment is more than
#: this fraction of the straight barrier's height above the higher endpoint. Both barriers
#: are exact evaluations (``landscape.loss`` on a dense grid), so a curve that ends a tenth
#: of that height above the segment it was initialized on was driven away by its optimizer
#: (an lr too large); the mini-batch noise of a nearly flat pair (1e-4 of the loss on the
#: digits and gaussian-wells pairs of issue 18) stays far below it.
MATERIAL_FRACTION = 0.1
#: Heights below this fraction of the value range count as flat: their excess is
#: measured against ``FLAT_FRACTION * V`` (a noisy flat pair never warns, a flat pair whose
#: curve blows up to a tenth of a tenth of the range does).
FLAT_FRACTION = 0.1
#: Pairs named in the one-line summary before it ends with "...".
_NAMED = 5


def _ends(path: PathRecord) -> float:
    """``max(L(a), L(b))``: the profiles include ``t = 0`` and ``t = 1``."""
    y = path.linear_losses if path.linear_losses.size else path.losses
    return float(max(y[0], y[-1]))


def excess(path: PathRecord) -> float:
    """How far the optimized curve peaks above the edge it gave the graph (0 without a fallback)."""
    return float(path.curve_barrier - path.barrier) if path.fallback is not None else 0.0


def value_range(paths: Sequence[PathRecord]) -> float:
    """``V``: the highest finite edge of ``paths`` minus their lowest endpoint loss (``0`` if none)."""
    tops = [p.barrier for p in paths if math.isfinite(p.barrier)]
    lows = [float(min(y[0], y[-1])) for p in paths for y in (p.losses,) if y.size]
    return max(0.0, max(tops) - min(lows)) if tops and lows else 0.0


def is_material(path: PathRecord, span: float) -> bool:
    """Whether ``path`` fell back to the straight segment by a material excess (module docstring).

    ``span`` is the value range ``V`` of the paths computed together (:func:`value_range`).
    """
    if path.fallback is None:
        return False
    height = max(0.0, path.barrier - _ends(path))
    return excess(path) > MATERIAL_FRACTION * max(height, FLAT_FRACTION * span)


def _name(path: PathRecord) -> str:
    return f"{path.u}-{path.v}"


def fallback_warning(paths: Sequence[PathRecord], *, lr: float | None = None) -> str | None:
    """The one warning of a call: the material fallbacks among ``paths``, or ``None``."""
    span = value_range(paths)
    bad = sorted((p for p in paths if is_material(p, span)), key=excess, reverse=True)
    if not bad:
        return None
    worst = bad[0]
    names = ", ".join(_name(p) for p in bad[:_NAMED]) + (", ..." if len(bad) > _NAMED else "")
    rate = f" (lr={lr:.3g})" if lr is not None else ""
    return (f"the optimization failed on {len(bad)} of {len(paths)} paths{rate}: {names}; the worst, "
            f"{_name(worst)}, peaks {excess(worst):.3g} above its straight segment's barrier {worst.barrier:.6g} "
            f"(material: more than {MATERIAL_FRACTION:g} x max(its height above the higher endpoint, "
            f"{FLAT_FRACTION:g} x the value range {span:.3g}), docs/spec.md §2); the straight segments' barriers "
            f"are used; try a smaller lr or more steps")


def fallback_summary(paths: Sequence[PathRecord], *, where: str = RunLayout.PLAN) -> str | None:
    """One line naming the paths that fell back to the straight segment, or ``None`` if none did.

    >>> fallback_summary([]) is None
    True
    """
    back = [p for p in paths if p.fallback is not None]
    if not back:
        return None
    names = ", ".join(_name(p) for p in back[:_NAMED]) + (", ..." if len(back) > _NAMED else "")
    return f"{len(back)} of {len(paths)} paths fell back to the straight segment: {names}; see {where}"


def fallback_notes(paths: Sequence[PathRecord]) -> dict[tuple[Hashable, Hashable], dict[str, Any]]:
    """Per pair that fell back: its curve and straight barriers, the excess and whether it is material."""
    span = value_range(paths)
    return {p.pair: {"fallback": p.fallback, "curve_barrier": p.curve_barrier, "straight_barrier": p.barrier,
                     "excess": excess(p), "material": is_material(p, span)}
            for p in paths if p.fallback is not None}


# ---------------------------------------------------------------------- the rule
#: Relative tolerance of the straight-segment rule: a curve peaking above its straight
#: segment by more than ``_STRAIGHT_TOL * max(1, |straight barrier|)`` is a failed
#: optimization. Below it the two agree to evaluation accuracy (a curve that converged
#: onto an optimal straight segment) and the curve is kept.
_STRAIGHT_TOL = 1e-6


def _record(
    job: _Job,
    curve: Curve,
    trained: tuple[torch.Tensor, np.ndarray],
    profile: Profile,
    straight: Profile,
    linear: bool,
    lr: float,
    *,
    seconds: tuple[float, float],
    metrics: dict[str, np.ndarray] | None = None,
) -> PathRecord:
    """The record of one pair, with the straight-segment rule applied.

    If the optimized curve peaks above the straight segment (a path between the same
    minima that needs no optimization) by more than :data:`_STRAIGHT_TOL` (relative),
    the record's barrier becomes the straight segment's (``fallback="straight"``); the
    engine warns once per call about the material ones (:mod:`topoloss.paths.fallback`). The
    straight profile is kept when ``linear`` is true or a fallback happened.
    """
    t, y = profile.t, profile.losses
    lin_t, lin_y = straight.t, straight.losses
    top = int(np.argmax(y))
    barrier, t_max, fallback = float(y[top]), float(t[top]), None
    lin_top = int(np.argmax(lin_y)) if lin_y.size and np.isfinite(lin_y).all() else None
    if lin_top is not None and barrier > (lin := float(lin_y[lin_top])) + _STRAIGHT_TOL * max(1.0, abs(lin)):
        fallback = "straight"  # reported once per call, when material (topoloss.paths.fallback)
        barrier, t_max = float(lin_y[lin_top]), float(lin_t[lin_top])
    keep = linear or fallback is not None
    return PathRecord(
        u=job.u, v=job.v, start=job.a, end=job.b, curve=curve, bends=trained[0],
        t=t, losses=y, barrier=barrier, t_max=t_max,
        linear_t=lin_t if keep else np.empty(0), linear_losses=lin_y if keep else np.empty(0),
        linear_barrier=float(lin_y.max()) if keep else math.nan,
        history=trained[1], seconds_optimize=seconds[0], seconds_evaluate=seconds[1],
        seed=job.seed, fallback=fallback, metrics=metrics or {}, screen=profile.screen,
        screen_t=profile.screen_t, screen_losses=profile.screen_losses,
        linear_screen_t=straight.screen_t if keep else np.empty(0),
        linear_screen_losses=straight.screen_losses if keep else np.empty(0),
    )
