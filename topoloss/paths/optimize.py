"""PathRecord optimization between minima (SPEC §3): the orchestration.

:func:`optimize_pairs` optimizes one curve per requested pair of minima
(:mod:`topoloss.paths._train`) and evaluates its barrier densely
(:mod:`topoloss.paths.evaluate`, or screened: :mod:`topoloss.paths.screen`), with the
straight-segment rule (:mod:`topoloss.paths.fallback`). It only uses the
:class:`~topoloss.Landscape` interface (``objective``, ``batches``,
``batches_per_epoch``, ``loss``), so the same code runs on analytic functions and on
networks. Its options are any objects with the attributes of
:class:`~topoloss.paths.options.PathSettings` and
:class:`~topoloss.paths.options.EvaluationSettings` (the config sections are);
:func:`resolve_options` and the memory check (:mod:`topoloss.paths.memory`) are
re-exported here.

On full-batch landscapes with few coordinates several pairs are optimized *together*:
the control points of all of them form one tensor, their points go through
``landscape.objective`` in one batch, and one optimizer steps them all. Adam and SGD
act elementwise and every pair draws its ``t`` (and its initial jitter) from its own
seeded stream, so the result is the same as optimizing the pairs one by one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from topoloss._progress import progress_bar
from topoloss.errors import Diverged, InputError
from topoloss.landscapes.base import Landscape, require_gradient
from topoloss.minima.find import Minima
from topoloss.paths._train import _TRAINERS, _Job, _pair_seed
from topoloss.paths.evaluate import _REFINE_POINTS
from topoloss.paths.fallback import _record
from topoloss.paths.memory import check_memory, memory_limit
from topoloss.paths.metrics import metrics_along
from topoloss.paths.options import EvaluationSettings, PathOptions, PathSettings, resolve_options
from topoloss.paths.record import PathRecord
from topoloss.paths.screen import evaluate_screened
from topoloss.paths.straight import straight_profiles

__all__ = ["PathOptions", "check_memory", "memory_limit", "optimize_pairs", "resolve_options"]


def optimize_pairs(
    landscape: Landscape,
    minima: Minima,
    pairs: Sequence[tuple[int, int]],
    *,
    paths: PathSettings,
    evaluation: EvaluationSettings,
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
    paths, evaluation : PathSettings, EvaluationSettings
        How to optimize and how to measure: the config sections
        (:class:`~topoloss.config.PathConfig`, :class:`~topoloss.config.EvaluationConfig`) or any
        objects with their attributes.
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
