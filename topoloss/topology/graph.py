"""The landscape graph: minima as weighted nodes, optimized paths as weighted edges.

A :class:`LandscapeGraph` is the object that sits between path optimization and
persistence (SPEC §4). Nodes carry the loss of a minimum; edges carry the barrier of
the lowest path found between two minima, and every path record ever added for that
pair.

This module is the array core: the graph is held in arrays (losses; edge endpoints and
barriers), so a million paths need no Python object each. Its builders
(:meth:`~LandscapeGraph.from_barriers`, ...), conversions (networkx, JSON dicts) and
files (:meth:`~LandscapeGraph.read`, :meth:`~LandscapeGraph.write`) are methods it
inherits from :class:`~topoloss.topology._graph_methods.GraphMethods`; they are
implemented in :mod:`~topoloss.topology.graph_build`,
:mod:`~topoloss.topology.graph_convert` and :mod:`~topoloss.topology.graph_io`, which
import this module and are not imported by it. They reach the arrays through the
documented methods of the section "arrays, for builders and readers".
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator, Mapping
from copy import deepcopy
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from topoloss._validate import check_number
from topoloss.errors import InputError
from topoloss.topology._graph_methods import GraphMethods, graph_method
from topoloss.topology._graph_values import BELOW_TOL, paths_pass, unwrap
from topoloss.topology.forest import spanning_forest

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

__all__ = ["LandscapeGraph"]


class LandscapeGraph(GraphMethods):
    """Minima and the paths between them, as a weighted undirected graph.

    Node ``m`` has the attribute ``loss`` (the level ``L(m)``); edge ``(a, b)`` has the
    attribute ``barrier`` (the lowest barrier of all paths added between ``a`` and
    ``b``) and ``paths``, the list of every path record added for that pair (and the
    ``test_loss``/``test_accuracy`` at the barrier point of its lowest record, if measured).

    Node order is insertion order; it breaks ties between minima of equal loss in
    :func:`topoloss.loss_barcode` (the earlier-added minimum is the elder). Edge order
    is networkx's: by the earlier-added endpoint, then by when the pair's first path
    was added; it breaks ties between equal barriers.

    Parameters
    ----------
    graph : networkx.Graph, optional
        Start from a copy of this graph; it is validated like :meth:`from_networkx`.

    Examples
    --------
    >>> g = LandscapeGraph()
    >>> g.add_minimum("a", loss=0.1)
    >>> g.add_minimum("b", loss=0.3)
    >>> g.add_path("a", "b", barrier=0.9)
    >>> g.barrier("a", "b")
    0.9
    """

    def __init__(self, graph: nx.Graph | None = None) -> None:
        self._names: list[Hashable] = []
        self._index: dict[Hashable, int] = {}
        self._loss: list[float] = []
        self._extra: list[dict[str, Any]] = []  # node attributes other than the loss
        # Edges as their pair was first added, endpoints lo < hi; buffers (doubling), first _m used.
        self._lo: np.ndarray = np.empty(0, dtype=np.int64)
        self._hi: np.ndarray = np.empty(0, dtype=np.int64)
        self._w: np.ndarray = np.empty(0)
        self._m = 0
        # Explicit path records by edge; without, the one record {"barrier": its barrier}.
        self._records: dict[int, list[dict[str, Any]]] = {}
        self._pos: dict[tuple[int, int], int] | None = {}  # (lo, hi) -> edge; None: not built
        self._canon: np.ndarray | None = None  # networkx's edge order, once computed
        self._frozen = False  # see freeze()
        if graph is not None:
            graph_method("from_networkx")(graph, into=self)

    # ------------------------------------------------------------------ freezing
    def freeze(self) -> LandscapeGraph:
        """Make this graph read-only, in place, and return it (as ``networkx.freeze``).

        Every method that would change it then raises :class:`~topoloss.errors.InputError`;
        :meth:`copy` gives a changeable copy. An :class:`~topoloss.engine.analysis.Analysis`
        holds its graph frozen, so its barcode is always the barcode of its graph.

        >>> g = LandscapeGraph.from_barriers([0.0, 0.1], [[0.0, 1.0], [1.0, 0.1]]).freeze()
        >>> g.frozen, g.copy().frozen
        (True, False)
        """
        self._frozen = True
        return self

    @property
    def frozen(self) -> bool:
        """Whether the graph is read-only (:meth:`freeze`)."""
        return self._frozen

    def copy(self) -> LandscapeGraph:
        """A deep copy, changeable even when this graph is frozen."""
        out = deepcopy(self)
        out._frozen = False
        return out

    def _check_changeable(self, what: str) -> None:
        if self._frozen:
            raise InputError(f"cannot {what}: this LandscapeGraph is frozen (the graph of an Analysis, whose "
                             f"barcode was computed from it); change graph.copy(), or use Analysis.with_path")

    # ------------------------------------------------------------------ building
    def add_minimum(self, name: Hashable, loss: float, **attrs: Any) -> None:
        """Add a minimum ``name`` at level ``loss``; extra keyword attributes are stored.

        Raises
        ------
        InputError
            If ``loss`` is NaN or infinite, or ``name`` is already a minimum.
        """
        name = unwrap(name)  # numpy scalars as plain Python values (names, messages)
        self._check_changeable(f"add minimum {name!r}")
        loss = check_number(unwrap(loss), f"loss of minimum {name!r}")
        if name in self._index:
            raise InputError(f"minimum {name!r} already exists")
        self._index[name] = len(self._names)
        self._names.append(name)
        self._loss.append(loss)
        self._extra.append(dict(attrs))

    def add_path(self, u: Hashable, v: Hashable, barrier: float, **attrs: Any) -> None:
        """Record a path between minima ``u`` and ``v`` whose highest loss is ``barrier``.

        The edge keeps the lowest barrier over all paths added for the pair; every
        path's record (``barrier`` plus ``attrs``) is appended to the edge's ``paths``.

        Raises
        ------
        InputError
            If ``u`` or ``v`` is not a minimum, ``u == v``, or ``barrier`` is NaN,
            infinite or below the loss of either endpoint.
        """
        u, v = unwrap(u), unwrap(v)
        self._check_changeable(f"add a path between {u!r} and {v!r}")
        for node in (u, v):
            if node not in self:
                raise InputError(f"unknown minimum {node!r}; add it with add_minimum first")
        if u == v:
            raise InputError(f"self-loop at minimum {u!r}: a path needs two different minima")
        barrier = check_number(unwrap(barrier), f"barrier between {u!r} and {v!r}")
        for node in (u, v):
            level = self._loss[self._index[node]]
            if barrier < level - BELOW_TOL * max(1.0, abs(level)):
                raise InputError(f"barrier={barrier!r} between {u!r} and {v!r} is below the loss "
                                 f"{level!r} of {node!r}")
            barrier = max(barrier, level)
        i, j = self._index[u], self._index[v]
        key = (i, j) if i < j else (j, i)
        k = self._edge_pos().get(key)
        if k is None:
            k = self._append_edge(key[0], key[1], barrier)
            if attrs:
                self._records[k] = [{"barrier": barrier, **attrs}]
        else:
            self._edge_records(k).append({"barrier": barrier, **attrs})
            self._w[k] = min(float(self._w[k]), barrier)

    def _append_edge(self, lo: int, hi: int, barrier: float) -> int:
        k = self._m
        if k == self._w.shape[0]:
            cap = max(16, 2 * k)
            self._lo, self._hi, self._w = (np.resize(a, cap) for a in (self._lo, self._hi, self._w))
        self._lo[k], self._hi[k], self._w[k] = lo, hi, barrier
        self._m = k + 1
        if self._pos is not None:
            self._pos[lo, hi] = k
        self._canon = None
        return k

    def _edge_pos(self) -> dict[tuple[int, int], int]:
        if self._pos is None:
            m = self._m
            self._pos = dict(zip(zip(self._lo[:m].tolist(), self._hi[:m].tolist()), range(m)))
        return self._pos

    def _edge_records(self, k: int) -> list[dict[str, Any]]:
        """The (mutable) list of path records of edge ``k``, made explicit."""
        recs = self._records.get(k)
        if recs is None:
            recs = self._records[k] = [{"barrier": float(self._w[k])}]
        return recs

    def _order(self) -> np.ndarray:
        """Edges (insertion indices) in networkx's order: by ``lo``, then insertion."""
        if self._canon is None:
            lo = self._lo[: self._m]
            in_order = lo.size < 2 or bool((lo[1:] >= lo[:-1]).all())
            self._canon = np.arange(self._m) if in_order else np.argsort(lo, kind="stable")
        return self._canon

    # ------------------------------------------------------------------ access
    @property
    def nodes(self) -> list[Hashable]:
        """Minima in insertion order."""
        return list(self._names)

    @property
    def edges(self) -> list[tuple[Hashable, Hashable]]:
        """Pairs of minima joined by at least one path (earlier-added minimum first)."""
        names = self._names
        return [(names[i], names[j]) for i, j in self.edge_arrays()[0].tolist()]

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        try:
            return name in self._index
        except TypeError:  # unhashable
            return False

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._names)

    def __repr__(self) -> str:
        return f"LandscapeGraph({len(self._names)} minima, {self._m} paths)"

    def loss(self, name: Hashable) -> float:
        """Loss of minimum ``name``."""
        self._check_node(name)
        return self._loss[self._index[name]]

    def _edge(self, u: Hashable, v: Hashable) -> int | None:
        """Insertion index of the edge between ``u`` and ``v``, ``None`` if there is none."""
        if u not in self or v not in self:
            return None
        i, j = self._index[u], self._index[v]
        return self._edge_pos().get((i, j) if i < j else (j, i))

    def barrier(self, u: Hashable, v: Hashable) -> float:
        """Lowest barrier recorded between ``u`` and ``v`` (``inf`` if none)."""
        self._check_node(u)
        self._check_node(v)
        k = self._edge(u, v)
        return math.inf if k is None else float(self._w[k])

    def paths(self, u: Hashable, v: Hashable) -> list[dict[str, Any]]:
        """All path records added between ``u`` and ``v`` (a copy of each record)."""
        k = self._edge(u, v)
        if k is None:
            return []
        recs = self._records.get(k)
        return [{"barrier": float(self._w[k])}] if recs is None else [dict(r) for r in recs]

    def attrs(self, name: Hashable) -> dict[str, Any]:
        """All attributes of minimum ``name`` (a copy; includes ``loss``)."""
        self._check_node(name)
        i = self._index[name]
        return {"loss": self._loss[i], **self._extra[i]}

    def losses(self) -> np.ndarray:
        """Losses of all minima, in node order."""
        return np.array(self._loss, dtype=float)

    def barrier_matrix(self) -> np.ndarray:
        """``(n, n)`` matrix of barriers in node order; ``inf`` where there is no path.

        The diagonal holds each minimum's own loss.
        """
        n, m = len(self._names), self._m
        out = np.full((n, n), np.inf)
        np.fill_diagonal(out, self.losses())
        out[self._lo[:m], self._hi[:m]] = self._w[:m]
        out[self._hi[:m], self._lo[:m]] = self._w[:m]
        return out

    def edge_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Edges as index pairs in node order and their barriers: ``(E, 2)`` ints, ``(E,)``.

        In the order of :attr:`edges`, each pair as ``(i, j)`` with ``i < j``.
        """
        order = self._order()
        pairs = np.column_stack([self._lo[order], self._hi[order]])
        return pairs.reshape(-1, 2), self._w[order]

    def is_connected(self) -> bool:
        """Whether every pair of minima is joined by a chain of paths."""
        n = len(self._names)
        return n > 0 and self._m >= n - 1 and len(self._forest()) == n - 1

    def _forest(self) -> np.ndarray:
        """Insertion indices of the minimum spanning forest's edges, in Kruskal order."""
        pairs, weights = self.edge_arrays()
        return self._order()[spanning_forest(pairs, weights, len(self._names))]

    def minimum_spanning_tree(self) -> LandscapeGraph:
        """The minimum spanning forest by barrier (AutoNEB-style); same barcode.

        Equal barriers are taken in edge order, as :func:`networkx.minimum_spanning_tree`
        does; so the forest keeps the saddles of :func:`topoloss.loss_barcode` too.
        """
        return self._with_edges(self._forest())

    def _check_node(self, name: Hashable) -> None:
        if name not in self:
            raise InputError(f"unknown minimum {name!r}")

    # ------------------------------------------------------------------ arrays, for builders and readers
    def node_index(self) -> Mapping[Hashable, int]:
        """Minimum name -> its position in :attr:`nodes` (a read-only view, kept up to date)."""
        return MappingProxyType(self._index)

    def edge_records(self) -> list[list[dict[str, Any]] | None]:
        """The path records of each edge, in the order of :attr:`edges`.

        ``None`` for an edge that holds only its barrier (no path was added with
        attributes, and only one path was added); otherwise a copy of its list, as
        :meth:`paths` gives it.
        """
        records = self._records
        return [None if (recs := records.get(k)) is None else list(recs) for k in self._order().tolist()]

    def lower_barrier(self, u: Hashable, v: Hashable, barrier: float) -> None:
        """Lower the barrier of the edge ``u``-``v`` to ``barrier`` if that is lower.

        Its path records keep their own barriers (so the edge's barrier may be below all
        of them); used when reading an edge stored with its records.

        Raises
        ------
        InputError
            There is no edge between ``u`` and ``v``.
        """
        self._check_changeable(f"lower the barrier between {u!r} and {v!r}")
        k = self._edge(u, v)
        if k is None:
            raise InputError(f"no path between {u!r} and {v!r}")
        if barrier < self._w[k]:
            self._edge_records(k)  # the records keep their own barriers
            self._w[k] = barrier

    def add_paths_at_once(
        self,
        us: np.ndarray,
        vs: np.ndarray,
        barriers: np.ndarray,
        *,
        records: Mapping[int, list[dict[str, Any]]] | None = None,
    ) -> bool:
        """Add paths without attributes to a graph that has no path yet, all at once.

        ``us`` and ``vs`` index the minima (positions in :attr:`nodes`); no unordered pair
        may repeat. Each barrier is raised to the endpoints' losses, as :meth:`add_path`
        does. ``records`` optionally gives the path records of some of the new edges (by
        their row); the others hold only their barrier.

        Returns
        -------
        bool
            ``False``, adding nothing, unless every path passes
            :func:`~topoloss.topology._graph_values.paths_pass` and the graph has no path:
            then the caller adds them one by one, for :meth:`add_path`'s message.
        """
        self._check_changeable("add paths")
        us = np.asarray(us, dtype=np.int64)
        vs = np.asarray(vs, dtype=np.int64)
        w = np.asarray(barriers, dtype=float)
        loss = self.losses()
        if self._m or not paths_pass(loss, us, vs, w):
            return False
        self._lo, self._hi = np.minimum(us, vs), np.maximum(us, vs)
        self._w = np.maximum(w, np.maximum(loss[us], loss[vs]))  # as add_path: up to the endpoints
        self._m = w.shape[0]
        self._pos = None
        self._canon = None
        if records:
            self._records.update(records)
        return True

    def _with_edges(self, keep: np.ndarray) -> LandscapeGraph:
        """A new graph with these minima and the edges ``keep`` (insertion indices), in that order."""
        out = type(self)()
        out._names, out._index = list(self._names), dict(self._index)
        out._loss, out._extra = list(self._loss), [dict(d) for d in self._extra]
        out._lo, out._hi, out._w, out._m = self._lo[keep], self._hi[keep], self._w[keep], len(keep)
        out._pos = None
        out._records = {k: list(self._records[e]) for k, e in enumerate(keep.tolist()) if e in self._records}
        return out
