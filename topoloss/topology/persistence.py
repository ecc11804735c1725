"""0-dimensional persistence of a landscape graph with GUDHI: :func:`loss_barcode` (SPEC §4).

The result type, :class:`~topoloss.topology.barcode.Barcode`, lives in
:mod:`topoloss.topology.barcode`; this module computes it.
"""

from __future__ import annotations

from collections.abc import Hashable

import gudhi
import numpy as np

from topoloss.errors import InputError, InputTypeError
from topoloss.topology.barcode import Barcode
from topoloss.topology.forest import spanning_forest
from topoloss.topology.graph import LandscapeGraph

__all__ = ["loss_barcode"]


class _UnionFind:
    """Components whose root is the elder minimum (lowest rank)."""

    def __init__(self, rank: np.ndarray) -> None:
        self.parent = list(range(len(rank)))
        self.rank = rank

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def union(self, i: int, j: int) -> int:
        """Merge the components of ``i`` and ``j``; the younger root, which dies (``-1``: one component)."""
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return -1
        if self.rank[rj] < self.rank[ri]:
            ri, rj = rj, ri
        self.parent[rj] = ri
        return rj


def _elder_rule_replay(rank: np.ndarray, pairs: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Add the edges ``pairs`` (rows ``(a, b)``) level by level, by increasing ``levels``
    (equal levels in row order), to components whose root is the elder minimum (lowest
    ``rank``).

    Returns ``(dying, merges)``, one entry per row: the younger root the edge merges away
    by the elder rule (``-1`` if the edge closes a cycle), and the root of the edge's
    component once every edge of its level is in (the elder the bar merges into).
    """
    uf = _UnionFind(rank)
    dying = np.full(levels.shape[0], -1, dtype=np.int64)
    merges = np.full(levels.shape[0], -1, dtype=np.int64)
    order = np.argsort(levels, kind="stable")
    start = 0
    while start < len(order):
        stop = start
        level = levels[order[start]]
        while stop < len(order) and levels[order[stop]] == level:
            a, b = pairs[order[stop]]
            dying[order[stop]] = uf.union(int(a), int(b))
            stop += 1
        for k in order[start:stop]:
            merges[k] = uf.find(int(pairs[k, 0]))
        start = stop
    return dying, merges


def _persistence_generators(
    losses: np.ndarray, pairs: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """GUDHI's 0-dim persistence generators of the graph's sublevel filtration.

    GUDHI's own order among simplices of equal filtration value is not the documented
    tie rule, so the filtration handed to GUDHI is the *rank* of each simplex in the
    total order (value, dimension, index): vertices by ``(loss, insertion index)``, a
    vertex before an edge of equal value. Real values are mapped back by the caller.

    Returns ``(regular, essential)``: an ``(k, 3)`` array of (dying vertex, edge u,
    edge v) and an array of essential (never dying) vertices.
    """
    n, m = losses.shape[0], weights.shape[0]
    values = np.concatenate([losses, weights])
    dims = np.concatenate([np.zeros(n, dtype=np.int8), np.ones(m, dtype=np.int8)])
    index = np.concatenate([np.arange(n), np.arange(m)])
    rank = np.empty(n + m)
    rank[np.lexsort((index, dims, values))] = np.arange(n + m, dtype=float)
    st = gudhi.SimplexTree()
    # One by one: GUDHI 3.13's insert_batch ignores the filtration of 0-simplices.
    for i in range(n):
        st.insert([i], rank[i])
    if m:
        st.insert_batch(pairs.T.astype(np.int32), rank[n:])
    st.set_dimension(1)  # so H0 is computed even when there is no edge
    st.compute_persistence(min_persistence=-1)
    regular, _, essential, _ = st.flag_persistence_generators()
    regular = np.asarray(regular, dtype=np.int64).reshape(-1, 3)
    return regular, np.asarray(essential, dtype=np.int64).reshape(-1)


def loss_barcode(graph: LandscapeGraph) -> Barcode:
    """The loss barcode of a landscape graph (SPEC §4), computed with GUDHI.

    Only the edges of the minimum spanning forest can kill a bar, so GUDHI runs on that
    forest (:func:`~topoloss.topology.forest.spanning_forest`, scipy); the bars, saddles
    and merge partners are those of the whole graph, ties included.

    Parameters
    ----------
    graph : LandscapeGraph
        Minima (nodes with ``loss``) and paths (edges with ``barrier``).

    Returns
    -------
    Barcode
        One bar per minimum in node order, zero-length bars included; one infinite bar
        per connected component. Ties between equal losses: the minimum added first is
        the elder (see the module docstring).

    Raises
    ------
    ValueError
        If the graph has no minima.

    Examples
    --------
    >>> g = LandscapeGraph.from_barriers([0.0, 1.0], [[0, 3], [3, 0]])
    >>> loss_barcode(g).intervals.tolist()
    [[0.0, inf], [1.0, 3.0]]
    """
    if not isinstance(graph, LandscapeGraph):
        raise InputTypeError(f"expected a LandscapeGraph, got {type(graph).__name__}")
    names = graph.nodes
    if not names:
        raise InputError("the landscape graph has no minima")
    losses = graph.losses()
    pairs, weights = graph.edge_arrays()
    # Only the minimum spanning forest's edges merge components. Taken in edge order
    # (np.sort), equal barriers keep their order, so the saddles are the same as on the
    # whole graph (see _full_graph_barcode).
    keep = np.sort(spanning_forest(pairs, weights, len(names)))
    return _barcode_of_arrays(names, losses, pairs[keep], weights[keep])


def _full_graph_barcode(graph: LandscapeGraph) -> Barcode:
    """:func:`loss_barcode` computed by GUDHI on every edge, not the spanning forest only.

    The route before the forest; kept as an independent check of it.
    """
    pairs, weights = graph.edge_arrays()
    return _barcode_of_arrays(graph.nodes, graph.losses(), pairs, weights)


def _barcode_of_arrays(
    names: list[Hashable], losses: np.ndarray, pairs: np.ndarray, weights: np.ndarray
) -> Barcode:
    """The barcode of minima ``names`` at ``losses`` and edges ``pairs`` (rows ``(i, j)``,
    ``i < j``) at ``weights``; equal weights are taken in row order."""
    n = len(names)
    regular, essential = _persistence_generators(losses, pairs, weights)
    if regular.shape[0] + essential.shape[0] != n:
        raise RuntimeError(  # pragma: no cover - a GUDHI contract violation
            f"GUDHI returned {regular.shape[0] + essential.shape[0]} bars for {n} minima"
        )

    intervals = np.empty((n, 2))
    intervals[:, 0] = losses
    intervals[:, 1] = np.inf
    saddles: list[tuple[Hashable, Hashable] | None] = [None] * n
    merges: list[Hashable | None] = [None] * n
    if regular.shape[0]:
        death = np.maximum(
            weights[_edge_lookup(pairs, regular[:, 1:])], losses[regular[:, 0]]
        )
        intervals[regular[:, 0], 1] = death
        # Why a union-find after GUDHI: GUDHI computes the persistence (each finite bar's
        # interval and the edge that kills it, its saddle) but does not say which minimum the
        # bar merges into, the elder of the whole component formed at its level
        # (Barcode.merges_into). So the merges alone are replayed, over GUDHI's own killing
        # edges: the replay's components are GUDHI's, so it cannot name a merge GUDHI did not
        # make. That the replay's elder rule on its own gives GUDHI's bars (intervals and
        # saddles, ties included) is tested in test_barcode_forest.py.
        rank = np.empty(n, dtype=np.int64)
        rank[np.lexsort((np.arange(n), losses))] = np.arange(n)
        _, partner = _elder_rule_replay(rank, regular[:, 1:], death)
        for k, (v, a, b) in enumerate(regular.tolist()):
            saddles[v] = (names[a], names[b])
            merges[v] = names[int(partner[k])]
    return Barcode(tuple(names), intervals, tuple(saddles), tuple(merges))


def _edge_lookup(pairs: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Row index in ``pairs`` of each (unordered) edge in ``query``."""
    n = int(max(pairs.max(), query.max())) + 1
    key = np.minimum(pairs[:, 0], pairs[:, 1]) * n + np.maximum(pairs[:, 0], pairs[:, 1])
    qkey = np.minimum(query[:, 0], query[:, 1]) * n + np.maximum(query[:, 0], query[:, 1])
    order = np.argsort(key)
    pos = np.searchsorted(key[order], qkey)
    return order[pos]

