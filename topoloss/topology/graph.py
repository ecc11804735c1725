"""The landscape graph: minima as weighted nodes, optimized paths as weighted edges.

A :class:`LandscapeGraph` is the object that sits between path optimization and
persistence (SPEC §4). Nodes carry the loss of a minimum; edges carry the barrier of
the lowest path found between two minima, and every path record ever added for that
pair.

The graph is held in arrays (losses; edge endpoints and barriers): a million paths need
no Python object each. Builders and conversions (networkx, JSON dicts) live in
:mod:`topoloss.topology.graph_convert`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from topoloss._validate import check_number
from topoloss.errors import InputError
from topoloss.topology import graph_convert as _convert
from topoloss.topology import graph_io as _io
from topoloss.topology.forest import spanning_forest
from topoloss.topology.graph_convert import _BELOW_TOL, _unwrap

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

__all__ = ["LandscapeGraph"]


class LandscapeGraph:
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
        if graph is not None:
            _convert.graph_from_networkx(graph, into=self)

    # ------------------------------------------------------------------ building
    def add_minimum(self, name: Hashable, loss: float, **attrs: Any) -> None:
        """Add a minimum ``name`` at level ``loss``; extra keyword attributes are stored.

        Raises
        ------
        InputError
            If ``loss`` is NaN or infinite, or ``name`` is already a minimum.
        """
        name = _unwrap(name)  # numpy scalars as plain Python values (names, messages)
        loss = check_number(_unwrap(loss), f"loss of minimum {name!r}")
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
        u, v = _unwrap(u), _unwrap(v)
        for node in (u, v):
            if node not in self:
                raise InputError(f"unknown minimum {node!r}; add it with add_minimum first")
        if u == v:
            raise InputError(f"self-loop at minimum {u!r}: a path needs two different minima")
        barrier = check_number(_unwrap(barrier), f"barrier between {u!r} and {v!r}")
        for node in (u, v):
            level = self._loss[self._index[node]]
            if barrier < level - _BELOW_TOL * max(1.0, abs(level)):
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

    @classmethod
    def from_barriers(
        cls,
        losses: Sequence[float] | np.ndarray,
        barriers: Sequence[Sequence[float]] | np.ndarray,
        *,
        names: Sequence[Hashable] | None = None,
    ) -> LandscapeGraph:
        """Build a graph from ``n`` losses and an ``(n, n)`` symmetric barrier matrix.

        Equal to adding the minima, then a path for each finite entry ``[i, j]``, ``i < j``,
        row by row; done on arrays.

        Parameters
        ----------
        losses : array_like, shape (n,)
            Loss of each minimum.
        barriers : array_like, shape (n, n)
            ``barriers[i, j]`` is the barrier between minima ``i`` and ``j``; ``inf``
            or ``nan`` means "no path". The diagonal is ignored.
        names : sequence of hashable, optional
            Node names; default ``0 .. n-1``.

        Raises
        ------
        InputError
            On shape mismatch, an asymmetric matrix, or any invalid loss/barrier.
        """
        return _convert.graph_from_barriers(cls(), losses, barriers, names)

    @classmethod
    def from_edges(
        cls,
        losses: Sequence[float] | np.ndarray,
        edges: Sequence[Sequence[int]] | np.ndarray,
        barriers: Sequence[float] | np.ndarray,
        *,
        names: Sequence[Hashable] | None = None,
    ) -> LandscapeGraph:
        """Build a graph from ``n`` losses and ``E`` paths given as arrays (a sparse graph).

        Equal to adding the minima, then ``add_path(names[i], names[j], barriers[k])`` for
        each row ``k = (i, j)`` of ``edges``, in order; done on arrays.

        Parameters
        ----------
        losses : array_like, shape (n,)
            Loss of each minimum.
        edges : array_like of int, shape (E, 2)
            Indices of the two minima of each path.
        barriers : array_like, shape (E,)
            Barrier of each path; ``inf`` or ``nan`` means "no path" (the row is skipped).
        names : sequence of hashable, optional
            Node names; default ``0 .. n-1``.

        Raises
        ------
        InputError
            On shape mismatch, an index out of range, or any invalid loss/barrier.
        """
        return _convert.graph_from_edges(cls(), losses, edges, barriers, names)

    @classmethod
    def from_paths(cls, minima: Any, paths: Iterable[Any], *, points: bool | None = None) -> LandscapeGraph:
        """The landscape graph of minima and optimized paths (SPEC §4).

        Equal to adding every minimum (``add_minimum(name, loss)``) and then every path
        (``add_path(u, v, barrier, path=record.to_dict(tensors=False), **at_barrier)``) by
        hand, as :func:`topoloss.engine.pipeline.build_graph` does; ``at_barrier``: the record's
        ``test_loss``/``test_accuracy`` at its barrier point (``record.barrier_metrics()``), if measured.

        Parameters
        ----------
        minima : Minima
            Any object with ``names`` and ``losses`` (and ``points`` for ``points=True``):
            one node per minimum, in that order.
        paths : iterable of PathRecord
            Any objects with ``u``, ``v`` and ``barrier``; a ``to_dict(tensors=False)``
            method, when present, gives the record stored on the edge under ``path``.
        points : bool, optional
            Store each minimum's coordinates as node attribute ``point`` (a list);
            default: when there are at most 64 coordinates.

        Raises
        ------
        InputError
            A path joins a minimum that is not in ``minima``, or a barrier is invalid.

        Examples
        --------
        >>> from types import SimpleNamespace as NS
        >>> m = NS(names=("a", "b"), losses=[0.0, 0.5])
        >>> g = LandscapeGraph.from_paths(m, [NS(u="a", v="b", barrier=1.0)])
        >>> g.barrier("a", "b"), g.loss("b")
        (1.0, 0.5)
        """
        return _convert.graph_from_paths(cls(), minima, paths, points)

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
        """All path records added between ``u`` and ``v`` (a copy)."""
        k = self._edge(u, v)
        if k is None:
            return []
        recs = self._records.get(k)
        return [{"barrier": float(self._w[k])}] if recs is None else list(recs)

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
        return _convert.graph_of_edges(self, self._forest())

    def _check_node(self, name: Hashable) -> None:
        if name not in self:
            raise InputError(f"unknown minimum {name!r}")

    # ------------------------------------------------------------------ conversion
    def to_networkx(self) -> nx.Graph:
        """A copy as a :class:`networkx.Graph` (node ``loss``, edge ``barrier`` and ``paths``)."""
        return _convert.graph_to_networkx(self)

    @classmethod
    def from_networkx(
        cls, graph: nx.Graph, *, loss: str = "loss", barrier: str = "barrier"
    ) -> LandscapeGraph:
        """Build from a networkx graph whose nodes carry ``loss`` and edges ``barrier``.

        Other node and edge attributes are kept (edge attributes go into the path record).

        Raises
        ------
        InputError
            If the graph is directed or a multigraph, a node lacks ``loss``, an edge
            lacks ``barrier``, or any value is invalid.
        """
        return _convert.graph_from_networkx(graph, into=cls(), loss=loss, barrier=barrier)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (networkx node-link format, numpy values as lists)."""
        return _convert.graph_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LandscapeGraph:
        """Inverse of :meth:`to_dict` (networkx node-link data: ``nodes`` and ``edges``).

        A node listed twice is an error. An edge whose ``barrier`` is ``null`` or
        ``Infinity`` means "no path" and is skipped; NaN or ``-Infinity`` is an error. A
        pair listed more than once keeps the lowest barrier, and every listing's path
        records (the same rule as :meth:`add_path`).

        Raises
        ------
        InputError
            Naming the node or edge (its position in the list) that is malformed.
        """
        return _convert.graph_from_dict(data, into=cls())

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """Serialize to JSON; also write it atomically to ``path`` if given."""
        return _io.write_json(self, path)

    @classmethod
    def from_json(cls, source: str | os.PathLike[str]) -> LandscapeGraph:
        """Read a graph from a JSON file path or a JSON string."""
        return _io.read_json_source(source, cls)

    # ------------------------------------------------------------------ files
    @classmethod
    def read(
        cls,
        path: str | os.PathLike[str],
        *,
        format: Literal["json", "csv", "npz", "graphml", "gexf"] | None = None,
    ) -> LandscapeGraph:
        """Read a graph from a file, or from a run directory (its ``graph.json``).

        Parameters
        ----------
        path : str or path-like
            The file. A directory is read as a run directory.
        format : {"json", "csv", "npz", "graphml", "gexf"}, optional
            Default: from the suffix (``.json``, ``.csv`` or ``.txt``, ``.npz``,
            ``.graphml``, ``.gexf``).

            - ``json``: what :meth:`to_json` writes (lossless);
            - ``csv``: ``n`` rows of ``n + 1`` comma-separated numbers, the loss of
              minimum ``i`` and then row ``i`` of the barrier matrix (``inf``, ``nan``
              or an empty cell: no path); ``#`` starts a comment; names ``0 .. n-1``;
            - ``npz``: arrays ``losses`` (n,) and ``barriers`` (n, n), optionally
              ``names`` (n,) (read as strings), as :meth:`from_barriers`; or
              ``edges`` (E, 2) and ``barriers`` (E,), as :meth:`from_edges`;
            - ``graphml`` / ``gexf``: networkx's readers, then :meth:`from_networkx`
              (node attribute ``loss``, edge attribute ``barrier``). Node ids that all
              read as integers become ``int``. See :mod:`topoloss.topology.graph_io`.

        Returns
        -------
        LandscapeGraph

        Raises
        ------
        InputError
            If the file is missing, of an unknown format or malformed, or its values
            are invalid; the message names the file (and the line and column of a bad
            CSV cell).

        Examples
        --------
        >>> import tempfile, os
        >>> g = LandscapeGraph.from_barriers([0.0, 1.0], [[0, 3], [3, 0]])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     g.write(os.path.join(tmp, "g.graphml"))
        ...     LandscapeGraph.read(os.path.join(tmp, "g.graphml")).barrier(0, 1)
        3.0
        """
        return _io.read_graph(path, format=format)

    def write(
        self,
        path: str | os.PathLike[str],
        *,
        format: Literal["json", "graphml", "gexf"] | None = None,
    ) -> None:
        """Write the graph to a file (atomically), in a format :meth:`read` reads back.

        Parameters
        ----------
        path : str or path-like
            The file.
        format : {"json", "graphml", "gexf"}, optional
            Default: from the suffix. JSON is lossless. GraphML and GEXF hold scalar
            attributes only: numpy scalars become numbers, lists and dicts (a minimum's
            ``point``, an edge's ``paths`` records) become their JSON text, ``None``
            values are left out; losses, barriers and hence the barcode survive.

        Raises
        ------
        InputError
            If the format is unknown or cannot be written.
        """
        _io.write_graph(self, path, format=format)
