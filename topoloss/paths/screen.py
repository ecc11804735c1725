"""Screened exact evaluation: the barrier of SPEC §2 for a few full-data passes.

The dense evaluation (:func:`~topoloss.paths.evaluate.evaluate_curves`) computes the exact
loss at every grid point: about 77 passes over the training set per curve. Only the
highest point matters for the barrier, so :func:`evaluate_screened` does:

1. **Screen.** Every grid point (the same arc-length grid plus knots) is evaluated on one
   fixed, seeded subsample ``S`` of ``n`` of the ``N`` training samples (the same for
   every point and every curve of a call), per sample
   (:meth:`~topoloss.Landscape.sample_losses`).
2. **Bound.** Points whose exact loss is known are *anchors* (the endpoints, whose
   losses the minima carry, and every point evaluated exactly so far). For fixed
   weights ``w`` over anchors, the exact loss at ``t`` is ``w @ exact + E[r]`` with the
   per-sample residual ``r(s) = l_t(s) - w @ l_anchors(s)``; ``E[r]`` is estimated by
   its mean on ``S`` with the paired standard error
   ``sd(r) / sqrt(n) * sqrt((N - n) / (N - 1))`` (finite-population correction).
   :func:`upper_bounds` takes ``w`` as Lagrange interpolation through the 1 to 4
   nearest anchors and the lowest of the four bounds ``w @ exact + mean(r) + Z sd...``
   (``Z = 4``). Per-sample losses are smooth along a path and strongly correlated
   between nearby points, so residuals between close anchors are small.
3. **Exact.** Repeatedly, the point with the highest bound is evaluated exactly
   (:func:`~topoloss.paths.evaluate.exact_losses`: the full training set, full-data
   BatchNorm statistics) and becomes an anchor, until no screened point's bound exceeds
   the best exact loss by more than ``RTOL = 1e-4`` relative.
4. **Refine.** As in the dense evaluation, each of ``refine`` rounds places 8 new
   parameters inside the two grid intervals next to the current *exact* arg-max; they are
   screened on ``S``, and step 3 runs again.

**Assumption.** Each bound is a normal approximation of the mean of ``n`` residuals
drawn without replacement (a central-limit statement): it holds unless a handful of
samples outside ``S`` carries residuals far larger than any seen in ``S``. It is a
confidence statement per point and weight choice (``Z = 4``: about 3e-5 one-sided;
four weights per point), not a certainty, and it ignores excesses below ``RTOL``. With
BatchNorm, the screening stage recomputes the statistics from ``S`` itself, which shifts
every estimate a little; the bound assumes that this shift is smooth along the path, so
that it largely cancels in the residuals (measured in ``docs/performance.md``). The
reported barrier is always an exact loss at a point of the path, never an estimate.

Landscapes without data (``n_samples == 0``, e.g. analytic ones) and sets too small to
screen (``n`` is capped at ``N / 32``, so screening a grid costs a few passes, and
below 8 samples the evaluation is dense) are evaluated densely, as with ``screen = 0``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from topoloss.errors import InputError
from topoloss.landscapes.base import Landscape
from topoloss.paths.evaluate import _CHUNK_FLOATS, _REFINE_POINTS, _arclength_grid, _Item, _losses_at, evaluate_curves
from topoloss.paths.record import _frozen

__all__ = ["Profile", "evaluate_screened", "screen_size"]

#: Confidence of the screening bound (standard errors).
Z = 4.0
#: A point is kept when it could exceed the best one by more than this, relative.
RTOL = 1e-4
#: The screening subsample is at most this fraction of the training set ...
_MAX_FRACTION = 1 / 32
#: ... and at least this many samples (else: dense evaluation).
_MIN_SCREEN = 8


@dataclass(frozen=True, eq=False)
class Profile:
    """The evaluation of one curve.

    Attributes
    ----------
    t, losses : ndarray
        Sorted parameters evaluated on the full training set and their exact losses.
    screen_t, screen_losses : ndarray
        Every screened parameter (grid and refinement candidates) and its subsample
        estimate (empty after a dense evaluation).
    screen : int
        Samples of the screening subsample (``0``: evaluated densely).
    """

    t: np.ndarray
    losses: np.ndarray
    screen_t: np.ndarray = field(default_factory=lambda: _frozen([]))
    screen_losses: np.ndarray = field(default_factory=lambda: _frozen([]))
    screen: int = 0


def screen_size(screen: int, n_samples: int) -> int:
    """Samples the screening stage uses for ``screen`` on a set of ``n_samples`` (0: dense).

    At most ``n_samples / 32`` (so screening a whole grid costs a few full passes) and at
    least 8; ``0`` for landscapes without data.

    Examples
    --------
    >>> screen_size(1024, 50_000), screen_size(1024, 1437), screen_size(1024, 100), screen_size(0, 50_000)
    (1024, 44, 0, 0)
    """
    n = min(int(screen), int(n_samples * _MAX_FRACTION))
    return n if n >= _MIN_SCREEN else 0


def upper_bounds(
    t: torch.Tensor, rows: torch.Tensor, anchor_t: torch.Tensor, anchors: torch.Tensor, exact: torch.Tensor,
    fpc: float,
) -> torch.Tensor:
    """Upper confidence bounds of the exact losses at parameters ``t``, ``-> (m,)``.

    ``rows`` ``(m, n)`` and ``anchors`` ``(A, n)`` are per-sample losses on the same ``n``
    samples, at ``t`` and at the anchors ``anchor_t`` whose exact losses ``exact`` are
    known. For fixed weights ``w`` (here: Lagrange interpolation at ``t[j]`` through
    the 1, 2, 3 and 4 anchors nearest to it) the exact loss at ``t[j]`` is
    ``w @ exact + mean(r)`` up to the sampling error of the residuals
    ``r = rows[j] - w @ anchors`` (their mean over the whole training set is exactly
    that difference, whatever ``w``). Per-sample losses are smooth in ``t``, so the
    residuals are small and so is their spread. The bound is
    ``w @ exact + mean(r) + Z * sd(r) / sqrt(n) * fpc``, the lowest over the four ``w``.

    Examples
    --------
    >>> t, anchor_t = torch.tensor([0.5]), torch.tensor([0.0, 1.0])
    >>> anchors = torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    >>> upper_bounds(t, anchors[:1] + 1, anchor_t, anchors, torch.tensor([2.0, 2.0]), 1.0)
    tensor([3.], dtype=torch.float64)
    """
    n = rows.shape[1]
    t, anchor_t = t.double(), anchor_t.double()
    rows, anchors, exact = rows.double(), anchors.double(), exact.double()
    near = torch.argsort((anchor_t.unsqueeze(0) - t.unsqueeze(1)).abs(), dim=1)  # (m, A)
    out = torch.full((t.numel(),), math.inf, dtype=torch.float64)
    for k in range(1, min(4, anchor_t.numel()) + 1):
        sel = near[:, :k]  # (m, k)
        ts = anchor_t[sel]
        num = t[:, None, None] - ts[:, None, :]  # (m, k, k): t - t_b
        den = ts[:, :, None] - ts[:, None, :]  # t_a - t_b
        eye = torch.eye(k, dtype=torch.bool)
        w = torch.where(eye, 1.0, num / torch.where(eye, 1.0, den)).prod(dim=2)  # Lagrange weights (m, k)
        r = rows - torch.einsum("mk,mkn->mn", w, anchors[sel])
        se = (r.std(dim=1, correction=1) if n > 1 else torch.zeros(len(r), dtype=torch.float64)) * fpc / math.sqrt(n)
        out = torch.minimum(out, (w * exact[sel]).sum(dim=1) + r.mean(dim=1) + Z * se)
    return out


def _sample_rows(landscape: Landscape, item: _Item, t: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    curve, a, b, bends = item
    chunk = max(1, _CHUNK_FLOATS // max(1, a.shape[0]))
    out = [torch.empty(0, idx.numel(), dtype=torch.float64)]
    with torch.no_grad():
        for i in range(0, t.numel(), chunk):
            pts = curve.at(a, b, bends, t[i:i + chunk].to(a.device, a.dtype))
            out.append(landscape.sample_losses(pts, idx).to("cpu", torch.float64))
    return torch.cat(out)


@dataclass
class _Track:
    """Working state of one curve."""

    t: torch.Tensor  # every screened parameter (unsorted)
    rows: torch.Tensor  # their per-sample losses on the subsample, (len(t), n)
    full: dict[float, float]  # exact losses by parameter
    fpc: float  # finite-population correction of the subsample

    def best(self) -> float:
        return max(self.full, key=lambda k: self.full[k])

    def next_point(self) -> torch.Tensor:
        """The screened parameter whose bound is highest among those that could still beat
        the exact best (:func:`upper_bounds`), as a tensor of 0 or 1 parameters."""
        known = torch.tensor([float(x) in self.full for x in self.t], dtype=torch.bool)
        if not bool(known.any()):  # no anchor yet: the highest estimate
            return self.t[int(torch.argmax(self.rows.mean(dim=1)))].reshape(1)
        top = max(self.full.values())
        exact = torch.tensor([self.full[float(x)] for x in self.t[known]], dtype=torch.float64)
        bound = upper_bounds(self.t, self.rows, self.t[known], self.rows[known], exact, self.fpc)
        bound[known] = -math.inf
        i = int(torch.argmax(bound))
        return self.t[i].reshape(1) if float(bound[i]) > top + RTOL * abs(top) else self.t[:0]


def evaluate_screened(
    landscape: Landscape,
    items: Sequence[_Item],
    *,
    n_eval: int = 61,
    refine: int = 2,
    screen: int = 1024,
    seed: int = 0,
    ends: Sequence[tuple[float, float]] | None = None,
    progress: Callable[[int], object] | None = None,
) -> list[Profile]:
    """Loss profiles of several curves, screened on a subsample (see the module docstring).

    Parameters
    ----------
    landscape : Landscape
        Where the loss is evaluated.
    items : sequence of (curve, a, b, bends)
        The curves.
    n_eval, refine : int
        The grid and its refinement rounds, as in
        :func:`~topoloss.paths.evaluate.evaluate_curves`.
    screen : int
        Samples of the screening subsample (capped by :func:`screen_size`); ``0``, or a
        landscape without data, evaluates every point exactly (the dense evaluation).
    seed : int
        Draws the subsample (one for all curves of the call).
    ends : sequence of (float, float), optional
        Known exact losses at ``t = 0`` and ``t = 1`` of each curve (its endpoints,
        e.g. the minima's losses); used instead of evaluating them again.
    progress : callable, optional
        Called with the number of points screened (or, dense, evaluated).

    Returns
    -------
    list of Profile
        One per curve. ``max(losses)`` is the barrier: an exact loss.
    """
    n = screen_size(screen, landscape.n_samples)
    if n == 0:
        dense = evaluate_curves(landscape, items, n_eval=n_eval, refine=refine, progress=progress)
        return [Profile(t, y) for t, y in dense]
    if ends is not None and len(ends) != len(items):
        raise InputError(f"ends has {len(ends)} entries for {len(items)} curves")
    big = landscape.n_samples
    idx = torch.randperm(big, generator=torch.Generator().manual_seed(int(seed)))[:n]
    fpc = math.sqrt((big - n) / (big - 1))
    tracks: list[_Track] = []
    for k, item in enumerate(items):
        curve, a, b, bends = item
        t = torch.unique(torch.cat([_arclength_grid(curve, a, b, bends, n_eval), curve.knots(bends.shape[0])]))
        rows = _sample_rows(landscape, item, t, idx)
        if progress is not None:
            progress(t.numel())
        full = {} if ends is None else {0.0: float(ends[k][0]), 1.0: float(ends[k][1])}
        tracks.append(_Track(t, rows, full, fpc))
    _settle(landscape, items, tracks)
    for _ in range(refine):
        for item, track in zip(items, tracks):
            grid = torch.sort(track.t).values
            i = int(torch.nonzero(grid == track.best())[0])
            lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.numel() - 1)]
            cand = torch.linspace(float(lo), float(hi), _REFINE_POINTS + 2, dtype=torch.float64)[1:-1]
            cand = cand[~torch.isin(cand, grid)]
            rows = _sample_rows(landscape, item, cand, idx)
            if progress is not None:
                progress(cand.numel())
            track.t, track.rows = torch.cat([track.t, cand]), torch.cat([track.rows, rows])
        _settle(landscape, items, tracks)
    out = []
    for track in tracks:
        ts = sorted(track.full)
        order = torch.argsort(track.t)
        out.append(Profile(np.array(ts), np.array([track.full[x] for x in ts]),
                           track.t[order].numpy(), track.rows[order].mean(dim=1).numpy(), n))
    return out


def _settle(landscape: Landscape, items: Sequence[_Item], tracks: list[_Track]) -> None:
    """Evaluate exactly, one point per curve and round (all curves in one batch), the point
    of highest bound, until no screened point of any curve could beat its exact best."""
    while True:
        todo = [track.next_point() for track in tracks]
        if not any(t.numel() for t in todo):
            return
        values = _losses_at(landscape, items, todo)
        for track, t, y in zip(tracks, todo, values):
            track.full.update({float(a): float(b) for a, b in zip(t, y)})
