"""Dense barrier evaluation of curves (SPEC §2).

The barrier of a curve is the highest exact loss (``landscape.loss``) on a grid of
``n_eval`` parameters evenly spaced in *arc length*, ``t = 0`` and ``t = 1`` included
(so the barrier is never below either endpoint), plus every vertex of a polygonal
chain, refined by ``refine`` rounds of a finer sub-grid on the two intervals around
the current arg-max. Arc-length spacing matters: a trained curve tends to cross high
ground quickly in ``t`` (the training objective averages over ``t``), and a
chain's vertices gather in the valleys, so a grid even in ``t`` would undersample
exactly where the barrier is.

:func:`evaluate_curves` evaluates several curves given as items ``(curve, a, b, bends)``
(:func:`straight_item`: the straight segment) with every point of a round in one batch;
:func:`exact_losses` is the memory-bounded call of ``landscape.loss`` behind it. The
screened variant is :mod:`topoloss.paths.screen`, the straight segment's barrier
:mod:`topoloss.paths.straight`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from topoloss.errors import InputError
from topoloss.landscapes.base import Landscape
from topoloss.paths.curves import Bezier, Curve

__all__ = ["evaluate_curve", "evaluate_curves", "exact_losses", "straight_item"]

#: Floats per chunk of points handed to ``landscape.loss`` at once.
_CHUNK_FLOATS = 1 << 22
#: New parameters per refinement round.
_REFINE_POINTS = 8
#: Curve points per evaluation point when measuring arc length.
_ARC_POINTS_PER_EVAL = 8
_STRAIGHT = Bezier(bends=0)


def exact_losses(
    landscape: Landscape, points: torch.Tensor, *, progress: Callable[[int], object] | None = None
) -> torch.Tensor:
    """``landscape.loss`` on ``(N, P)`` points in memory-bounded chunks, as float64 CPU.

    ``progress(n)`` is called after each chunk of ``n`` points (e.g. ``tqdm.update``).
    """
    chunk = max(1, _CHUNK_FLOATS // max(1, points.shape[1]))
    out = []
    for i in range(0, points.shape[0], chunk):
        out.append(landscape.loss(points[i : i + chunk]).detach())
        if progress is not None:
            progress(out[-1].shape[0])
    return torch.cat(out).to("cpu", torch.float64) if out else torch.empty(0, dtype=torch.float64)


_Item = tuple[Curve, torch.Tensor, torch.Tensor, torch.Tensor]


def evaluate_curves(
    landscape: Landscape,
    items: Sequence[_Item],
    *,
    n_eval: int = 61,
    refine: int = 2,
    progress: Callable[[int], object] | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Dense loss profiles of several curves, with all points of a round in one batch.

    Parameters
    ----------
    landscape : Landscape
        Where ``loss`` is evaluated.
    items : sequence of (curve, a, b, bends)
        The curves.
    n_eval : int
        Parameters evenly spaced in arc length, ``t = 0`` and ``t = 1`` included
        (``>= 2``); the vertices of polygonal chains are added.
    refine : int
        Refinement rounds around the arg-max (``>= 0``), each adding 8 parameters
        evenly inside the two grid intervals next to it.
    progress : callable, optional
        Called with the number of points evaluated after each chunk.

    Returns
    -------
    list of (t, losses)
        Sorted parameters and exact losses per curve.
    """
    if isinstance(n_eval, bool) or not isinstance(n_eval, int) or n_eval < 2:
        raise InputError(f"n_eval={n_eval!r}; expected an integer >= 2")
    if isinstance(refine, bool) or not isinstance(refine, int) or refine < 0:
        raise InputError(f"refine={refine!r}; expected an integer >= 0")
    grids = []
    for curve, a, b, bends in items:
        base = _arclength_grid(curve, a, b, bends, n_eval)
        grids.append(torch.unique(torch.cat([base, curve.knots(bends.shape[0])])))  # sorted
    values = _losses_at(landscape, items, grids, progress)
    for _ in range(refine):
        new = []
        for t, y in zip(grids, values):
            i = int(torch.argmax(y))
            lo, hi = t[max(i - 1, 0)], t[min(i + 1, t.numel() - 1)]
            cand = torch.linspace(float(lo), float(hi), _REFINE_POINTS + 2, dtype=torch.float64)[1:-1]
            new.append(cand[~torch.isin(cand, t)])
        new_values = _losses_at(landscape, items, new, progress)
        for j, (t_new, y_new) in enumerate(zip(new, new_values)):
            t = torch.cat([grids[j], t_new])
            y = torch.cat([values[j], y_new])
            order = torch.argsort(t)
            grids[j], values[j] = t[order], y[order]
    return [(t.numpy(), y.numpy()) for t, y in zip(grids, values)]


