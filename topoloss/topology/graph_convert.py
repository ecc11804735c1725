"""Builders and conversions of a :class:`~topoloss.topology.graph.LandscapeGraph`.

The class's constructors (:meth:`~LandscapeGraph.from_barriers`,
:meth:`~LandscapeGraph.from_edges`, :meth:`~LandscapeGraph.from_paths`) and its
conversions to and from networkx graphs and JSON-ready dicts (networkx node-link data)
call these. Paths given as arrays go in as arrays (:func:`add_new_paths`) once every
one passes :meth:`LandscapeGraph.add_path`'s checks; otherwise they go in one by one
through :meth:`~LandscapeGraph.add_path`, which gives its error message (or, for a
barrier below an endpoint's loss by rounding only, the same graph).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from topoloss._validate import check_number, plain
from topoloss.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

    from topoloss.topology.graph import LandscapeGraph

__all__ = [
    "EDGE_METRICS", "add_new_paths", "add_plain_edges", "graph_from_barriers", "graph_from_dict", "graph_from_edges",
    "graph_from_networkx", "graph_from_paths", "graph_of_edges", "graph_to_dict", "graph_to_networkx",
    "paths_pass", "plain_edge",
]


#: Relative tolerance under which a barrier below an endpoint's loss is taken as rounding.
_BELOW_TOL = 1e-9
#: Metrics of a path at its barrier point that become attributes of its record and of its edge
#: (:meth:`~topoloss.topology.graph.LandscapeGraph.from_paths`): the test loss and accuracy at
#: the saddle, where the path measured them (``PathRecord.metrics``).
EDGE_METRICS = ("test_loss", "test_accuracy")


def _unwrap(value: Any) -> Any:
    """A 0-d numpy array or torch tensor as its Python scalar; anything else unchanged."""
    if getattr(value, "ndim", None) == 0 and callable(getattr(value, "item", None)):
        return value.item()
    return value


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def graph_to_networkx(g: LandscapeGraph) -> nx.Graph:
    """``g`` as a new :class:`networkx.Graph`: node ``loss`` (and extra attributes), edge
    ``barrier`` and ``paths`` (a new list of the path records); nodes and edges in ``g``'s
    order."""
    import networkx as nx

    out = nx.Graph()
    names = g.nodes
    for name in names:
        out.add_node(name, **g.attrs(name))
    pairs, weights = g.edge_arrays()
    order = g._order()
    records = g._records
    out.add_edges_from(
        (names[i], names[j], _edge_data(w, records.get(k)))
        for i, j, w, k in zip(pairs[:, 0].tolist(), pairs[:, 1].tolist(), weights.tolist(), order.tolist())
    )
    return out


def _edge_data(w: float, records: list[dict[str, Any]] | None) -> dict[str, Any]:
    """An edge's networkx attributes: ``barrier``, the :data:`EDGE_METRICS` of the record that
    gives it (the first of the lowest), and ``paths``."""
    if records is None:
        return {"barrier": w, "paths": [{"barrier": w}]}
    best = min(records, key=lambda rec: float(rec["barrier"]))
    lifted = {key: best[key] for key in EDGE_METRICS if key in best}
    return {"barrier": w, **lifted, "paths": list(records)}


def graph_from_networkx(
    graph: nx.Graph, *, into: LandscapeGraph, loss: str = "loss", barrier: str = "barrier"
) -> LandscapeGraph:
    """Add ``graph``'s nodes and edges to the empty ``into``; see
    :meth:`LandscapeGraph.from_networkx`."""
    if graph.is_directed() or graph.is_multigraph():
        raise InputError("expected an undirected simple networkx.Graph")
    g = into
    for name, data in graph.nodes(data=True):
        if loss not in data:
            raise InputError(f"node {name!r} has no {loss!r} attribute")
        extra = {k: v for k, v in data.items() if k != loss}
        g.add_minimum(name, data[loss], **extra)
    for u, v, data in graph.edges(data=True):
        if barrier not in data:
            raise InputError(f"edge ({u!r}, {v!r}) has no {barrier!r} attribute")
        _add_edge_data(g, u, v, data, barrier)
    return g


def _add_edge_data(g: LandscapeGraph, u: Hashable, v: Hashable, data: Mapping[str, Any],
                   barrier: str = "barrier") -> None:
    """Add one stored edge (its ``barrier`` and, if any, its ``paths`` records)."""
    paths = data.get("paths")
    if isinstance(paths, list) and paths and all(isinstance(p, dict) for p in paths):
        for rec in paths:
            rec = dict(rec)
            g.add_path(u, v, rec.pop("barrier", data[barrier]), **rec)
        # the edge's own barrier may be lower than every record
        own = check_number(_unwrap(data[barrier]), f"barrier between {u!r} and {v!r}")
        k = g._edge(u, v)
        assert k is not None
        if own < g._w[k]:
            g._edge_records(k)  # the records keep their own barriers
            g._w[k] = own
    else:
        extra = {k: val for k, val in data.items() if k not in (barrier, "paths")}
        g.add_path(u, v, data[barrier], **extra)


def graph_to_dict(g: LandscapeGraph) -> dict[str, Any]:
    """A JSON-ready dict (networkx node-link format, numpy values as lists)."""
    import networkx as nx

    data = nx.node_link_data(graph_to_networkx(g), edges="edges")
    return {"format": "topoloss.LandscapeGraph", "version": 1, **plain(data)}


def _is_missing(value: Any) -> bool:
    return value is None or value == "inf" or (isinstance(value, (int, float)) and value == math.inf)


def graph_from_dict(data: Mapping[str, Any], *, into: LandscapeGraph) -> LandscapeGraph:
    """Fill the empty ``into`` from node-link ``data``; see :meth:`LandscapeGraph.from_dict`.

    Edges that are plain (``source``, ``target``, a finite ``barrier`` and at most the
    one path record ``{"barrier": barrier}``, as :meth:`LandscapeGraph.to_dict` writes
    for a graph built from a barrier matrix), each pair once, go in as arrays; any
    other graph, or one with an invalid value, is read edge by edge, which gives the
    same graph or the same error message.
    """
    if not isinstance(data, Mapping) or "nodes" not in data:
        raise InputError("not a LandscapeGraph dict: missing 'nodes'")
    edges_key = "edges" if "edges" in data else "links"
    nodes, edges = data["nodes"], data.get(edges_key, [])
    if not isinstance(nodes, list) or not isinstance(edges, list):
        raise InputError(f"malformed graph data: 'nodes' and {edges_key!r} must be lists")
    _add_nodes(into, nodes)
    if not _plain_edges_as_arrays(into, edges):
        _edges_one_by_one(into, edges, edges_key)
    return into


def _add_nodes(g: LandscapeGraph, nodes: list[Any]) -> None:
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


_PLAIN_KEYS = (frozenset({"source", "target", "barrier"}), frozenset({"source", "target", "barrier", "paths"}))


def plain_edge(edge: dict[str, Any]) -> tuple[Any, Any, Any, bool] | None:
    """``(source, target, barrier, lists_its_record)`` of a plain edge; ``None`` otherwise.

    Plain: the keys ``source``, ``target``, ``barrier`` and, optionally, ``paths`` holding
    the one record ``{"barrier": barrier}``; a barrier that is a number or "no path".
    """
    if edge.keys() not in _PLAIN_KEYS:
        return None
    w = edge["barrier"]
    paths = edge.get("paths")
    if paths is not None and not (
        type(paths) is list and len(paths) == 1 and type(paths[0]) is dict and paths[0].keys() == {"barrier"}
        and type(paths[0]["barrier"]) in (float, int) and paths[0]["barrier"] == w
    ):
        return None
    if not (_is_missing(w) or type(w) in (float, int)):
        return None
    return edge["source"], edge["target"], w, paths is not None


def _plain_edges_as_arrays(g: LandscapeGraph, edges: list[Any]) -> bool:
    """Add ``edges`` at once if every one is plain; ``False`` (nothing added) otherwise."""
    rows = []
    for edge in edges:
        row = plain_edge(edge) if type(edge) is dict else None
        if row is None:
            return False
        rows.append(row)
    return add_plain_edges(g, rows)


def add_plain_edges(g: LandscapeGraph, rows: list[tuple[Any, Any, Any, bool]]) -> bool:
    """Add plain edges ``(source, target, barrier, lists_its_record)`` to ``g``, which has
    none yet, at once; ``False``, adding nothing, where reading them edge by edge could
    differ (a repeated pair, a barrier below an endpoint's loss) or fail."""
    index = g._index
    us: list[int] = []
    vs: list[int] = []
    ws: list[float] = []
    recorded: list[bool] = []
    try:
        for u, v, w, rec in rows:
            if _is_missing(w):
                continue
            us.append(index[u])
            vs.append(index[v])
            ws.append(w)
            recorded.append(rec)
    except (KeyError, TypeError):  # an unknown or unhashable minimum
        return False
    u = np.array(us, dtype=np.int64)
    v = np.array(vs, dtype=np.int64)
    n = len(g)
    key = np.minimum(u, v) * n + np.maximum(u, v)
    if np.unique(key).shape[0] != key.shape[0]:
        return False  # a pair listed twice: records to merge
    w = np.array(ws, dtype=float)
    if u.size:
        loss = g.losses()
        raised = np.maximum(w, np.maximum(loss[u], loss[v])) != w
        if (raised & np.array(recorded, dtype=bool)).any():
            # a listed record below an endpoint's loss by rounding: edge by edge, the
            # record is raised to the loss but the edge keeps the listed barrier
            return False
    return add_new_paths(g, u, v, w)


def _edges_one_by_one(g: LandscapeGraph, edges: list[Any], edges_key: str) -> None:
    first = g._index
    for k, edge in enumerate(edges):
        if not isinstance(edge, Mapping) or not {"source", "target"} <= set(edge):
            raise InputError(f"{edges_key}[{k}]: expected an object with 'source', 'target' and "
                             f"'barrier', got {_short(edge)}")
        u, v = edge["source"], edge["target"]
        for node in (u, v):
            if not isinstance(node, Hashable) or node not in first:
                raise InputError(f"{edges_key}[{k}]: unknown minimum {_short(node)}")
        value = _unwrap(edge.get("barrier"))
        if _is_missing(value):
            continue  # explicit "no path"
        extra = {key: val for key, val in edge.items() if key not in ("source", "target", "key")}
        extra["barrier"] = value
        try:
            _add_edge_data(g, u, v, extra)
        except InputError as exc:
            raise type(exc)(f"{edges_key}[{k}]: {exc}") from None


def paths_pass(loss: np.ndarray, us: np.ndarray, vs: np.ndarray, w: np.ndarray) -> bool:
    """Whether every path ``us[k]``-``vs[k]`` at ``w[k]`` passes :meth:`LandscapeGraph.add_path`'s
    checks with minima at ``loss``: two different minima, a finite barrier not below either
    endpoint's loss beyond the rounding tolerance."""
    n = loss.shape[0]
    if us.size and (min(us.min(), vs.min()) < 0 or max(us.max(), vs.max()) >= n
                    or (us == vs).any() or not np.isfinite(w).all()):
        return False
    floor = loss - _BELOW_TOL * np.maximum(1.0, np.abs(loss))
    return not ((w < floor[us]) | (w < floor[vs])).any()


def add_new_paths(g: LandscapeGraph, us: np.ndarray, vs: np.ndarray, barriers: np.ndarray) -> bool:
    """Add paths without attributes to ``g``, which has no edge yet, all at once.

    ``us`` and ``vs`` index the minima; no unordered pair may repeat. Returns ``False``,
    adding nothing, unless every path passes :func:`paths_pass`: then the caller adds them
    one by one, for :meth:`LandscapeGraph.add_path`'s message.
    """
    us = np.asarray(us, dtype=np.int64)
    vs = np.asarray(vs, dtype=np.int64)
    w = np.asarray(barriers, dtype=float)
    loss = g.losses()
    if g._m or not paths_pass(loss, us, vs, w):
        return False
    g._lo, g._hi = np.minimum(us, vs), np.maximum(us, vs)
    g._w = np.maximum(w, np.maximum(loss[us], loss[vs]))  # as add_path: up to the endpoints
    g._m = w.shape[0]
    g._pos = None
    g._canon = None
    return True


def graph_of_edges(g: LandscapeGraph, keep: np.ndarray) -> LandscapeGraph:
    """A new graph with ``g``'s minima and its edges ``keep`` (insertion indices), in that order."""
    out = type(g)()
    out._names, out._index = list(g._names), dict(g._index)
    out._loss, out._extra = list(g._loss), [dict(d) for d in g._extra]
    out._lo, out._hi, out._w, out._m = g._lo[keep], g._hi[keep], g._w[keep], len(keep)
    out._pos = None
    out._records = {k: list(g._records[e]) for k, e in enumerate(keep.tolist()) if e in g._records}
    return out


def graph_from_barriers(into: LandscapeGraph, losses: Any, barriers: Any, names: Any) -> LandscapeGraph:
    """Fill the empty ``into`` from losses and a barrier matrix; see
    :meth:`LandscapeGraph.from_barriers`."""
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
    g = into
    for name, loss in zip(names, losses):
        g.add_minimum(name, float(loss))
    iu, ju = np.triu_indices(n, k=1)
    w = b[iu, ju]
    keep = np.isfinite(w)
    iu, ju, w = iu[keep], ju[keep], w[keep]
    if not add_new_paths(g, iu, ju, w):
        for i, j, x in zip(iu.tolist(), ju.tolist(), w.tolist()):
            g.add_path(g._names[i], g._names[j], x)
    return g


def graph_from_edges(into: LandscapeGraph, losses: Any, edges: Any, barriers: Any, names: Any) -> LandscapeGraph:
    """Fill the empty ``into`` from losses and edge arrays; see :meth:`LandscapeGraph.from_edges`."""
    losses = np.asarray(losses, dtype=float)
    pairs = np.asarray(edges)
    if losses.ndim != 1:
        raise InputError(f"losses must be one-dimensional, got shape {losses.shape}")
    n = losses.shape[0]
    if pairs.size == 0:
        pairs = pairs.reshape(0, 2).astype(np.int64)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.dtype.kind not in "iu":
        raise InputError(f"edges must be an (E, 2) array of integer indices, got shape {pairs.shape} "
                         f"and dtype {pairs.dtype}")
    w = np.asarray(barriers, dtype=float)
    if w.shape != (pairs.shape[0],):
        raise InputError(f"barriers must have shape ({pairs.shape[0]},) to match {pairs.shape[0]} edges, "
                         f"got {w.shape}")
    names = list(range(n)) if names is None else list(names)
    if len(names) != n:
        raise InputError(f"names has {len(names)} entries for {n} losses")
    if len(set(names)) != n:
        raise InputError("names must be distinct")
    bad = (pairs < 0) | (pairs >= n)
    if bad.any():
        k, c = (int(x) for x in np.argwhere(bad)[0])
        raise InputError(f"edges[{k}] = {tuple(pairs[k].tolist())}: no minimum {int(pairs[k, c])} "
                         f"(indices run from 0 to {n - 1})")
    if np.isneginf(w).any():
        k = int(np.argwhere(np.isneginf(w))[0, 0])
        raise InputError(f"barriers[{k}] is -inf; a missing path is inf or nan")
    g = into
    for name, loss in zip(names, losses):
        g.add_minimum(name, float(loss))
    keep = np.isfinite(w)  # inf or nan: no path
    us, vs, w = pairs[keep, 0].astype(np.int64), pairs[keep, 1].astype(np.int64), w[keep]
    key = np.minimum(us, vs) * max(n, 1) + np.maximum(us, vs)
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    if uniq.shape[0] == key.shape[0]:
        if add_new_paths(g, us, vs, w):
            return g
    elif paths_pass(g.losses(), us, vs, w):
        # a pair listed more than once: the lowest barrier, and one record per listing
        clamped = np.maximum(w, np.maximum(losses[us], losses[vs]))
        lowest = np.full(uniq.shape[0], np.inf)
        np.minimum.at(lowest, inverse, clamped)
        order = np.argsort(first)  # pairs in the order of their first listing
        add_new_paths(g, us[first[order]], vs[first[order]], lowest[order])
        edge_of = np.empty_like(order)
        edge_of[order] = np.arange(order.shape[0])
        repeated = np.bincount(inverse)[inverse] > 1
        for row in np.flatnonzero(repeated).tolist():
            g._records.setdefault(int(edge_of[inverse[row]]), []).append({"barrier": float(clamped[row])})
        return g
    for u, v, x in zip(us.tolist(), vs.tolist(), w.tolist()):  # one by one: add_path's message
        g.add_path(g._names[u], g._names[v], x)
    return g


def graph_from_paths(into: LandscapeGraph, minima: Any, paths: Iterable[Any], points: bool | None) -> LandscapeGraph:
    """Fill the empty ``into`` from minima and path records; see :meth:`LandscapeGraph.from_paths`."""
    names = list(minima.names)
    losses = [float(_unwrap(x)) for x in minima.losses]
    pts = getattr(minima, "points", None)
    if points is None:
        points = pts is not None and len(pts) > 0 and int(np.prod(np.shape(pts[0]))) <= 64
    g = into
    for k, (name, loss) in enumerate(zip(names, losses)):
        attrs: dict[str, Any] = {}
        if points and pts is not None:
            p = pts[k]
            attrs["point"] = (p.cpu().tolist() if hasattr(p, "cpu") else np.asarray(p).tolist())
        g.add_minimum(name, loss, **attrs)
    for path in paths:
        extra = {"path": path.to_dict(tensors=False)} if hasattr(path, "to_dict") else {}
        extra.update(_metrics_at_barrier(path))
        g.add_path(path.u, path.v, path.barrier, **extra)
    return g


def _metrics_at_barrier(path: Any) -> dict[str, float]:
    """The :data:`EDGE_METRICS` of a path record at its barrier point (those measured there)."""
    at = path.barrier_metrics() if callable(getattr(path, "barrier_metrics", None)) else {}
    return {key: float(at[key]) for key in EDGE_METRICS if key in at and not math.isnan(at[key])}
