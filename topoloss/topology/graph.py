"""The landscape graph: minima as weighted nodes, optimized paths as weighted edges.

A :class:`LandscapeGraph` is the object that sits between path optimization and
persistence (SPEC §4). Nodes carry the loss of a minimum; edges carry the barrier of
the lowest path found between two minima, and every path record ever added for that
pair.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import networkx as nx
import numpy as np

from topoloss._validate import check_number, plain
from topoloss.errors import InputError

__all__ = ["LandscapeGraph"]

#: Relative tolerance under which a barrier below an endpoint's loss is taken as rounding.
_BELOW_TOL = 1e-9


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _unwrap(value: Any) -> Any:
    """A 0-d numpy array or torch tensor as its Python scalar; anything else unchanged."""
    if getattr(value, "ndim", None) == 0 and callable(getattr(value, "item", None)):
        return value.item()
    return value


class LandscapeGraph:
    """Minima and the paths between them, as a weighted undirected graph.

    Node ``m`` has the attribute ``loss`` (the level ``L(m)``); edge ``(a, b)`` has the
    attribute ``barrier`` (the lowest barrier of all paths added between ``a`` and
    ``b``) and ``paths``, the list of every path record added for that pair.

    Node order is insertion order; it breaks ties between minima of equal loss in
    :func:`topoloss.loss_barcode` (the earlier-added minimum is the elder).

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
        self._g = nx.Graph()
        if graph is not None:
            other = LandscapeGraph.from_networkx(graph)
            self._g = other._g

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
        if name in self._g:
            raise InputError(f"minimum {name!r} already exists")
        self._g.add_node(name, loss=loss, **attrs)

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
            if node not in self._g:
                raise InputError(f"unknown minimum {node!r}; add it with add_minimum first")
        if u == v:
            raise InputError(f"self-loop at minimum {u!r}: a path needs two different minima")
        barrier = check_number(_unwrap(barrier), f"barrier between {u!r} and {v!r}")
        for node in (u, v):
            level = self._g.nodes[node]["loss"]
            if barrier < level - _BELOW_TOL * max(1.0, abs(level)):
                raise InputError(
                    f"barrier={barrier!r} between {u!r} and {v!r} is below the loss "
                    f"{level!r} of {node!r}"
                )
            barrier = max(barrier, level)
        record = {"barrier": barrier, **attrs}
        if self._g.has_edge(u, v):
            data = self._g.edges[u, v]
            data["paths"].append(record)
            data["barrier"] = min(data["barrier"], barrier)
        else:
            self._g.add_edge(u, v, barrier=barrier, paths=[record])

    @classmethod
    def from_barriers(
        cls,
        losses: Sequence[float] | np.ndarray,
        barriers: Sequence[Sequence[float]] | np.ndarray,
        *,
        names: Sequence[Hashable] | None = None,
    ) -> LandscapeGraph:
        """Build a graph from ``n`` losses and an ``(n, n)`` symmetric barrier matrix.

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
        losses = np.asarray(losses, dtype=float)
        barriers = np.asarray(barriers, dtype=float)
        if losses.ndim != 1:
            raise InputError(f"losses must be one-dimensional, got shape {losses.shape}")
        n = losses.shape[0]
        if barriers.shape != (n, n):
            raise InputError(
                f"barriers must have shape ({n}, {n}) to match {n} losses, got {barriers.shape}"
            )
        names = list(range(n)) if names is None else list(names)
        if len(names) != n:
            raise InputError(f"names has {len(names)} entries for {n} losses")
        if len(set(names)) != n:
            raise InputError("names must be distinct")
        if np.isneginf(barriers).any():
            i, j = np.argwhere(np.isneginf(barriers))[0]
            raise InputError(f"barriers[{i}, {j}] is -inf; a missing path is inf or nan")
        b = np.where(np.isnan(barriers), np.inf, barriers)
        if not np.array_equal(b, b.T):
            i, j = np.argwhere(b != b.T)[0]
            raise InputError(
                f"barriers is not symmetric: [{i}, {j}]={float(barriers[i, j])!r} but "
                f"[{j}, {i}]={float(barriers[j, i])!r}"
            )
        g = cls()
        for name, loss in zip(names, losses):
            g.add_minimum(name, float(loss))
        iu, ju = np.triu_indices(n, k=1)
        keep = np.isfinite(b[iu, ju])
        for i, j in zip(iu[keep], ju[keep]):
            g.add_path(names[i], names[j], float(b[i, j]))
        return g

    @classmethod
    def from_paths(cls, minima: Any, paths: Iterable[Any], *, points: bool | None = None) -> LandscapeGraph:
        """The landscape graph of minima and optimized paths (SPEC §4).

        Equal to adding every minimum (``add_minimum(name, loss)``) and then every path
        (``add_path(u, v, barrier, path=record.to_dict(tensors=False))``) by hand, as
        :func:`topoloss.engine.pipeline.build_graph` does.

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
        names = list(minima.names)
        losses = [float(_unwrap(x)) for x in minima.losses]
        pts = getattr(minima, "points", None)
        if points is None:
            points = pts is not None and len(pts) > 0 and int(np.prod(np.shape(pts[0]))) <= 64
        g = cls()
        for k, (name, loss) in enumerate(zip(names, losses)):
            attrs: dict[str, Any] = {}
            if points and pts is not None:
                p = pts[k]
                attrs["point"] = (p.cpu().tolist() if hasattr(p, "cpu") else np.asarray(p).tolist())
            g.add_minimum(name, loss, **attrs)
        for path in paths:
            extra = {"path": path.to_dict(tensors=False)} if hasattr(path, "to_dict") else {}
            g.add_path(path.u, path.v, path.barrier, **extra)
        return g

    # ------------------------------------------------------------------ access
    @property
    def nodes(self) -> list[Hashable]:
        """Minima in insertion order."""
        return list(self._g.nodes)

    @property
    def edges(self) -> list[tuple[Hashable, Hashable]]:
        """Pairs of minima joined by at least one path."""
        return list(self._g.edges)

    def __len__(self) -> int:
        return self._g.number_of_nodes()

    def __contains__(self, name: object) -> bool:
        return name in self._g

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._g.nodes)

    def __repr__(self) -> str:
        return (
            f"LandscapeGraph({self._g.number_of_nodes()} minima, "
            f"{self._g.number_of_edges()} paths)"
        )

    def loss(self, name: Hashable) -> float:
        """Loss of minimum ``name``."""
        self._check_node(name)
        return self._g.nodes[name]["loss"]

    def barrier(self, u: Hashable, v: Hashable) -> float:
        """Lowest barrier recorded between ``u`` and ``v`` (``inf`` if none)."""
        self._check_node(u)
        self._check_node(v)
        return self._g.edges[u, v]["barrier"] if self._g.has_edge(u, v) else math.inf

    def paths(self, u: Hashable, v: Hashable) -> list[dict[str, Any]]:
        """All path records added between ``u`` and ``v`` (a copy)."""
        return list(self._g.edges[u, v]["paths"]) if self._g.has_edge(u, v) else []

    def attrs(self, name: Hashable) -> dict[str, Any]:
        """All attributes of minimum ``name`` (a copy; includes ``loss``)."""
        self._check_node(name)
        return dict(self._g.nodes[name])

    def losses(self) -> np.ndarray:
        """Losses of all minima, in node order."""
        return np.array([d["loss"] for _, d in self._g.nodes(data=True)], dtype=float)

    def barrier_matrix(self) -> np.ndarray:
        """``(n, n)`` matrix of barriers in node order; ``inf`` where there is no path.

        The diagonal holds each minimum's own loss.
        """
        idx = {name: i for i, name in enumerate(self._g.nodes)}
        n = len(idx)
        out = np.full((n, n), np.inf)
        np.fill_diagonal(out, self.losses())
        for u, v, b in self._g.edges(data="barrier"):
            out[idx[u], idx[v]] = out[idx[v], idx[u]] = b
        return out

    def edge_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Edges as index pairs in node order and their barriers: ``(E, 2)`` ints, ``(E,)``."""
        idx = {name: i for i, name in enumerate(self._g.nodes)}
        us: list[int] = []
        vs: list[int] = []
        ws: list[float] = []
        for u, nbrs in self._g.adj.items():  # the raw adjacency: much faster than edges()
            iu = idx[u]
            for v, data in nbrs.items():
                iv = idx[v]
                if iv > iu:
                    us.append(iu)
                    vs.append(iv)
                    ws.append(data["barrier"])
        pairs = np.column_stack([np.array(us, dtype=np.int64), np.array(vs, dtype=np.int64)])
        return pairs.reshape(-1, 2), np.array(ws, dtype=float)

    def is_connected(self) -> bool:
        """Whether every pair of minima is joined by a chain of paths."""
        return len(self._g) > 0 and nx.is_connected(self._g)

    def minimum_spanning_tree(self) -> LandscapeGraph:
        """The minimum spanning forest by barrier (AutoNEB-style); same barcode."""
        out = LandscapeGraph()
        out._g = nx.minimum_spanning_tree(self._g, weight="barrier")
        # keep node insertion order (networkx builds the tree in node order already)
        return out

    def _check_node(self, name: Hashable) -> None:
        if name not in self._g:
            raise InputError(f"unknown minimum {name!r}")

    # ------------------------------------------------------------------ conversion
    def to_networkx(self) -> nx.Graph:
        """A deep copy as a :class:`networkx.Graph` (node ``loss``, edge ``barrier``)."""
        return self._g.copy()

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
        if graph.is_directed() or graph.is_multigraph():
            raise InputError("expected an undirected simple networkx.Graph")
        g = cls()
        for name, data in graph.nodes(data=True):
            if loss not in data:
                raise InputError(f"node {name!r} has no {loss!r} attribute")
            extra = {k: v for k, v in data.items() if k != loss}
            g.add_minimum(name, data[loss], **extra)
        for u, v, data in graph.edges(data=True):
            if barrier not in data:
                raise InputError(f"edge ({u!r}, {v!r}) has no {barrier!r} attribute")
            g._add_edge_data(u, v, data, barrier)
        return g

    def _add_edge_data(self, u: Hashable, v: Hashable, data: Mapping[str, Any], barrier: str = "barrier") -> None:
        """Add one stored edge (its ``barrier`` and, if any, its ``paths`` records)."""
        paths = data.get("paths")
        if isinstance(paths, list) and paths and all(isinstance(p, dict) for p in paths):
            for rec in paths:
                rec = dict(rec)
                self.add_path(u, v, rec.pop("barrier", data[barrier]), **rec)
            # the edge's own barrier may be lower than every record
            own = check_number(_unwrap(data[barrier]), f"barrier between {u!r} and {v!r}")
            self._g.edges[u, v]["barrier"] = min(self._g.edges[u, v]["barrier"], own)
        else:
            extra = {k: val for k, val in data.items() if k not in (barrier, "paths")}
            self.add_path(u, v, data[barrier], **extra)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (networkx node-link format, numpy values as lists)."""
        data = nx.node_link_data(self._g, edges="edges")
        return {"format": "topoloss.LandscapeGraph", "version": 1, **plain(data)}

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
        if not isinstance(data, Mapping) or "nodes" not in data:
            raise InputError("not a LandscapeGraph dict: missing 'nodes'")
        edges_key = "edges" if "edges" in data else "links"
        nodes, edges = data["nodes"], data.get(edges_key, [])
        if not isinstance(nodes, list) or not isinstance(edges, list):
            raise InputError(f"malformed graph data: 'nodes' and {edges_key!r} must be lists")
        g = cls()
        first: dict[Hashable, int] = {}
        for k, node in enumerate(nodes):
            if not isinstance(node, Mapping) or "id" not in node or "loss" not in node:
                raise InputError(f"nodes[{k}]: expected an object with 'id' and 'loss', got {_short(node)}")
            name = node["id"]
            if not isinstance(name, Hashable):
                raise InputError(f"nodes[{k}]: id {_short(name)} is not a valid node name")
            if name in first:
                raise InputError(f"nodes[{k}]: node {name!r} is listed twice (also nodes[{first[name]}])")
            first[name] = k
            g.add_minimum(name, node["loss"], **{key: v for key, v in node.items() if key not in ("id", "loss")})
        for k, edge in enumerate(edges):
            if not isinstance(edge, Mapping) or not {"source", "target"} <= set(edge):
                raise InputError(f"{edges_key}[{k}]: expected an object with 'source', 'target' and "
                                 f"'barrier', got {_short(edge)}")
            u, v = edge["source"], edge["target"]
            for node in (u, v):
                if not isinstance(node, Hashable) or node not in first:
                    raise InputError(f"{edges_key}[{k}]: unknown minimum {_short(node)}")
            value = _unwrap(edge.get("barrier"))
            if value is None or value == "inf" or (isinstance(value, (int, float)) and value == math.inf):
                continue  # explicit "no path"
            extra = {key: val for key, val in edge.items() if key not in ("source", "target", "key")}
            extra["barrier"] = value
            try:
                g._add_edge_data(u, v, extra)
            except InputError as exc:
                raise InputError(f"{edges_key}[{k}]: {exc}") from None
        return g

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """Serialize to JSON; also write it atomically to ``path`` if given."""
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            from topoloss._io import atomic_write_text

            atomic_write_text(path, text)
        return text

    @classmethod
    def from_json(cls, source: str | os.PathLike[str]) -> LandscapeGraph:
        """Read a graph from a JSON file path or a JSON string."""
        text = str(source)
        if not text.lstrip().startswith("{"):
            p = Path(source)
            if not p.exists():
                raise FileNotFoundError(f"graph file not found: {p}")
            text = p.read_text()
        try:
            data = json.loads(text)
        except RecursionError:
            raise InputError(f"graph {str(source)[:80]!r} is nested too deeply to be a graph") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON in graph {str(source)[:80]!r}: {exc}") from None
        return cls.from_dict(data)

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
              ``names`` (n,) (read as strings), as :meth:`from_barriers`;
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
        from topoloss.topology.graph_io import read_graph

        return read_graph(path, format=format)

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
        from topoloss.topology.graph_io import write_graph

        write_graph(self, path, format=format)
