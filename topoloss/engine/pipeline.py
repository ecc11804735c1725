"""The engine: minima -> pair plan -> path optimization -> graph -> barcode -> TO-score.

One pipeline serves :func:`analyze` and :func:`connect` in Python, run directories and
every CLI command::

    minima ──▶ planner.next_pairs(known) ──▶ executor.run(pairs) ──▶ graph ──▶ barcode ──▶ score
      ▲                                            │
      └──────────── store (a run directory) ◀──────┘  each result written as it arrives

The planner (:mod:`topoloss.engine.planners`) says which pairs to optimize next given
the paths known so far; the executor (:mod:`topoloss.engine.executors`) says where they
run. A run directory (:class:`~topoloss.engine.store.Run`) is this engine with a store
attached: finished minima and paths are read back instead of recomputed, and each new
result is stored the moment it arrives, whatever the executor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from topoloss._validate import finite_or_none
from topoloss._warn import warn
from topoloss.config import StudyConfig
from topoloss.engine._minima import train_into
from topoloss.engine.bar_checks import BarCheck, check_bars
from topoloss.engine.executors import PairTask, accepts_stop, make_executor
from topoloss.engine.planners import make_planner, planner_bounds, select_pairs
from topoloss.engine.progress import ProgressPoint, ProgressTracker
from topoloss.engine.provenance import (
    minima_fingerprint,
    path_fingerprint,
    reusable_path_fingerprints,
)
from topoloss.engine.store import Run
from topoloss.errors import CorruptResult, InputTypeError
from topoloss.landscapes.base import Landscape
from topoloss.minima.find import Minima, as_minima, find_minima
from topoloss.paths.fallback import fallback_notes, fallback_warning
from topoloss.paths.record import PathRecord
from topoloss.topology.barcode import Barcode
from topoloss.topology.graph import LandscapeGraph
from topoloss.topology.persistence import loss_barcode
from topoloss.topology.score import to_score

__all__ = ["Analysis", "analyze", "build_graph", "check_pairs", "connect", "prepare_minima", "run_pipeline",
           "run_study"]

#: Nodes get a ``point`` attribute (coordinates as a list) up to this dimension.
POINT_ATTR_MAX_DIM = 64


@dataclass(frozen=True, eq=False)
class Analysis:
    """What the engine computed (or read back from a run directory).

    Attributes
    ----------
    minima : Minima
        The minima (nodes of the graph).
    paths : tuple of PathRecord
        The optimized paths (edges of the graph), in the planner's order.
    graph : LandscapeGraph
        Minima with their losses (and ``point`` for low-dimensional landscapes), paths
        with their barriers and records.
    barcode : Barcode
        The loss barcode of the graph.
    to_score : float
        Its TO-score (bottleneck distance to the ideal one-bar barcode).
    computed_paths, reused_paths : int
        Paths optimized now / read back from the run directory.
    straight_bounds : ndarray of shape (N, N) or None
        The adaptive planner's straight-segment bounds of every pair (minima order), which
        the bar checks' ``"ratio"`` estimate reads; ``None`` for other planners.
    history : tuple of ProgressPoint
        The TO-score and every death after each path, in the order the paths arrived
        (:mod:`~topoloss.engine.progress`; empty for a result read back from files).
    stopped : str or None
        The stopping rule that ended the study before its plan was spent (``"max_paths"``,
        ``"max_seconds"``, ``"certified"``), else ``None``.
    """

    minima: Minima
    paths: tuple[PathRecord, ...]
    graph: LandscapeGraph
    barcode: Barcode
    to_score: float
    computed_paths: int = 0
    reused_paths: int = 0
    straight_bounds: np.ndarray | None = field(default=None, repr=False)
    history: tuple[ProgressPoint, ...] = ()
    stopped: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "paths", tuple(self.paths))
        object.__setattr__(self, "history", tuple(self.history))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: minima, paths (without tensors), barcode and TO-score."""
        return {
            "minima": self.minima.to_dict(points=self.minima.dim <= POINT_ATTR_MAX_DIM),
            "paths": [p.to_dict(tensors=False) for p in self.paths],
            "barcode": self.barcode.to_dict(),
            "to_score": finite_or_none(self.to_score),
            "connected": self.barcode.n_components == 1,
            "stopped": self.stopped,
        }

    def bar_checks(self) -> tuple[BarCheck, ...]:
        """Per bar: certified, estimated final or open, and its killing path's fallback
        (:mod:`~topoloss.engine.bar_checks`; the ``"ratio"`` estimate where the planner
        measured straight bounds, else ``"excess"``)."""
        fallbacks = [p.pair for p in self.paths if p.fallback is not None]
        return check_bars(self.graph, self.barcode, fallbacks, straight=self.straight_bounds)

    def __str__(self) -> str:
        return (
            f"{self.barcode}\nTO-score: {self.to_score:.6g} "
            f"({len(self.minima)} minima, {len(self.paths)} paths)"
        )


