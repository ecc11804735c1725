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

The entry points and the minima are here; the rounds of paths are in
:mod:`topoloss.engine._path_rounds`, the result (:class:`Analysis`, :func:`build_graph`)
in :mod:`topoloss.engine.analysis`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from topoloss.config import StudyConfig
from topoloss.engine._minima import train_into
from topoloss.engine._path_rounds import optimize_planned
from topoloss.engine.analysis import POINT_ATTR_MAX_DIM, Analysis, build_graph
from topoloss.engine.planners import make_planner, select_pairs
from topoloss.engine.provenance import minima_fingerprint
from topoloss.engine.store import Run
from topoloss.errors import InputTypeError
from topoloss.landscapes.base import Landscape
from topoloss.minima.find import Minima, as_minima, find_minima
from topoloss.paths.record import PathRecord
from topoloss.topology.persistence import loss_barcode
from topoloss.topology.score import to_score

# Analysis, build_graph and POINT_ATTR_MAX_DIM live in topoloss.engine.analysis; importable here too
__all__ = ["POINT_ATTR_MAX_DIM", "Analysis", "analyze", "build_graph", "check_pairs", "connect", "prepare_minima",
           "run_pipeline", "run_study"]


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
def check_pairs(config: StudyConfig, minima: Minima) -> None:
    """Raise :class:`~topoloss.errors.InputError` now if ``config.paths.pairs`` cannot be
    planned on ``minima`` (e.g. a pair names a minimum that does not exist)."""
    if not isinstance(config.paths.pairs, str):
        select_pairs(minima, config.paths.pairs)
    else:
        make_planner(config.paths.pairs)


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
    paths, out, straight = optimize_planned(landscape, found, config, store=store, progress=progress, say=say,
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
    from topoloss.engine.factories import make_landscape

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
    return optimize_planned(landscape, found, cfg, store=None, progress=progress, say=lambda m: None,
                     on_path=on_path)[0]
