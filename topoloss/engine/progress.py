"""The progress record of a study, and its stopping rules.

After each finished path the engine recomputes the barcode of the paths done so far (the
graph, GUDHI on its spanning forest) and the bar checks
(:func:`~topoloss.engine.bar_checks.check_bars`), and keeps one
:class:`ProgressPoint` per path: the history of the TO-score and of every death against
the paths done. In Python it is :attr:`Analysis.history <topoloss.engine.pipeline.Analysis>`
and the ``on_progress`` callback of :func:`~topoloss.analyze`; a run directory holds::

    RUN/progress.json           the current snapshot, rewritten atomically after each path
    RUN/progress-history.jsonl  one ProgressPoint per line, appended after each path

``progress.json`` holds ``status`` (``running``, ``finished`` or ``stopped``),
``paths_done`` of ``paths_planned`` (``max_paths`` included; ``plan_size`` without it),
``paths_computed`` in this session and ``paths_reused``,
``elapsed_seconds`` and ``eta_seconds``, the current barcode (the keys of ``barcode.json``:
``intervals``, ``bars``, ``to_score``, ...) with, per bar, ``certified``, ``open_pairs`` and
``fallback``; ``pending``, the planned pairs not finished yet with the planner's reason for
each; and ``stopped``, the stopping rule that ended the study (or ``null``).

The history line is appended (one ``write``) before the snapshot is replaced, so a process
killed at any moment leaves a valid snapshot and a history with at most one more line
than it counts; :func:`read_history` ignores a torn last line. A resumed run rewrites the
history from the paths it reuses (the planner replays its decisions), then appends.

Stopping rules (:class:`~topoloss.config.ExecutionConfig`): ``max_paths`` (paths of the
study, stored ones included), ``max_seconds`` (of path work in this session, checked
between pairs), ``until="certified"`` (every bar certified). A stop is a clean end:
every finished path is stored, and the run resumes later with a larger budget.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from topoloss._io import atomic_write_text
from topoloss._layout import RunLayout
from topoloss._validate import finite_or_none
from topoloss.engine.bar_checks import BarCheck, check_bars
from topoloss.errors import CorruptResult

if TYPE_CHECKING:
    from topoloss.config import ExecutionConfig
    from topoloss.engine.planner_base import Planner
    from topoloss.engine.store import Run
    from topoloss.minima.find import Minima
    from topoloss.paths.record import PathRecord
    from topoloss.topology.barcode import Barcode

__all__ = ["HISTORY_FILE", "PROGRESS_FILE", "STOP_RULES", "ProgressPoint", "ProgressTracker", "describe_stop",
           "read_history", "read_progress"]

#: The snapshot's and the history's file names (:class:`~topoloss._layout.RunLayout`).
PROGRESS_FILE = RunLayout.PROGRESS
HISTORY_FILE = RunLayout.HISTORY
#: The stopping rules, by the name ``Analysis.stopped`` and ``progress.json`` give them.
STOP_RULES = ("max_paths", "max_seconds", "certified")

_INF = float("inf")


def _num(x: Any) -> float:
    return _INF if x is None else float(x)


@dataclass(frozen=True)
class ProgressPoint:
    """The state of a study after one more path.

    Attributes
    ----------
    paths_done : int
        Paths in the graph now (this one included).
    pair : tuple
        The path's minima.
    barrier : float
        Its barrier.
    reused : bool
        Read back from the run directory rather than computed in this session.
    elapsed : float
        Seconds of path work in this session when it arrived.
    to_score : float
        The TO-score of the barcode now (``inf`` while the graph is disconnected, if so).
    deaths : tuple of (name, float)
        Every bar's death now (``inf``: essential).
    certified : tuple
        The minima whose bar is certified now (no unconnected pair could lower it).
    """

    paths_done: int
    pair: tuple[Hashable, Hashable]
    barrier: float
    reused: bool
    elapsed: float
    to_score: float
    deaths: tuple[tuple[Hashable, float], ...]
    certified: tuple[Hashable, ...]

    def to_dict(self) -> dict[str, Any]:
        """One JSON line of ``progress-history.jsonl`` (``None`` for ``inf``)."""
        return {"paths_done": self.paths_done, "pair": list(self.pair), "barrier": finite_or_none(self.barrier),
                "reused": self.reused, "elapsed": round(self.elapsed, 3), "to_score": finite_or_none(self.to_score),
                "deaths": [[n, finite_or_none(d)] for n, d in self.deaths], "certified": list(self.certified)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProgressPoint:
        """Inverse of :meth:`to_dict`."""
        u, v = data["pair"]
        return cls(int(data["paths_done"]), (u, v), _num(data["barrier"]), bool(data["reused"]),
                   float(data["elapsed"]), _num(data["to_score"]),
                   tuple((n, _num(d)) for n, d in data["deaths"]), tuple(data["certified"]))


def read_progress(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """The snapshot in ``DIRECTORY/progress.json`` (read only: no lock, nothing written).

    Raises
    ------
    FileNotFoundError
        The folder or its ``progress.json`` does not exist.
    CorruptResult
        The file is not a progress record.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such run directory")
    file = RunLayout(folder).progress
    try:
        text = file.read_text()
    except FileNotFoundError:
        raise FileNotFoundError(f"{folder} has no {PROGRESS_FILE} yet (its paths have not started, or it "
                                "was made before progress records)") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CorruptResult(f"{file}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != "topoloss.progress":
        raise CorruptResult(f"{file}: not a topoloss progress record")
    return data


def read_history(directory: str | os.PathLike[str]) -> tuple[ProgressPoint, ...]:
    """The points of ``DIRECTORY/progress-history.jsonl`` (empty if there is none).

    A last line torn by a killed writer is ignored; any other unreadable line raises
    :class:`~topoloss.errors.CorruptResult`.
    """
    file = RunLayout(directory).history
    try:
        lines = file.read_text().splitlines()
    except FileNotFoundError:
        return ()
    out = []
    for k, line in enumerate(lines):
        try:
            out.append(ProgressPoint.from_dict(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            if k == len(lines) - 1:
                break
            raise CorruptResult(f"{file}: line {k + 1} is not a progress point ({exc})") from None
    return tuple(out)


def describe_stop(rule: str, paths_done: int, rules: ExecutionConfig) -> str:
    """One line saying which stopping rule ended a study, and how to go on.

    Examples
    --------
    >>> from topoloss.config import ExecutionConfig
    >>> describe_stop("max_paths", 10, ExecutionConfig(max_paths=10))
    'stopped by max_paths=10 after 10 paths; every path is stored: run again with a larger max_paths to go on'
    """
    if rule == "certified":
        return f"stopped by until=certified: every bar certified after {paths_done} paths"
    value = rules.max_paths if rule == "max_paths" else rules.max_seconds
    return (f"stopped by {rule}={value:g} after {paths_done} paths; every path is stored: run again with a "
            f"larger {rule} to go on")


class ProgressTracker:
    """The engine's progress record of one study session (see the module docstring).

    Parameters
    ----------
    minima : Minima
        The minima (nodes).
    planner : Planner
        The pair planner (its ``capacity``, ``planned`` and ``reasons`` are read).
    execution : ExecutionConfig
        The stopping rules.
    store : Run, optional
        Where ``progress.json`` and the history go.
    on_progress : callable, optional
        Called with the snapshot (the content of ``progress.json``) after each path.
    clock : callable
        Seconds (monotonic); for tests.
    """

    def __init__(self, minima: Minima, planner: Planner, execution: ExecutionConfig, *, store: Run | None = None,
                 on_progress: Callable[[dict[str, Any]], object] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.minima, self.planner, self.rules, self.store = minima, planner, execution, store
        self.on_progress, self.clock = on_progress, clock
        self.started = clock()
        self.first_compute: float | None = None
        self.done: dict[frozenset[int], PathRecord] = {}
        self.history: list[ProgressPoint] = []
        self.computed = self.reused = 0
        self.pending: list[tuple[int, int]] = []
        self.stopped: str | None = None
        self.checks: tuple[BarCheck, ...] = ()
        self.barcode: Barcode | None = None
        self._written = 0  # history lines of this session on disk; 0: rewrite the file at the next write
        self._update()

    # -- the engine's interface
    def elapsed(self) -> float:
        return self.clock() - self.started

    def should_stop(self) -> bool:
        """Whether a stopping rule has fired (``max_seconds`` is checked now): the executors' ``stop``."""
        limit = self.rules.max_seconds
        if self.stopped is None and limit is not None and self.elapsed() >= limit:
            self.stopped = "max_seconds"
        return self.stopped is not None

    def reuse(self, paths: Sequence[PathRecord]) -> None:
        """Paths of a round read back from the run directory (one write for all of them)."""
        for path in paths:
            self._add(path, reused=True)
        if paths:
            self._check()
            self.write()

    def begin_round(self, todo: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """The pairs of a round to run now: ``todo`` cut to what ``max_paths`` leaves (``[]`` once stopped)."""
        if self.should_stop():
            return []
        out = list(todo)
        cap = self.rules.max_paths
        if cap is not None and len(self.done) + len(out) > cap:
            out = out[: max(0, cap - len(self.done))]
        self.pending = list(todo)  # the round's pairs; those cut off stay pending (the next pairs of a resume)
        if self.first_compute is None and out:
            self.first_compute = self.clock()
        if not out and todo:
            self.stopped = "max_paths"
        return out

    def add(self, path: PathRecord) -> None:
        """A path computed now: update the record, check the rules, write."""
        self._add(path, reused=False)
        self._check()
        self.write()

    def finish(self) -> None:
        """The final snapshot (``finished`` or ``stopped``)."""
        self.pending = [p for p in self.pending if frozenset(p) not in self.done] if self.stopped else []
        self.write(final=True)

    # -- state
    def _add(self, path: PathRecord, *, reused: bool) -> None:
        i, j = self.minima.index(path.u), self.minima.index(path.v)
        self.done[frozenset((i, j))] = path
        if reused:
            self.reused += 1
        else:
            self.computed += 1
        self.pending = [p for p in self.pending if frozenset(p) != frozenset((i, j))]
        self._update()
        assert self.barcode is not None
        from topoloss.topology.score import to_score

        deaths = tuple((n, float(d)) for n, (_, d) in zip(self.barcode.names, self.barcode.intervals))
        self.history.append(ProgressPoint(
            len(self.done), (path.u, path.v), float(path.barrier), reused, self.elapsed(),
            float(to_score(self.barcode)), deaths, tuple(c.name for c in self.checks if c.certified)))

    def _update(self) -> None:
        """The barcode and bar checks of the paths done (in the planner's order)."""
        from topoloss.topology.graph import LandscapeGraph
        from topoloss.topology.persistence import loss_barcode

        order = {frozenset(p): k for k, p in enumerate(self.planner.planned())}
        paths = sorted(self.done.items(), key=lambda kv: order.get(kv[0], len(order)))
        edges = [SimpleNamespace(u=p.u, v=p.v, barrier=p.barrier) for _, p in paths]
        graph = LandscapeGraph.from_paths(self.minima, edges, points=False)
        self.barcode = loss_barcode(graph)
        self.checks = check_bars(graph, self.barcode, [p.pair for _, p in paths if p.fallback is not None])

    def _check(self) -> None:
        if self.stopped is not None or len(self.done) >= (self._plan_size() or _INF):
            return  # the plan itself is spent: no rule stopped it
        if self.rules.max_paths is not None and len(self.done) >= self.rules.max_paths:
            self.stopped = "max_paths"
        elif self.rules.until == "certified" and self.checks and all(c.certified for c in self.checks):
            self.stopped = "certified"
        else:
            self.should_stop()

    # -- the record
    def _plan_size(self) -> int | None:
        """The planner's most paths (``capacity``), or what a static planner planned."""
        capacity = self.planner.capacity(len(self.minima))
        return int(capacity) if capacity is not None else (len(self.planner.planned()) or None)

    def planned_total(self) -> int | None:
        """Paths the study will have when the plan is spent (``max_paths`` included)."""
        total = self._plan_size()
        if total is not None:
            total = max(total, len(self.done))
        if self.rules.max_paths is not None:
            total = self.rules.max_paths if total is None else min(total, self.rules.max_paths)
        return total

    def snapshot(self, *, final: bool = False) -> dict[str, Any]:
        """The content of ``progress.json`` now."""
        from topoloss.topology.score import barcode_summary

        assert self.barcode is not None
        status = "stopped" if final and self.stopped else "finished" if final else "running"
        planned = len(self.done) if status == "finished" else self.planned_total()
        elapsed = self.elapsed()
        eta: float | None = None
        if final:
            eta = 0.0
        elif self.computed and planned is not None and self.first_compute is not None:
            eta = (self.clock() - self.first_compute) / self.computed * max(0, planned - len(self.done))
            if self.rules.max_seconds is not None:
                eta = max(0.0, min(eta, self.rules.max_seconds - elapsed))
        summary = barcode_summary(self.barcode)
        checks = {c.name: c for c in self.checks}
        for bar in summary["bars"]:
            c = checks[bar["minimum"]]
            bar.update(certified=c.certified, open_pairs=c.open_pairs, fallback=c.fallback)
        reasons = self.planner.reasons()
        names = self.minima.names
        last = self.history[-1] if self.history else None
        return {
            "format": "topoloss.progress", "version": 1, "status": status,
            "stopped": self.stopped if final else None, "stop_detail": self._detail() if final else None,
            "updated": time.time(), "elapsed_seconds": round(elapsed, 3),
            "eta_seconds": None if eta is None else round(eta, 3),
            "paths_done": len(self.done), "paths_planned": planned, "plan_size": self._plan_size(),
            "paths_computed": self.computed, "paths_reused": self.reused, "minima": len(names),
            "rules": {"max_paths": self.rules.max_paths, "max_seconds": self.rules.max_seconds,
                      "until": self.rules.until},
            "last_path": None if last is None else {"u": last.pair[0], "v": last.pair[1],
                                                    "barrier": finite_or_none(last.barrier)},
            **summary,
            "certified": sum(c.certified for c in self.checks),
            "pending": [{"u": names[i], "v": names[j], "reason": reasons.get((i, j), "")} for i, j in self.pending],
            "history_file": HISTORY_FILE,
        }

    def _detail(self) -> str | None:
        return None if self.stopped is None else describe_stop(self.stopped, len(self.done), self.rules)

    def write(self, *, final: bool = False) -> None:
        """Append the new history lines, then replace ``progress.json``; call ``on_progress``."""
        if self.store is None and self.on_progress is None:
            return  # nobody reads the snapshot: the history in memory is all there is
        snap = self.snapshot(final=final)
        if self.store is not None:
            layout = self.store.layout
            self.store._write_lock()
            lines = [json.dumps(p.to_dict(), default=str) + "\n" for p in self.history]
            if self._written == 0 and (lines or not layout.history.exists()):
                atomic_write_text(layout.history, "".join(lines))
            elif len(lines) > self._written:
                _append(layout.history, "".join(lines[self._written:]))
            self._written = len(lines)
            if self._written or final or not layout.progress.exists():
                atomic_write_text(layout.progress, json.dumps(snap, indent=1, default=str))
        if self.on_progress is not None:
            self.on_progress(snap)


def _append(file: Path, text: str) -> None:
    """Append ``text`` with one ``write`` and flush it to disk."""
    fd = os.open(file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