def build_graph(
    minima: Minima, paths: Sequence[PathRecord], *, points: bool | None = None
) -> LandscapeGraph:
    """The landscape graph of minima and paths (SPEC §4): :meth:`LandscapeGraph.from_paths`,
    with node coordinates stored up to :data:`POINT_ATTR_MAX_DIM` dimensions by default."""
    if points is None:
        points = minima.dim <= POINT_ATTR_MAX_DIM
    return LandscapeGraph.from_paths(minima, paths, points=points)


# ---------------------------------------------------------------------- minima
def prepare_minima(
    landscape: Landscape,
    config: StudyConfig,
    *,
    minima: Minima | Any = None,
    store: Run | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> Minima:
    """The minima of a study: given, stored, loaded from checkpoints, searched or trained.

    In that order: ``minima`` if given; the ones stored in ``store`` when they were made
    with the same options (:func:`~topoloss.engine.provenance.minima_fingerprint`; else
    ``log`` says so and they are made again); the
    ``config.minima.checkpoints`` (recorded in the store with their SHA-256 and checked
    on every later use); on a landscape with a :attr:`~topoloss.Landscape.box` (the
    analytic ones) ``n_minima`` descents from the root ``seed``; otherwise one minimum
    trained per seed.
    """
    say = log or (lambda msg: None)
    if minima is not None:
        found = as_minima(landscape, minima)
        if store is not None and store.load_minima() is None:
            store.save_minima(found, provenance="given")
        return found
    stored = store.load_minima() if store is not None else None
    checkpoints = config.minima.checkpoints
    expected = minima_fingerprint(config)
    if stored is not None and store is not None and store.minima_provenance() != expected:
        say(f"minima in {store.dir} were made with other options: making them again")
        stored = None
    if stored is not None:
        if checkpoints and store is not None:
            store.check_sources(checkpoints)
        return stored
    if checkpoints:
        from topoloss.minima.train import load_minima

        found = load_minima(landscape, checkpoints)  # type: ignore[arg-type]
    elif landscape.box is not None:
        found = find_minima(landscape, config.minima.n_minima, seed=config.seed)
    else:
        found = train_into(store, landscape, config, progress, say)
    if store is not None:
        store.save_minima(found, sources=checkpoints or None, provenance=expected)
    return found


# ---------------------------------------------------------------------- paths
def _joins(path: PathRecord, minima: Minima) -> bool:
    """Whether a stored path's endpoints are exactly two of the minima, by name and point."""
    names = list(minima.names)
    if path.u not in names or path.v not in names:
        return False
    a, b = minima.points[names.index(path.u)], minima.points[names.index(path.v)]
    return torch.equal(path.start.to(a), a) and torch.equal(path.end.to(b), b)


def _fingerprint(config: StudyConfig, minima: Minima, i: int, j: int) -> str:
    return path_fingerprint(config, i, j, minima.names[i], minima.names[j], minima.points[i], minima.points[j])


def _stored_paths(store: Run | None, minima: Minima, config: StudyConfig,
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


def check_pairs(config: StudyConfig, minima: Minima) -> None:
    """Raise :class:`~topoloss.errors.InputError` now if ``config.paths.pairs`` cannot be
    planned on ``minima`` (e.g. a pair names a minimum that does not exist)."""
    if not isinstance(config.paths.pairs, str):
        select_pairs(minima, config.paths.pairs)
    else:
        make_planner(config.paths.pairs)


def _optimize(
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
    known = _stored_paths(store, minima, config, say)
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
    _warn_fallbacks(task, paths)
    return paths, tracker, straight


def _warn_fallbacks(task: PairTask, paths: list[PathRecord]) -> None:
    """One warning per call for the material straight-segment fallbacks (:mod:`topoloss.paths.fallback`)."""
    from topoloss.paths.optimize import resolve_options

    if any(p.fallback is not None for p in paths):
        lr = resolve_options(task.landscape, task.minima, task.paths, len(paths)).lr
        message = fallback_warning(paths, lr=lr)
        if message is not None:
            warn(message)


def run_pipeline(
    landscape: Landscape,
    config: StudyConfig,
    *,
    minima: Minima | Any = None,
    store: Run | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    on_path: Callable[[PathRecord], object] | None = None,
    on_progress: Callable[[dict[str, Any]], object] | None = None,
) -> Analysis:
    """Run (or resume) the whole pipeline of ``config`` on ``landscape``.

    Parameters
    ----------
    landscape : Landscape
        The loss.
    config : StudyConfig
        What to compute.
    minima : Minima or array_like of shape (m, P), optional
        Given minima (else see :func:`prepare_minima`).
    store : Run, optional
        A run directory: finished minima and paths are reused, never recomputed or
        rewritten; a path file that cannot be read back is reported through ``log`` and
        recomputed; each new path is written the moment it is finished; the graph and
        barcode are written at the end.
    progress : bool
        Show progress bars.
    log : callable, optional
        Receives one-line messages (e.g. ``print``).
    on_path : callable, optional
        Called with each newly optimized :class:`~topoloss.paths.record.PathRecord`.
    on_progress : callable, optional
        Called with the progress snapshot (the content of ``progress.json``,
        :mod:`~topoloss.engine.progress`) after each path.

    The stopping rules of ``config.execution`` (``max_paths``, ``max_seconds``,
    ``until``) may end the paths before the planner's budget is spent; the result
    says which one in :attr:`Analysis.stopped`.
    """
    say = log or (lambda msg: None)
    if store is not None:
        make_planner(config.paths.pairs)  # an unknown strategy fails before anything is written
    found = prepare_minima(landscape, config, minima=minima, store=store, progress=progress, log=log)
    if store is not None:
        check_pairs(config, found)  # pairs naming unknown minima: no paths options are stored
        store.commit()
    paths, out, straight = _optimize(landscape, found, config, store=store, progress=progress, say=say,
                                     on_path=on_path,
                                     on_progress=on_progress)
    graph = build_graph(found, paths)
    barcode = loss_barcode(graph)
    if store is not None:
        store.save_graph(graph)
        store.save_barcode(barcode)
    return Analysis(found, tuple(paths), graph, barcode, to_score(barcode), out.computed, out.reused,
                    straight_bounds=straight, history=tuple(out.history), stopped=out.stopped)


def run_study(
    run: Run,
    *,
    landscape: Landscape | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> Analysis:
    """Run (or resume) the study stored in a run directory: :func:`run_pipeline` with the
    run's own config, on ``landscape`` or the one its config names."""
    from topoloss.engine.specs import make_landscape

    config = StudyConfig.from_dict(run.config)
    land = landscape if landscape is not None else make_landscape(config)
    return run_pipeline(land, config, store=run, progress=progress, log=log)


def _config(config: StudyConfig | None, options: Mapping[str, Any]) -> StudyConfig:
    base = config if config is not None else StudyConfig()
    if not isinstance(base, StudyConfig):
        raise InputTypeError(f"config={base!r}; expected a StudyConfig")
    return base.with_options(**options)


def analyze(
    landscape: Landscape,
    *,
    minima: Minima | Any = None,
    config: StudyConfig | None = None,
    progress: bool = True,
    on_path: Callable[[PathRecord], object] | None = None,
    on_progress: Callable[[dict[str, Any]], object] | None = None,
    **options: Any,
) -> Analysis:
    """Minima, optimized paths, landscape graph, loss barcode and TO-score.

    Parameters
    ----------
    landscape : Landscape
        The loss.
    minima : Minima or array_like of shape (m, P), optional
        Given minima; by default searched (landscapes with a box, ``n_minima`` descents)
        or trained (one per seed), see :func:`prepare_minima`.
    config : StudyConfig, optional
        Every option at once; default :class:`~topoloss.config.StudyConfig()`.
    progress : bool
        Show progress bars.
    on_path : callable, optional
        Called with each :class:`~topoloss.paths.record.PathRecord` as soon as it is finished.
    on_progress : callable, optional
        Called after each path with the progress snapshot (:mod:`~topoloss.engine.progress`);
        the whole history is :attr:`Analysis.history`.
    **options
        Any option of the configuration by its name, placed in its section by
        :meth:`StudyConfig.with_options`: e.g. ``curve=Bezier(bends=1)``, ``pairs="mst"``,
        ``epochs=50``, ``steps=400``, ``lr=1e-3``, ``seed=0``, ``n_minima=16``,
        ``n_eval=61``, ``t_batch=8``.

    Returns
    -------
    Analysis

    Examples
    --------
    >>> import topoloss as tl
    >>> result = tl.analyze(tl.analytic.himmelblau(), steps=100, progress=False)
    >>> len(result.minima), result.barcode.n_components
    (4, 1)
    """
    return run_pipeline(landscape, _config(config, options), minima=minima, progress=progress,
                        on_path=on_path, on_progress=on_progress)


def connect(
    landscape: Landscape,
    minima: Minima | Any,
    *,
    config: StudyConfig | None = None,
    progress: bool = True,
    on_path: Callable[[PathRecord], object] | None = None,
    **options: Any,
) -> list[PathRecord]:
    """Optimize a low-loss path for each planned pair of minima.

    The engine's path part alone (see :func:`analyze` for the graph and barcode too).

    Parameters
    ----------
    landscape : Landscape
        The loss.
    minima : Minima or array_like of shape (m, P)
        The endpoints; raw points are wrapped with :meth:`Minima.from_points`.
    config : StudyConfig, optional
        Every option at once.
    progress : bool
        Show tqdm progress bars (over pairs, and over steps of the current pairs).
    on_path : callable, optional
        Called with each path as soon as it is finished.
    **options
        Options of :class:`~topoloss.config.PathConfig` (``curve``, ``pairs``, ``epochs``
        or ``steps``, ``lr``, ``optimizer``, ``momentum``, ``schedule``, ``t_batch``,
        ``weight_decay``, ``jitter``, ``group``), of
        :class:`~topoloss.config.EvaluationConfig` (``n_eval``, ``refine``, ``linear``,
        ``screen``), ``executor``, the stopping rules (``max_paths``, ``max_seconds``,
        ``until``) and the root ``seed``.

    Returns
    -------
    list of PathRecord
        One per planned pair, in the planner's order (the pairs finished before a stopping rule fired).

    Raises
    ------
    InputError
        For minima of the wrong dimension, unknown minima or strategies, invalid options.
    Diverged
        A non-finite loss during optimization (the message names the pair).
    """
    cfg = _config(config, options)
    found = as_minima(landscape, minima)
    return _optimize(landscape, found, cfg, store=None, progress=progress, say=lambda m: None,
                     on_path=on_path)[0]
