"""The result of the engine: :class:`Analysis` (minima, paths, graph, barcode, TO-score),
and :func:`build_graph`, the landscape graph of minima and paths.

An :class:`Analysis` is frozen, and so is what it says: its ``graph`` is a frozen copy of
the one its barcode was computed from (:meth:`LandscapeGraph.freeze`; a change raises and
names ``graph.copy()``), so ``analysis.barcode`` cannot go stale. A graph with one more
path is :meth:`Analysis.with_path`, a new Analysis with the barcode and TO-score
recomputed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from topoloss._validate import finite_or_none
from topoloss.engine.bar_checks import BarCheck, check_bars
from topoloss.engine.progress import ProgressPoint
from topoloss.minima.find import Minima
from topoloss.paths.record import PathRecord
from topoloss.topology.barcode import Barcode
from topoloss.topology.graph import LandscapeGraph
from topoloss.topology.persistence import loss_barcode
from topoloss.topology.score import to_score

__all__ = ["POINT_ATTR_MAX_DIM", "Analysis", "build_graph"]

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
        with their barriers and records: a copy of the graph given, frozen
        (:meth:`LandscapeGraph.freeze`), so the barcode is always that of this graph; change
        ``graph.copy()``, or get a new Analysis with :meth:`with_path`.
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
    graph: LandscapeGraph  # a frozen copy of the graph given (__post_init__)
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
        if not self.graph.frozen:  # the caller may go on changing what it gave: keep a frozen copy
            object.__setattr__(self, "graph", self.graph.copy().freeze())

    def with_path(self, u: Hashable, v: Hashable, barrier: float, **attrs: Any) -> Analysis:
        """A new Analysis whose graph has one more path, and the barcode and TO-score of that graph.

        Parameters
        ----------
        u, v : hashable
            Two minima of the graph.
        barrier : float
            The path's highest loss (:meth:`LandscapeGraph.add_path`: the edge keeps the lowest).
        **attrs
            Stored with the path's record on the edge.

        Returns
        -------
        Analysis
            The same minima, optimized paths, counts, bounds, history and stop; the graph
            with the path added, its barcode and TO-score. This Analysis is left as it is.

        Examples
        --------
        >>> import topoloss as tl
        >>> result = tl.analyze(tl.analytic.himmelblau(), steps=50, progress=False)
        >>> a, b = result.minima.names[:2]
        >>> low = max(result.graph.loss(a), result.graph.loss(b))
        >>> lower = result.with_path(a, b, low)
        >>> lower.graph.barrier(a, b) == low, len(lower.graph.paths(a, b)) == len(result.graph.paths(a, b)) + 1
        (True, True)
        """
        graph = self.graph.copy()
        graph.add_path(u, v, barrier, **attrs)
        graph.freeze()  # the new Analysis keeps it as it is
        barcode = loss_barcode(graph)
        return dataclasses.replace(self, graph=graph, barcode=barcode, to_score=to_score(barcode))

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
