"""The two trainers of path optimization, by :attr:`Curve.training <topoloss.Curve.training>`.

``"sampled"`` (:func:`_train_sampled`): Bézier curves and polygonal chains, one
optimizer step per step on the mean objective at sampled ``t``. ``"nudged"``
(:func:`_train_nudged`): the :class:`~topoloss.Chain`, every point moved by the
projected gradient, with insertion. Both optimize a group of pairs (:class:`_Job`) at
once and return each pair's bends and loss history.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from topoloss._schedules import cosine_scheduler
from topoloss.errors import Diverged
from topoloss.landscapes.base import Landscape
from topoloss.paths._chain import ChainGroup, insert_group, project_group
from topoloss.paths._curve_step import curve_objective
from topoloss.paths.curves import Chain, Curve
from topoloss.paths.options import PathOptions

__all__: list[str] = []

#: The cosine schedule decays the learning rate to this fraction of ``lr``.
_FINAL_LR = 0.01
#: Optimizer steps between two checks that the loss is finite.
_CHECK_EVERY = 32


@dataclass
class _Job:
    """Working state of one pair while it is optimized."""

    i: int
    j: int
    u: Hashable
    v: Hashable
    a: torch.Tensor
    b: torch.Tensor
    seed: int


def _pair_seed(seed: int, i: int, j: int) -> int:
    return int(np.random.SeedSequence([seed, i, j]).generate_state(1)[0])


def _make_optimizer(params: Sequence[torch.Tensor], opts: PathOptions) -> torch.optim.Optimizer:
    if opts.optimizer == "adam":
        return torch.optim.Adam(list(params), lr=opts.lr)
    return torch.optim.SGD(list(params), lr=opts.lr, momentum=opts.momentum)


def _check_history(history: list[torch.Tensor], first: int, jobs: Sequence[_Job], lr: float) -> int:
    """Raise if a loss in ``history[first:]`` is not finite; returns ``len(history)``.

    Called every :data:`_CHECK_EVERY` steps rather than every step: each check
    synchronizes a GPU.
    """
    window = torch.stack(history[first:])
    finite = torch.isfinite(window)
    if not bool(finite.all()):
        row, k = (int(v) for v in torch.nonzero(~finite)[0])
        raise Diverged(
            f"loss became {float(window[row, k])} while optimizing the path between "
            f"{jobs[k].u!r} and {jobs[k].v!r} at step {first + row}; try a smaller lr (lr={lr:.3g})"
        )
    return len(history)


def _initial(
    curve: Curve, jobs: Sequence[_Job], a: torch.Tensor, b: torch.Tensor, jitter: float
) -> torch.Tensor:
    """Bends on the straight segments, ``(J, k, P)``, plus seeded noise."""
    bends = curve.init_bends(a, b)
    if jitter > 0 and bends.shape[1] > 0:
        scale = jitter * (b - a).norm(dim=1) / math.sqrt(a.shape[1])
        noise = torch.stack([
            torch.randn(bends.shape[1:], dtype=torch.float64,
                        generator=torch.Generator().manual_seed(job.seed + 1))
            for job in jobs
        ]).to(bends.device, bends.dtype)
        bends = bends + scale[:, None, None] * noise
    return bends


_Trained = list[tuple[torch.Tensor, np.ndarray]]


def _train_sampled(
    landscape: Landscape, curve: Curve, jobs: list[_Job], opts: PathOptions, bar: Any
) -> _Trained:
    """Optimize the curves of ``jobs`` together; returns their bends and loss histories.

    The control points of all jobs form one tensor, so one optimizer (elementwise, hence
    independent per job) and one ``objective`` call per step serve them all. The step's
    objective and gradient come from :func:`~topoloss.paths._curve_step.curve_objective`
    (flat points, or on a CPU network one pair's points and gradients in persistent
    buffers, block by block; the optimizer steps what it hands over, views of ``bends``).
    """
    a = torch.stack([job.a for job in jobs])
    b = torch.stack([job.b for job in jobs])
    if curve.n_bends == 0:  # the straight segment itself: nothing to optimize
        bar.update(opts.steps)
        return [(a.new_zeros(0, a.shape[1]), np.empty(0)) for _ in jobs]
    # every pair its own mini-batch stream: a pair's path does not depend on its group
    streams = [landscape.batches(generator=torch.Generator().manual_seed(job.seed)) for job in jobs]
    n_jobs, t_batch = len(jobs), opts.t_batch
    clamp = landscape.clamp if landscape.box is not None else None
    bends = _initial(curve, jobs, a, b, opts.jitter)
    bends = (clamp(bends) if clamp else bends).requires_grad_(True)
    # flat points for groups and accelerators, each parameter tensor's own on a CPU
    objective = curve_objective(landscape, curve, a, b, bends, opts.weight_decay)
    opt = _make_optimizer(objective.parameters(), opts)
    schedule = cosine_scheduler(opt, opts.steps, _FINAL_LR, constant=opts.schedule == "constant")
    # every job draws all its t from its own stream: results do not depend on grouping
    u = torch.stack([
        torch.rand(opts.steps, t_batch, dtype=torch.float64,
                   generator=torch.Generator().manual_seed(job.seed))
        for job in jobs
    ], dim=1)
    t_all = ((torch.arange(t_batch, dtype=torch.float64) + u) / t_batch).to(a.device, a.dtype)
    history: list[torch.Tensor] = []
    checked = 0
    for step in range(opts.steps):
        batches = [next(stream) for stream in streams]
        opt.zero_grad(set_to_none=True)
        summary = objective(t_all[step], batches)
        history.append(summary)
        if (step + 1) % _CHECK_EVERY == 0 or step + 1 == opts.steps:
            checked = _check_history(history, checked, jobs, opts.lr)
        opt.step()
        schedule.step()
        if clamp is not None:
            with torch.no_grad():
                bends.copy_(clamp(bends))
        bar.update(1)
    hist = torch.stack(history).cpu().numpy() if history else np.empty((0, n_jobs))
    final = bends.detach()
    return [(final[k], hist[:, k]) for k in range(n_jobs)]


def _train_nudged(
    landscape: Landscape, curve: Curve, jobs: list[_Job], opts: PathOptions, bar: Any
) -> _Trained:
    """The chain with insertion for a group of pairs (one flat tensor of points)."""
    assert isinstance(curve, Chain)
    a = torch.stack([job.a for job in jobs])
    b = torch.stack([job.b for job in jobs])
    batches = landscape.batches(generator=torch.Generator().manual_seed(jobs[0].seed))
    group = ChainGroup([curve.points] * len(jobs), a.device)
    clamp = landscape.clamp if landscape.box is not None else None
    x = _initial(curve, jobs, a, b, opts.jitter).reshape(-1, a.shape[1])
    x = (clamp(x) if clamp else x).requires_grad_(True)
    opt = _make_optimizer([x], opts)
    schedule = cosine_scheduler(opt, opts.steps, _FINAL_LR, constant=opts.schedule == "constant")
    history: list[torch.Tensor] = []
    checked = 0
    for step in range(opts.steps):
        batch = next(batches)
        opt.zero_grad(set_to_none=True)
        with torch.enable_grad():
            values = landscape.objective(x, batch)
            (grad,) = torch.autograd.grad(values.sum(), x)
        values = values.detach()
        summary = values.new_full((len(jobs),), -math.inf).scatter_reduce(
            0, group.job, values, reduce="amax"
        )
        history.append(summary)
        if (step + 1) % _CHECK_EVERY == 0 or step + 1 == opts.steps:
            checked = _check_history(history, checked, jobs, opts.lr)
        x.grad = project_group(curve, group, a, b, x, grad, values)
        opt.step()
        schedule.step()
        if clamp is not None:
            with torch.no_grad():
                x.copy_(clamp(x))
        if (step + 1) % curve.insert_every == 0 and step + 1 < opts.steps:
            def probe(points: torch.Tensor, batch: Any = batch) -> torch.Tensor:
                return landscape.objective(points, batch).detach()

            new_x, new_group, src = insert_group(curve, group, a, b, x, probe)
            if new_x.shape[0] != x.shape[0]:
                x, group = _replace_param(opt, x, new_x, src), new_group
        bar.update(1)
    hist = torch.stack(history).cpu().numpy() if history else np.empty((0, len(jobs)))
    parts = x.detach().split(group.sizes)
    return [(parts[k], hist[:, k]) for k in range(len(jobs))]


def _replace_param(
    opt: torch.optim.Optimizer, old: torch.Tensor, new: torch.Tensor, src: torch.Tensor
) -> torch.Tensor:
    """Swap the optimizer's parameter for ``new``; per-row state follows ``src``.

    A new row gets the mean state of its old neighbours (``src`` holds two old row
    indices per new row, ``-1`` for none), so inserted points start with the step
    statistics of the points around them.
    """
    param = new.detach().clone().requires_grad_(True)
    state = opt.state.pop(old, {})
    lo, hi = src[:, 0], src[:, 1]
    w_lo = (lo >= 0).to(new.dtype).unsqueeze(1)
    w_hi = (hi >= 0).to(new.dtype).unsqueeze(1)
    norm = (w_lo + w_hi).clamp_min(1)
    new_state = {}
    for key, value in state.items():
        if isinstance(value, torch.Tensor) and value.shape == old.shape:
            value = (value[lo.clamp_min(0)] * w_lo + value[hi.clamp_min(0)] * w_hi) / norm
        new_state[key] = value
    opt.param_groups[0]["params"] = [param]
    if new_state:
        opt.state[param] = new_state
    return param


#: Trainers by :attr:`Curve.training`.
_TRAINERS: dict[str, Callable[[Landscape, Curve, list[_Job], PathOptions, Any], _Trained]] = {
    "sampled": _train_sampled,
    "nudged": _train_nudged,
}
