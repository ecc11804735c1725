"""Conversions of a :class:`~topoloss.topology.graph.LandscapeGraph` to and from networkx and dicts.

The implementations of :meth:`~topoloss.topology.graph.LandscapeGraph.to_networkx`,
:meth:`~topoloss.topology.graph.LandscapeGraph.from_networkx`,
:meth:`~topoloss.topology.graph.LandscapeGraph.to_dict` and
:meth:`~topoloss.topology.graph.LandscapeGraph.from_dict` (networkx node-link data).
Plain edges (their barrier and at most the one record holding it) go in as arrays
(:func:`add_plain_edges`); any other graph is read edge by edge through
:meth:`~LandscapeGraph.add_path`, which gives the same graph or its error message. This
module imports the core (:mod:`topoloss.topology.graph`) only for types; the core does
not import it.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from topoloss._validate import check_number, plain
from topoloss.errors import InputError
from topoloss.topology._graph_values import unwrap
from topoloss.topology.graph_build import EDGE_METRICS

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

    from topoloss.topology.graph import LandscapeGraph

__all__ = [
    "EDGE_METRICS", "PLAIN_EDGE_KEYS", "add_nodes", "add_plain_edges", "graph_from_dict", "graph_from_networkx",
    "graph_to_dict", "graph_to_networkx", "is_missing", "plain_edge",
]


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
    out.add_edges_from(
        (names[i], names[j], _edge_data(w, recs))
        for i, j, w, recs in zip(pairs[:, 0].tolist(), pairs[:, 1].tolist(), weights.tolist(), g.edge_records())
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
        own = check_number(unwrap(data[barrier]), f"barrier between {u!r} and {v!r}")
        g.lower_barrier(u, v, own)
    else:
        extra = {k: val for k, val in data.items() if k not in (barrier, "paths")}
        g.add_path(u, v, data[barrier], **extra)


def graph_to_dict(g: LandscapeGraph) -> dict[str, Any]:
    """A JSON-ready dict (networkx node-link format, numpy values as lists)."""
    import networkx as nx

    data = nx.node_link_data(graph_to_networkx(g), edges="edges")
    return {"format": "topoloss.LandscapeGraph", "version": 1, **plain(data)}


def is_missing(value: Any) -> bool:
    """Whether a stored barrier means "no path": ``None``, ``"inf"`` or ``inf``."""
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
    add_nodes(into, nodes)
    if not _plain_edges_as_arrays(into, edges):
        _edges_one_by_one(into, edges, edges_key)
    return into


def add_nodes(g: LandscapeGraph, nodes: list[Any]) -> None:
    """Add node-link ``nodes`` (objects with ``id``, ``loss`` and other attributes) to ``g``, in order.

    Raises
    ------
    InputError
        Naming the node (its position in the list) that is malformed or listed twice.
    """
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


#: The key sets of a plain node-link edge (see :func:`plain_edge`).
PLAIN_EDGE_KEYS = (frozenset({"source", "target", "barrier"}), frozenset({"source", "target", "barrier", "paths"}))


def plain_edge(edge: dict[str, Any]) -> tuple[Any, Any, Any, bool] | None:
    """``(source, target, barrier, lists_its_record)`` of a plain edge; ``None`` otherwise.

    Plain: the keys ``source``, ``target``, ``barrier`` and, optionally, ``paths`` holding
    the one record ``{"barrier": barrier}``; a barrier that is a number or "no path".
    """
    if edge.keys() not in PLAIN_EDGE_KEYS:
        return None
    w = edge["barrier"]
    paths = edge.get("paths")
    if paths is not None and not (
        type(paths) is list and len(paths) == 1 and type(paths[0]) is dict and paths[0].keys() == {"barrier"}
        and type(paths[0]["barrier"]) in (float, int) and paths[0]["barrier"] == w
    ):
        return None
    if not (is_missing(w) or type(w) in (float, int)):
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
    index = g.node_index()
    us: list[int] = []
    vs: list[int] = []
    ws: list[float] = []
    recorded: list[bool] = []
    try:
        for u, v, w, rec in rows:
            if is_missing(w):
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
    return g.add_paths_at_once(u, v, w)


def _edges_one_by_one(g: LandscapeGraph, edges: list[Any], edges_key: str) -> None:
    first = g.node_index()
    for k, edge in enumerate(edges):
        if not isinstance(edge, Mapping) or not {"source", "target"} <= set(edge):
            raise InputError(f"{edges_key}[{k}]: expected an object with 'source', 'target' and "
                             f"'barrier', got {_short(edge)}")
        u, v = edge["source"], edge["target"]
        for node in (u, v):
            if not isinstance(node, Hashable) or node not in first:
                raise InputError(f"{edges_key}[{k}]: unknown minimum {_short(node)}")
        value = unwrap(edge.get("barrier"))
        if is_missing(value):
            continue  # explicit "no path"
        extra = {key: val for key, val in edge.items() if key not in ("source", "target", "key")}
        extra["barrier"] = value
        try:
            _add_edge_data(g, u, v, extra)
        except InputError as exc:
            raise type(exc)(f"{edges_key}[{k}]: {exc}") from None
