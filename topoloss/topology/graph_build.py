"""Builders of a :class:`~topoloss.topology.graph.LandscapeGraph` from arrays and path records.

The implementations of :meth:`LandscapeGraph.from_barriers <topoloss.topology.graph.LandscapeGraph.from_barriers>`,
:meth:`~topoloss.topology.graph.LandscapeGraph.from_edges` and
:meth:`~topoloss.topology.graph.LandscapeGraph.from_paths`. Paths given as arrays go in
as arrays (:meth:`LandscapeGraph.add_paths_at_once`) once every one passes
:meth:`LandscapeGraph.add_path`'s checks; otherwise they go in one by one through
:meth:`~LandscapeGraph.add_path`, which gives its error message (or, for a barrier below
an endpoint's loss by rounding only, the same graph). This module imports the core
(:mod:`topoloss.topology.graph`) only for types; the core does not import it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from topoloss.errors import InputError
from topoloss.topology._graph_values import paths_pass, unwrap

if TYPE_CHECKING:  # pragma: no cover
    from topoloss.topology.graph import LandscapeGraph

__all__ = ["EDGE_METRICS", "graph_from_barriers", "graph_from_edges", "graph_from_paths"]

#: Metrics of a path at its barrier point that become attributes of its record and of its edge
#: (:meth:`~topoloss.topology.graph.LandscapeGraph.from_paths`): the test loss and accuracy at
#: the saddle, where the path measured them (``PathRecord.metrics``).
EDGE_METRICS = ("test_loss", "test_accuracy")


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
    if not g.add_paths_at_once(iu, ju, w):
        node = g.nodes
        for i, j, x in zip(iu.tolist(), ju.tolist(), w.tolist()):
            g.add_path(node[i], node[j], x)
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
        if g.add_paths_at_once(us, vs, w):
            return g
    elif paths_pass(g.losses(), us, vs, w):
        # a pair listed more than once: the lowest barrier, and one record per listing
        clamped = np.maximum(w, np.maximum(losses[us], losses[vs]))
        lowest = np.full(uniq.shape[0], np.inf)
        np.minimum.at(lowest, inverse, clamped)
        order = np.argsort(first)  # pairs in the order of their first listing
        edge_of = np.empty_like(order)
        edge_of[order] = np.arange(order.shape[0])
        repeated = np.bincount(inverse)[inverse] > 1
        records: dict[int, list[dict[str, Any]]] = {}
        for row in np.flatnonzero(repeated).tolist():
            records.setdefault(int(edge_of[inverse[row]]), []).append({"barrier": float(clamped[row])})
        g.add_paths_at_once(us[first[order]], vs[first[order]], lowest[order], records=records)
        return g
    node = g.nodes
    for u, v, x in zip(us.tolist(), vs.tolist(), w.tolist()):  # one by one: add_path's message
        g.add_path(node[u], node[v], x)
    return g


def graph_from_paths(into: LandscapeGraph, minima: Any, paths: Iterable[Any], points: bool | None) -> LandscapeGraph:
    """Fill the empty ``into`` from minima and path records; see :meth:`LandscapeGraph.from_paths`."""
    names = list(minima.names)
    losses = [float(unwrap(x)) for x in minima.losses]
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