def _arclength_grid(
    curve: Curve, a: torch.Tensor, b: torch.Tensor, bends: torch.Tensor, n: int
) -> torch.Tensor:
    """``n`` parameters from 0 to 1 evenly spaced in arc length (even in ``t`` if the
    curve has no length).

    Polygonal curves measure their segments exactly; smooth ones are measured on
    ``8 n`` points, computed in memory-bounded chunks.
    """
    uniform = torch.linspace(0, 1, n, dtype=torch.float64)
    knots = curve.knots(bends.shape[0])
    with torch.no_grad():
        if knots.numel():  # polygonal: arc length is linear in t on every segment
            dense = knots
            control = torch.cat([a.unsqueeze(0), bends, b.unsqueeze(0)])
            steps = (control[1:] - control[:-1]).norm(dim=1).to("cpu", torch.float64)
        else:
            dense = torch.linspace(0, 1, _ARC_POINTS_PER_EVAL * n, dtype=torch.float64)
            chunk = max(2, _CHUNK_FLOATS // max(1, a.shape[0]))
            parts, prev = [], None
            for start in range(0, dense.numel(), chunk):
                pts = curve.at(a, b, bends, dense[start : start + chunk].to(a.device, a.dtype))
                if prev is not None:
                    pts = torch.cat([prev, pts])
                parts.append((pts[1:] - pts[:-1]).norm(dim=1).to("cpu", torch.float64))
                prev = pts[-1:]
            steps = torch.cat(parts)
    arc = torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(steps, 0)])
    total = float(arc[-1])
    if not (total > 0 and math.isfinite(total)):
        return uniform
    out = torch.from_numpy(np.interp(uniform.numpy(), (arc / total).numpy(), dense.numpy()))
    out[0], out[-1] = 0.0, 1.0
    return out


def _losses_at(
    landscape: Landscape,
    items: Sequence[_Item],
    grids: Sequence[torch.Tensor],
    progress: Callable[[int], object] | None = None,
) -> list[torch.Tensor]:
    with torch.no_grad():
        points = [
            curve.at(a, b, bends, t.to(a.device, a.dtype))
            for (curve, a, b, bends), t in zip(items, grids)
        ]
        flat = exact_losses(landscape, torch.cat(points), progress=progress)
    return list(flat.split([g.numel() for g in grids]))


def evaluate_curve(
    landscape: Landscape,
    curve: Curve,
    a: torch.Tensor,
    b: torch.Tensor,
    bends: torch.Tensor | None = None,
    *,
    n_eval: int = 61,
    refine: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """Loss profile ``(t, losses)`` of one curve (the straight segment by default).

    See :func:`evaluate_curves`; ``bends=None`` uses ``curve.init_bends(a, b)``.
    """
    a = landscape.as_points(a, name="a")[0]
    b = landscape.as_points(b, name="b")[0]
    if bends is None:
        bends = curve.init_bends(a, b)
    return evaluate_curves(landscape, [(curve, a, b, bends)], n_eval=n_eval, refine=refine)[0]


def straight_item(a: torch.Tensor, b: torch.Tensor) -> _Item:
    """The straight segment from ``a`` to ``b`` as an evaluation item ``(curve, a, b, bends)``."""
    return (_STRAIGHT, a, b, a.new_zeros(0, a.shape[0]))


_straight = straight_item  # the older private name
