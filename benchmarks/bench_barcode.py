"""Time loss_barcode on random landscape graphs against a plain union-find.

Usage::

    python benchmarks/bench_barcode.py [--sizes 1e3 1e4 1e5 1e6] [--repeat 3]

For each edge count E it builds a random connected graph on ``n = 2 sqrt(E)`` minima,
then times, in the same run on the same edges:

* ``loss_barcode(graph)`` — the whole call (graph -> arrays -> GUDHI -> Barcode),
* ``gudhi core`` — only the GUDHI part (SimplexTree + persistence + generators),
* ``union-find`` — a plain Python elder-rule union-find over the sorted edges,

and prints the ratios. Also checks that all three agree.
"""

from __future__ import annotations

import argparse
import math
from functools import partial

import numpy as np
from _timing import best_of

from topoloss import LandscapeGraph, loss_barcode
from topoloss.topology.persistence import _persistence_generators


def union_find_deaths(losses: np.ndarray, pairs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    n = losses.shape[0]
    order_rank = np.empty(n, dtype=np.int64)
    order_rank[np.lexsort((np.arange(n), losses))] = np.arange(n)
    parent = list(range(n))
    death = np.full(n, math.inf)
    rank = order_rank.tolist()
    for k in np.argsort(weights, kind="stable").tolist():
        u, v = int(pairs[k, 0]), int(pairs[k, 1])
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        if u == v:
            continue
        if rank[u] < rank[v]:
            u, v = v, u
        death[u] = weights[k]
        parent[u] = v
    return death


def random_graph(n_edges: int, rng: np.random.Generator) -> LandscapeGraph:
    n = max(2, int(2 * math.sqrt(n_edges)))
    losses = rng.random(n)
    # a spanning path keeps it connected, the rest are random pairs
    perm = rng.permutation(n)
    extra = n_edges - (n - 1)
    u = np.concatenate([perm[:-1], rng.integers(0, n, extra)])
    v = np.concatenate([perm[1:], rng.integers(0, n, extra)])
    keep = u != v
    u, v = u[keep], v[keep]
    key = np.unique(np.minimum(u, v) * n + np.maximum(u, v))
    u, v = key // n, key % n
    w = np.maximum(losses[u], losses[v]) + rng.random(u.shape[0])
    b = np.full((n, n), np.inf)
    b[u, v] = b[v, u] = w
    return LandscapeGraph.from_barriers(losses, b)




def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e3, 1e4, 1e5, 1e6])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    loss_barcode(LandscapeGraph.from_barriers([0.0, 1.0], [[0, 2], [2, 0]]))  # warm: first-call imports (scipy)
    print(f"{'edges':>9} {'minima':>7} {'loss_barcode s':>15} {'gudhi core s':>13} "
          f"{'union-find s':>13} {'barcode/uf':>11} {'core/uf':>8}")
    for size in args.sizes:
        g = random_graph(int(size), rng)
        losses = g.losses()
        pairs, weights = g.edge_arrays()
        t_bc, bc = best_of(partial(loss_barcode, g), args.repeat)
        t_core, _ = best_of(partial(_persistence_generators, losses, pairs, weights), args.repeat)
        t_uf, deaths = best_of(partial(union_find_deaths, losses, pairs, weights), args.repeat)
        assert np.array_equal(bc.intervals[:, 1], deaths), "loss_barcode disagrees with union-find"
        print(f"{len(weights):>9} {len(losses):>7} {t_bc:>15.4f} {t_core:>13.4f} {t_uf:>13.4f} "
              f"{t_bc / t_uf:>11.2f} {t_core / t_uf:>8.2f}")


if __name__ == "__main__":
    main()
