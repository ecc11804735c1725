"""Independent reference implementations used only to check the package in tests."""

from __future__ import annotations

import math

import numpy as np


def elder_rule_barcode(losses, edges):
    """0-dim persistence of a graph's sublevel filtration by a plain union-find.

    ``edges`` is a list of ``(u, v, w)`` with integer node indices. Minima are ranked
    by ``(loss, index)``; returns an ``(n, 2)`` array of ``[birth, death]``.
    """
    n = len(losses)
    rank = sorted(range(n), key=lambda i: (losses[i], i))
    order = {v: r for r, v in enumerate(rank)}
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    death = [math.inf] * n
    for u, v, w in sorted(edges, key=lambda e: e[2]):
        ru, rv = find(u), find(v)
        if ru == rv:
            continue
        young, old = (ru, rv) if order[ru] > order[rv] else (rv, ru)
        death[young] = w
        parent[young] = old
    return np.column_stack([np.asarray(losses, float), np.asarray(death, float)])


def minimax_barcode(losses, edges):
    """Barcode straight from SPEC §4's definition, by Floyd–Warshall on minimax paths.

    ``d(m)`` is the smallest, over graph paths from ``m`` to any lower-ranked node,
    of the largest edge weight on the path.
    """
    n = len(losses)
    mm = np.full((n, n), math.inf)
    for u, v, w in edges:
        mm[u, v] = mm[v, u] = min(mm[u, v], w)
    for k in range(n):
        mm = np.minimum(mm, np.maximum(mm[:, k : k + 1], mm[k : k + 1, :]))
    out = np.empty((n, 2))
    for m in range(n):
        lower = [j for j in range(n) if (losses[j], j) < (losses[m], m)]
        out[m] = losses[m], min((mm[m, j] for j in lower), default=math.inf)
    return out


def random_graph(rng: np.random.Generator, *, n_max: int = 12, ties: bool = True):
    """A random landscape graph: losses, and edges whose barrier is above both ends."""
    n = int(rng.integers(1, n_max + 1))
    losses = rng.integers(0, 4, size=n).astype(float) if ties else rng.random(n)
    p = rng.random()
    edges = []
    for u in range(n):
        for v in range(u + 1, n):
            if rng.random() < p:
                top = max(losses[u], losses[v])
                w = top + (float(rng.integers(0, 4)) if ties else rng.random())
                edges.append((u, v, w))
    return losses, edges
