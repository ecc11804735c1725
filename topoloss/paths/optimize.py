"""PathRecord optimization between minima (SPEC §3).

:func:`optimize_pairs` optimizes one curve per requested pair of minima and evaluates its
barrier densely (:mod:`topoloss.paths.record`). It only uses the :class:`~topoloss.Landscape`
interface (``objective``, ``batches``, ``batches_per_epoch``, ``loss``), so the same
code runs on analytic functions and on networks.

On full-batch landscapes with few coordinates several pairs are optimized *together*:
the control points of all of them form one tensor, their points go through
``landscape.objective`` in one batch, and one optimizer steps them all. Adam and SGD
act elementwise and every pair draws its ``t`` (and its initial jitter) from its own
seeded stream, so the result is the same as optimizing the pairs one by one.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from topoloss._progress import progress_bar
from topoloss._schedules import cosine_scheduler
from topoloss.config import EvaluationConfig, PathConfig, steps_for
from topoloss.errors import Diverged, InputError
from topoloss.landscapes.base import Landscape, require_gradient
from topoloss.minima.find import Minima
from topoloss.paths._chain import ChainGroup, insert_group, project_group
from topoloss.paths._curve_step import curve_objective
from topoloss.paths.curves import Chain, Curve
from topoloss.paths.evaluate import _ARC_POINTS_PER_EVAL, _REFINE_POINTS
from topoloss.paths.metrics import metrics_along
from topoloss.paths.record import PathRecord
from topoloss.paths.screen import Profile, evaluate_screened
from topoloss.paths.straight import straight_profiles

__all__ = ["check_memory", "memory_limit", "optimize_pairs", "resolve_options"]

#: The cosine schedule decays the learning rate to this fraction of ``lr``.
_FINAL_LR = 0.01
#: Optimizer steps between two checks that the loss is finite.
_CHECK_EVERY = 32
#: Full-batch landscapes with at most this many coordinates optimize pairs together.
_GROUP_MAX_DIM = 4096
#: Relative tolerance of the straight-segment rule: a curve peaking above its straight
#: segment by more than ``_STRAIGHT_TOL * max(1, |straight barrier|)`` is a failed
#: optimization. Below it the two agree to evaluation accuracy (a curve that converged
#: onto an optimal straight segment) and the curve is kept.
_STRAIGHT_TOL = 1e-6
#: Tensors of the size of the bends an optimizer holds: the bends, their gradient, and
#: Adam's two moments (SGD with momentum: one), plus one for the curve points of a step.
_OPTIMIZER_COPIES = {"adam": 5, "sgd": 4}


# ---------------------------------------------------------------------- optimization
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


def _default_lr(minima: Minima, optimizer: str) -> float:
    """Adam: a hundredth of the median per-coordinate distance between minima."""
    if optimizer != "adam" or len(minima) < 2:
        return 0.01 if optimizer != "adam" else 1e-3
    d = minima.distances()
    med = float(np.median(d[np.triu_indices(len(minima), k=1)]))
    return 0.01 * med / math.sqrt(minima.dim) if med > 0 else 1e-3


@dataclass(frozen=True)
class _Options:
    steps: int
    lr: float
    optimizer: str
    momentum: float
    schedule: str
    t_batch: int
    weight_decay: float
    jitter: float
    group: int


def memory_limit(device: torch.device | str = "cpu") -> int:
    """Bytes a single request may use: the device's total memory (physical RAM on CPU).

    Requests estimated above this are refused before anything is allocated
    (:func:`check_memory`). ``0`` when the size cannot be found (then nothing is refused).
    """
    dev = torch.device(device)
    if dev.type == "cuda" and torch.cuda.is_available():
        return int(torch.cuda.get_device_properties(dev.index or 0).total_memory)
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 0


def _gb(n: float) -> str:
    return f"{n / 2**30:.3g} GiB"


def check_memory(landscape: Landscape, paths: PathConfig, evaluation: EvaluationConfig, group: int) -> None:
    """Refuse a request whose main tensors alone would not fit in memory (one line naming the option).

    The estimate counts 8 bytes per float64 (4 for float32) and:

    - optimization: ``group × n_bends × P`` floats, times :data:`_OPTIMIZER_COPIES`
      (bends, gradient, optimizer state, curve points);
    - evaluation: ``8 × n_eval`` arc-length parameters and positions, and the
      ``n_eval`` points of one curve, ``P`` floats each, evaluated in chunks.

    Raises
    ------
    InputError
        Naming ``curve`` or ``n_eval`` with the estimate and the limit
        (:func:`memory_limit`).
    """
    limit = memory_limit(landscape.device)
    if limit <= 0:
        return
    item = torch.empty(0, dtype=landscape.dtype).element_size()
    dim = int(landscape.dim)
    factor = _OPTIMIZER_COPIES.get(paths.optimizer, 5)
    need = float(group) * int(paths.curve.n_bends) * dim * item * factor
    if need > limit:
        raise InputError(
            f"curve={paths.curve.spec()} (--curve) needs about {_gb(need)} to optimize {group} pair(s) of "
            f"{dim} parameters ({paths.curve.n_bends} bends x {dim} x {item} bytes x {factor}), more than "
            f"the {_gb(limit)} of memory here; use fewer bends"
        )
    n_eval = int(evaluation.n_eval)
    need = float(n_eval) * (_ARC_POINTS_PER_EVAL * 3 * 8 + 4 * 8)
    if need > limit:
        raise InputError(
            f"n_eval={n_eval} (--n-eval) needs about {_gb(need)} for the evaluation grid, more than the "
            f"{_gb(limit)} of memory here; use a smaller n_eval"
        )


def _make_optimizer(params: Sequence[torch.Tensor], opts: _Options) -> torch.optim.Optimizer:
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
    landscape: Landscape, curve: Curve, jobs: list[_Job], opts: _Options, bar: Any
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
    landscape: Landscape, curve: Curve, jobs: list[_Job], opts: _Options, bar: Any
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
_TRAINERS: dict[str, Callable[[Landscape, Curve, list[_Job], _Options, Any], _Trained]] = {
    "sampled": _train_sampled,
    "nudged": _train_nudged,
}


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


# ---------------------------------------------------------------------- public API
def resolve_options(landscape: Landscape, minima: Minima, paths: PathConfig, n_pairs: int) -> _Options:
    """The concrete optimizer settings of ``paths`` on this landscape (automatic values filled)."""
    per_epoch = int(landscape.batches_per_epoch)
    full_batch = per_epoch == 1
    t_batch = paths.t_batch if paths.t_batch is not None else (16 if full_batch else 1)
    lr = paths.lr if paths.lr is not None else _default_lr(minima, paths.optimizer)
    group = paths.group
    if group is None:
        group = max(1, n_pairs) if full_batch and landscape.dim <= _GROUP_MAX_DIM else 1
    return _Options(steps_for(paths, per_epoch), float(lr), paths.optimizer, float(paths.momentum),
                    paths.schedule, t_batch, float(paths.weight_decay), float(paths.jitter), group)


def optimize_pairs(
    landscape: Landscape,
    minima: Minima,
    pairs: Sequence[tuple[int, int]],
    *,
    paths: PathConfig,
    evaluation: EvaluationConfig,
    seed: int = 0,
    progress: bool = True,
    on_path: Callable[[PathRecord], object] | None = None,
    stop: Callable[[], bool] | None = None,
) -> list[PathRecord]:
    """Optimize and evaluate one curve per index pair of ``minima`` (SPEC §3).

    This is the work of an executor (:mod:`topoloss.engine.executors`); users call
    :func:`topoloss.connect` or :func:`topoloss.analyze`, which plan the pairs and store
    the results.

    Bézier curves and polygonal chains are trained as in mode-connectivity work: each
    step draws ``t_batch`` stratified parameters ``t ~ U(0, 1)`` per pair and takes an
    optimizer step on the mean of ``landscape.objective(φ(t), batch)`` (plus
    ``weight_decay * |φ(t)|²``) with respect to the bends. A curve family whose
    ``training`` is ``"nudged"`` (:class:`~topoloss.Chain`) moves all its points by the
    projected gradient and inserts points every ``curve.insert_every`` steps. Each
    path's barrier is then evaluated with ``landscape.loss``: densely
    (:func:`topoloss.paths.evaluate.evaluate_curves`), or on landscapes with data first
    screened on ``evaluation.screen`` samples (:func:`topoloss.paths.screen.evaluate_screened`).
    Its metrics (train and test loss and accuracy on a network) are measured at the
    ``t`` evaluated on the full data (:func:`topoloss.paths.metrics.path_metrics`,
    ``PathRecord.metrics``). Control points are projected onto
    the landscape's :attr:`~topoloss.Landscape.box` after every step; every family lies
    in the convex hull of its control points, so the whole curve stays in the box.

    Parameters
    ----------
    landscape : Landscape
        The loss.
    minima : Minima
        The endpoints.
    pairs : sequence of (int, int)
        Index pairs into ``minima``.
    paths, evaluation : PathConfig, EvaluationConfig
        How to optimize and how to measure (see :mod:`topoloss.config`).
    seed : int
        Every pair draws from its own stream seeded by ``(seed, i, j)``: the same seed
        gives identical paths, whatever the grouping or the other pairs.
    progress : bool
        Show tqdm progress bars.
    on_path : callable, optional
        Called with each :class:`~topoloss.paths.record.PathRecord` as soon as it is finished.
    stop : callable, optional
        Asked before each group of pairs; once it returns true, no further group starts.

    Returns
    -------
    list of PathRecord
        One per pair, in the order of ``pairs`` (only the pairs finished before a ``stop``).

    Raises
    ------
    Diverged
        A loss became non-finite during optimization or on the optimized path (the
        message names the pair).
    """
    curve = paths.curve
    if curve.training not in _TRAINERS:
        raise InputError(f"curve family {curve.kind!r} has training={curve.training!r}; expected one of "
                         f"{', '.join(_TRAINERS)}")
    if curve.n_bends:
        require_gradient(landscape, "path optimization")
    opts = resolve_options(landscape, minima, paths, len(pairs))
    check_memory(landscape, paths, evaluation, min(opts.group, max(1, len(pairs))))
    n_eval, refine, linear = evaluation.n_eval, evaluation.refine, evaluation.linear
    points = minima.points.to(landscape.device, landscape.dtype)
    jobs = [
        _Job(i, j, minima.names[i], minima.names[j], points[i], points[j], _pair_seed(seed, i, j))
        for i, j in pairs
    ]
    steps, group = opts.steps, opts.group

    results: list[PathRecord] = []
    overall = progress_bar(total=len(jobs), desc="paths", unit="path", disable=not progress)
    try:
        for start in range(0, len(jobs), group):
            if stop is not None and stop():
                break
            chunk = jobs[start : start + group]
            label = f"{chunk[0].u}-{chunk[0].v}" if len(chunk) == 1 else f"{len(chunk)} pairs"
            with progress_bar(total=steps, desc=label, unit="step", kind="inner",
                              disable=not progress) as bar:
                t0 = time.perf_counter()
                trained = _TRAINERS[curve.training](landscape, curve, chunk, opts, bar)
                t1 = time.perf_counter()
            items = [(curve, job.a, job.b, bends) for job, (bends, _) in zip(chunk, trained)]
            expected = 2 * len(items) * (n_eval + refine * _REFINE_POINTS)  # about; chains add knots
            with progress_bar(total=expected, desc=f"evaluating {label}", unit="point", kind="inner",
                              disable=not progress) as bar:
                ends = [(float(minima.losses[job.i]), float(minima.losses[job.j])) for job in chunk]
                profiles = evaluate_screened(landscape, items, n_eval=n_eval, refine=refine,
                                             screen=evaluation.screen, seed=seed, ends=ends,
                                             progress=bar.update)
                # the straight segment is always evaluated: it is a path too, and the check below needs it
                profiles += straight_profiles(landscape, [job.a for job in chunk], [job.b for job in chunk],
                                              n_eval=n_eval, refine=refine, screen=evaluation.screen,
                                              seed=seed, end_losses=ends, progress=bar.update)
            t2 = time.perf_counter()
            for k, job in enumerate(chunk):
                y = profiles[k].losses
                if not np.isfinite(y).all():
                    raise Diverged(
                        f"loss is not finite on the optimized path between {job.u!r} and {job.v!r} "
                        f"(lr={opts.lr:.3g}); try a smaller lr"
                    )
                t3 = time.perf_counter()
                metrics = metrics_along(landscape, items[k], profiles[k].t, y, progress=progress)
                seconds = ((t1 - t0) / len(chunk), (t2 - t1) / len(chunk) + time.perf_counter() - t3)
                path = _record(job, curve, trained[k], profiles[k], profiles[len(chunk) + k], linear, opts.lr,
                               seconds=seconds, metrics=metrics)
                results.append(path)
                if on_path is not None:
                    on_path(path)
                overall.update(1)
    finally:
        overall.close()
    return results
