"""The rounds of paths of a study: plan, run and store paths until the planner is done or a
stopping rule fires (:func:`optimize_planned`), reusing the stored paths made with the
same options and endpoints (:func:`stored_paths`); for :mod:`topoloss.engine.pipeline`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from topoloss._warn import warn
from topoloss.config import StudyConfig
from topoloss.engine.executors import PairTask, accepts_stop, make_executor
from topoloss.engine.planners import make_planner, planner_bounds
from topoloss.engine.progress import ProgressTracker
from topoloss.engine.provenance import path_fingerprint, reusable_path_fingerprints
from topoloss.engine.store import Run
from topoloss.errors import CorruptResult
from topoloss.landscapes.base import Landscape
from topoloss.minima.find import Minima
from topoloss.paths.fallback import fallback_notes, fallback_warning
from topoloss.paths.record import PathRecord

__all__ = ["optimize_planned", "stored_paths", "warn_fallbacks"]


def _joins(path: PathRecord, minima: Minima) -> bool:
    """Whether a stored path's endpoints are exactly two of the minima, by name and point."""
    names = list(minima.names)
    if path.u not in names or path.v not in names:
        return False
    a, b = minima.points[names.index(path.u)], minima.points[names.index(path.v)]
    return torch.equal(path.start.to(a), a) and torch.equal(path.end.to(b), b)


def _fingerprint(config: StudyConfig, minima: Minima, i: int, j: int) -> str:
    return path_fingerprint(config, i, j, minima.names[i], minima.names[j], minima.points[i], minima.points[j])


def stored_paths(store: Run | None, minima: Minima, config: StudyConfig,
                  say: Callable[[str], None]) -> dict[frozenset[int], PathRecord]:
    """The stored paths made with the options and endpoints ``config`` would use now.

    A file made otherwise (other options, other minima, no fingerprint) is named through
    ``say`` and left in place until its pair is recomputed, which replaces it atomically.
    """
    if store is None:
        return {}
    finished, corrupt = store.stored_paths()
    for file in corrupt:
        try:
            store._read_path(file)
            why = f"path file {file} is corrupt"
        except CorruptResult as exc:
            why = str(exc)
        warn(f"{why}: recomputing it")  # never used: its pair is optimized again, replacing the file
    known: dict[frozenset[int], PathRecord] = {}
    for file, p, stamp in finished:
        if not _joins(p, minima):
            say(f"path file {file.name} does not join this run's minima: recomputing it")
            continue
        i, j = minima.index(p.u), minima.index(p.v)
        reusable = reusable_path_fingerprints(config, i, j, minima.names[i], minima.names[j],
                                              minima.points[i], minima.points[j])
        if stamp is None or stamp not in reusable:
            say(f"path file {file.name} was made with other options: recomputing it")
            continue
        known[frozenset((i, j))] = p
    return known


def optimize_planned(
    landscape: Landscape,
    minima: Minima,
    config: StudyConfig,
    *,
    store: Run | None,
    progress: bool,
    say: Callable[[str], None],
    on_path: Callable[[PathRecord], object] | None,
    on_progress: Callable[[dict[str, Any]], object] | None = None,
) -> tuple[list[PathRecord], ProgressTracker, np.ndarray | None]:
    """Plan, run and store paths until the planner is done or a stopping rule fires, keeping
    the progress record (:mod:`~topoloss.engine.progress`): ``(paths, record, straight)``,
    ``straight`` the planner's straight-segment bounds (``None`` if it has none)."""
    planner = make_planner(config.paths.pairs)
    executor = make_executor(config.execution)
    task = PairTask(landscape, minima, config.paths, config.evaluation, config.seed)
    planner.bind(task)  # adaptive planners measure cheap bounds on the landscape
    known = stored_paths(store, minima, config, say)
    tracker = ProgressTracker(minima, planner, config.execution, store=store, on_progress=on_progress)
    tracker.write()

    def record(path: PathRecord) -> None:
        i, j = minima.index(path.u), minima.index(path.v)
        if frozenset((i, j)) in tracker.done:
            return  # handed over twice (an executor's return value after on_path)
        known[frozenset((i, j))] = path
        if store is not None:
            store.save_path(path, provenance=_fingerprint(config, minima, i, j))
        tracker.add(path)
        if on_path is not None:
            on_path(path)

    cooperative = accepts_stop(executor)
    interrupt = config.execution.max_seconds is not None or config.execution.until != "budget"
    while not tracker.should_stop():
        pairs = planner.next_pairs(minima, known)
        if not pairs:
            break
        todo = [p for p in pairs if frozenset(p) not in known]
        if len(pairs) > len(todo) and store is not None:
            say(f"reusing {len(pairs) - len(todo)} finished path(s) from {store.dir}")
        tracker.reuse([known[frozenset(p)] for p in pairs if frozenset(p) in known])
        todo = tracker.begin_round(todo)
        # an executor that cannot stop in the middle gets one pair at a time while a rule may stop it
        for part in ([todo] if cooperative or not interrupt else [[p] for p in todo]):
            if not part or tracker.should_stop():
                break
            kw = {"stop": tracker.should_stop} if cooperative else {}
            for path in executor.run(task, part, progress=progress, on_path=record, **kw):
                record(path)
    tracker.finish()
    planned = [p for p in planner.planned() if frozenset(p) in tracker.done]
    paths = [known[frozenset(p)] for p in planned]
    straight = planner_bounds(planner)
    if store is not None:
        why = planner.reasons()
        store.save_plan([(minima.names[i], minima.names[j], why.get((i, j), "")) for i, j in planned],
                        notes=fallback_notes(paths), straight=straight)
    warn_fallbacks(task, paths)
    return paths, tracker, straight


def warn_fallbacks(task: PairTask, paths: list[PathRecord]) -> None:
    """One warning per call for the material straight-segment fallbacks (:mod:`topoloss.paths.fallback`)."""
    from topoloss.paths.optimize import resolve_options

    if any(p.fallback is not None for p in paths):
        lr = resolve_options(task.landscape, task.minima, task.paths, len(paths)).lr
        message = fallback_warning(paths, lr=lr)
        if message is not None:
            warn(message)
