"""The layout of a run directory: the store's one list of file and folder names.

A run directory (:class:`topoloss.engine.store.Run`) holds one study::

    RUN/
      config.json             what was asked (model, data, curve, ...); fixed for the run
      minima.json             names, losses, metrics, and where each minimum came from
      minima.safetensors      the minima's points
      paths/U--V.safetensors  one file per finished path: tensors + the record as metadata
      minima/NAME.safetensors one file per trained minimum, while training (resume)
      graph.json              the landscape graph
      barcode.json            bars, saddles, TO-score
      plan.json               the planned pairs, why each was planned, the straight-segment bounds
      progress.json           the study's progress, rewritten after each path
      progress-history.jsonl  the TO-score and every death after each path, one line per path
      checkpoints/NAME.safetensors  the minima as state dicts (``topoloss train --export``)
      report/                 figures and the summary (``topoloss report``)
      .lock                   held by the process writing the run (it names the holder)

``U``, ``V`` and ``NAME`` are the minima's names escaped by
:func:`~topoloss._filenames.file_name`. The store (:mod:`topoloss.engine.store`) owns this
layout; it sits at the bottom of the package, with no topoloss imports but the file
names, so that every layer that reads a run directory (``LandscapeGraph.read(RUN)`` in
:mod:`topoloss.topology`, the engine, the report, the CLI) reads the same names.
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from topoloss._filenames import file_name, legacy_name

__all__ = ["RunLayout"]


@dataclass(frozen=True)
class RunLayout:
    """Where each file and folder of the run directory ``root`` lies.

    The class attributes are the names (relative to ``root``); the properties and
    methods give the paths.

    Parameters
    ----------
    root : path
        The run directory.

    Examples
    --------
    >>> layout = RunLayout("runs/a")
    >>> layout.graph.as_posix(), layout.path_file("seed0", "seed1").as_posix()
    ('runs/a/graph.json', 'runs/a/paths/seed0--seed1.safetensors')
    >>> RunLayout.GRAPH
    'graph.json'
    """

    root: Path

    CONFIG: ClassVar[str] = "config.json"
    MINIMA_RECORD: ClassVar[str] = "minima.json"
    MINIMA_POINTS: ClassVar[str] = "minima.safetensors"
    MINIMUM_PARTS: ClassVar[str] = "minima"
    PATHS: ClassVar[str] = "paths"
    GRAPH: ClassVar[str] = "graph.json"
    BARCODE: ClassVar[str] = "barcode.json"
    PLAN: ClassVar[str] = "plan.json"
    PROGRESS: ClassVar[str] = "progress.json"
    HISTORY: ClassVar[str] = "progress-history.jsonl"
    CHECKPOINTS: ClassVar[str] = "checkpoints"
    REPORT: ClassVar[str] = "report"
    LOCK: ClassVar[str] = ".lock"
    #: The suffix of every tensor file (a path, a minimum, a checkpoint).
    TENSORS: ClassVar[str] = ".safetensors"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        object.__setattr__(self, "root", Path(root))

    # ------------------------------------------------------------------ files
    @property
    def config(self) -> Path:
        """``config.json``."""
        return self.root / self.CONFIG

    @property
    def minima_record(self) -> Path:
        """``minima.json``."""
        return self.root / self.MINIMA_RECORD

    @property
    def minima_points(self) -> Path:
        """``minima.safetensors``."""
        return self.root / self.MINIMA_POINTS

    @property
    def graph(self) -> Path:
        """``graph.json``."""
        return self.root / self.GRAPH

    @property
    def barcode(self) -> Path:
        """``barcode.json``."""
        return self.root / self.BARCODE

    @property
    def plan(self) -> Path:
        """``plan.json``."""
        return self.root / self.PLAN

    @property
    def progress(self) -> Path:
        """``progress.json``."""
        return self.root / self.PROGRESS

    @property
    def history(self) -> Path:
        """``progress-history.jsonl``."""
        return self.root / self.HISTORY

    @property
    def lock(self) -> Path:
        """``.lock``."""
        return self.root / self.LOCK

    # ------------------------------------------------------------------ folders
    @property
    def paths(self) -> Path:
        """``paths/``: one file per finished path."""
        return self.root / self.PATHS

    @property
    def minimum_parts(self) -> Path:
        """``minima/``: one file per trained minimum, while training."""
        return self.root / self.MINIMUM_PARTS

    @property
    def checkpoints(self) -> Path:
        """``checkpoints/``: the minima as state dicts."""
        return self.root / self.CHECKPOINTS

    @property
    def report(self) -> Path:
        """``report/``: figures and the summary."""
        return self.root / self.REPORT

    # ------------------------------------------------------------------ files named by minima
    def path_file(self, u: Hashable, v: Hashable) -> Path:
        """``paths/U--V.safetensors``: where the path between minima ``u`` and ``v`` is stored."""
        return self.paths / f"{file_name(u)}--{file_name(v)}{self.TENSORS}"

    def legacy_path_file(self, u: Hashable, v: Hashable) -> Path:
        """Where a run written before :func:`~topoloss._filenames.file_name` stored that path
        (maybe another pair's: the older names could collide)."""
        return self.paths / f"{legacy_name(u)}--{legacy_name(v)}{self.TENSORS}"

    def minimum_part(self, name: Hashable) -> Path:
        """``minima/NAME.safetensors``: one trained minimum."""
        return self.minimum_parts / f"{file_name(name)}{self.TENSORS}"

    def checkpoint(self, name: Hashable) -> Path:
        """``checkpoints/NAME.safetensors``: one minimum as a state dict."""
        return self.checkpoints / f"{file_name(name)}{self.TENSORS}"

    def path_files(self) -> list[Path]:
        """Every file in ``paths/``, sorted."""
        return sorted(self.paths.glob(f"*{self.TENSORS}"))

    def minimum_part_files(self) -> list[Path]:
        """Every file in ``minima/``, sorted."""
        return sorted(self.minimum_parts.glob(f"*{self.TENSORS}"))
