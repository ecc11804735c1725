"""Run directories: every finished result on disk the moment it is finished.

A run directory holds one study; every file and folder in it, and what each holds, is
listed once, in :class:`~topoloss._layout.RunLayout` (``Run(...).layout``), the store's
one list of names.

Minima names in file names are escaped by :func:`file_name`, so that
different names (and different pairs) always give different files. A run written before
(names made safe by replacing characters, which could collide) still resumes: files are
read by the names recorded inside them, and a path moves to its new name when saved.

Every file is written atomically (temporary file + rename), so a run killed at any
moment leaves only complete files, and a reader never sees a partial one. Opening the
same directory with the same config resumes it (the stopping rules,
:data:`~topoloss.config.SESSION_OPTIONS`, may differ); a different config is refused unless
``new=True`` moves the old run aside.

Every path file and every trained minimum records the fingerprint of the options and
inputs that made it (:mod:`topoloss.engine.provenance`), and the engine reuses it only
when the fingerprint matches.

A process that writes a run holds an exclusive lock on ``RUN/.lock`` (``flock``; the
file names the holder). The operating system releases it when the process ends, however
it ends, so a killed writer leaves no stale lock. A second writer is refused with
:class:`RunLocked`. Readers take no lock.

:class:`Run` is made of parts by responsibility: the lock (:mod:`~topoloss.engine._store_lock`),
config compatibility (:mod:`~topoloss.engine._store_config`), the minima and checkpoint
export (:mod:`~topoloss.engine._store_minima`), the paths (:mod:`~topoloss.engine._store_paths`);
the graph, plan and barcode are here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from topoloss._filenames import file_name
from topoloss._io import atomic_write_text
from topoloss._layout import RunLayout
from topoloss._validate import finite_or_none
from topoloss.config import with_added_defaults
from topoloss.engine._store_base import PathLike, file_sha256, jsonable
from topoloss.engine._store_config import canonical, diff_keys, fixed, read_config
from topoloss.engine._store_lock import RunLock, RunLocked, aside_name
from topoloss.engine._store_minima import MinimaFiles
from topoloss.engine._store_paths import PathFiles
from topoloss.errors import ConfigMismatch, CorruptResult
from topoloss.topology.barcode import Barcode
from topoloss.topology.graph import LandscapeGraph

__all__ = ["ConfigMismatch", "CorruptResult", "Run", "RunLayout", "RunLocked", "file_name", "file_sha256"]


class Run(MinimaFiles, PathFiles):
    """A run directory (see the module docstring for its layout).

    Parameters
    ----------
    directory : path
        The folder; created if absent.
    config : mapping, optional
        The study's configuration (JSON-serializable). Stored on first use; when the
        folder already holds a different one, :class:`ConfigMismatch` is raised.
        Omit it to open an existing run (its stored config is used). A config that
        only adds top-level keys to the stored one (e.g. ``paths`` after
        ``topoloss train``) extends the run.
    new : bool
        If the folder holds a run, move it aside to ``DIRECTORY.old-<timestamp>-<pid>``
        and start afresh (instead of resuming it, or refusing a different config).
    keys : tuple of str, optional
        Store only these top-level keys of ``config`` now (the whole ``config`` is still
        checked against the stored one); :meth:`commit` stores the rest. The engine
        uses this to write the ``paths`` options only once they are known to work.

    Opening with a ``config`` takes the run's lock (see the module docstring); opening
    without one reads and takes the lock only when something is written.

    Raises
    ------
    ConfigMismatch
        The stored config differs from ``config`` and ``new`` is false.
    RunLocked
        Another process is writing the run.
    FileNotFoundError
        ``config`` is omitted and the folder holds no run.
    """

    def __init__(self, directory: PathLike, config: Mapping[str, Any] | None = None, *, new: bool = False,
                 keys: tuple[str, ...] | None = None) -> None:
        self.dir = Path(directory)
        self.layout = RunLayout(self.dir)
        self._lock: RunLock | None = None
        self._pending: dict[str, Any] | None = None
        if config is None:
            stored = self._read_config()
            if stored is None:
                raise FileNotFoundError(f"{self.dir} is not a topoloss run directory (no {RunLayout.CONFIG})")
            self.config: dict[str, Any] = stored
            return
        config = dict(with_added_defaults(json.loads(canonical(config))))
        self._lock = RunLock.acquire(self.dir)
        try:
            stored = self._read_config()
        except CorruptResult:
            if not new:
                raise
            stored = {}  # unreadable: moved aside below, as --new promises
        kept, asked = (fixed(stored), fixed(config)) if stored is not None else ({}, {})
        extends = stored is not None and all(
            canonical({"v": kept[k]}) == canonical({"v": asked.get(k)}) for k in kept
        )
        if stored is not None and (new or not extends):
            if not new:
                changes = "; ".join(diff_keys(kept, asked)[:6])
                raise ConfigMismatch(
                    f"{self.dir} holds a run with a different configuration ({changes}); "
                    "use a new directory, or --new to move the old run aside"
                )
            old = self._lock
            os.rename(self.dir, aside_name(self.dir))
            old.release()
            self._lock = RunLock.acquire(self.dir)
            stored = None
        self.config = config
        now = config if keys is None else {k: v for k, v in config.items() if k in keys}
        if stored is not None:
            now = {**stored, **now}
        if stored is None or canonical(stored) != canonical(now):
            atomic_write_text(self.layout.config, json.dumps(now, indent=1, sort_keys=True))
        if canonical(now) != canonical(config):
            self._pending = config

    def commit(self) -> None:
        """Store the part of the config held back by ``keys`` (nothing if none is)."""
        if self._pending is not None:
            self._write_lock()
            atomic_write_text(self.layout.config, json.dumps(self._pending, indent=1, sort_keys=True))
            self._pending = None

    def _write_lock(self) -> None:
        """Take the run's lock before the first write of a run opened for reading."""
        if self._lock is None:
            self._lock = RunLock.acquire(self.dir)

    def close(self) -> None:
        """Release this object's hold on the lock (the lock goes when no :class:`Run` of this
        process holds it; it also goes when the process ends)."""
        self._lock = None

    def __repr__(self) -> str:
        return f"Run({str(self.dir)!r})"

    def _read_config(self) -> dict[str, Any] | None:
        return read_config(self.layout)

    # ------------------------------------------------------------------ results
    def save_graph(self, graph: LandscapeGraph) -> None:
        """Write ``graph.json``."""
        self._write_lock()
        graph.to_json(self.layout.graph)

    def load_graph(self) -> LandscapeGraph | None:
        """The stored graph, or ``None``."""
        p = self.layout.graph
        return LandscapeGraph.from_json(p) if p.exists() else None

    def save_plan(self, pairs: list[tuple[Hashable, Hashable, str]],
                  notes: Mapping[tuple[Hashable, Hashable], Mapping[str, Any]] | None = None, *,
                  straight: Any = None) -> None:
        """Write ``plan.json``: the planned pairs in order, each with why it was planned, plus
        ``notes[(u, v)]`` where given (e.g. a straight-segment fallback,
        :func:`topoloss.paths.fallback.fallback_notes`), and the planner's straight-segment
        bounds (minima order; ``null`` where infinite) if given."""
        self._write_lock()
        notes = notes or {}
        data: dict[str, Any] = {"pairs": [{"u": u, "v": v, "reason": why, **notes.get((u, v), notes.get((v, u), {}))}
                                          for u, v, why in pairs]}
        if straight is not None:
            data["straight_bounds"] = [[finite_or_none(x) for x in row] for row in straight]
        atomic_write_text(self.layout.plan, json.dumps(data, indent=1, default=jsonable))

    def load_plan(self) -> list[dict[str, Any]] | None:
        """The stored plan (``[{"u", "v", "reason"}, ...]``), or ``None``."""
        p = self.layout.plan
        return list(json.loads(p.read_text())["pairs"]) if p.exists() else None

    def load_straight_bounds(self) -> np.ndarray | None:
        """The straight-segment bounds stored with the plan (``inf`` for ``null``), or ``None``."""
        p = self.layout.plan
        rows = json.loads(p.read_text()).get("straight_bounds") if p.exists() else None
        return None if rows is None else np.array([[np.inf if x is None else x for x in r] for r in rows], float)

    def save_barcode(self, barcode: Barcode) -> None:
        """Write ``barcode.json``: bars, saddles, TO-scores."""
        from topoloss.topology.score import barcode_summary

        self._write_lock()
        data = barcode_summary(barcode)
        atomic_write_text(self.layout.barcode, json.dumps(data, indent=1, default=jsonable))

    def load_barcode(self) -> Barcode | None:
        """The stored barcode, or ``None``."""
        p = self.layout.barcode
        return Barcode.from_dict(json.loads(p.read_text())) if p.exists() else None
