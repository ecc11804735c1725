"""Replay a pair planner on stored all-pairs barriers: planner variants judged in seconds.

A pair's path is seeded by the pair, so its barrier does not depend on which other pairs
run. Once every pair of N minima has been optimized, any planner can be replayed
offline: feed it the stored barrier of each pair it asks for, and its barcode is the one
a live run would give. This is how the adaptive planner's verification rule and its
``samples`` option were chosen (docs/performance.md).

    # once (digits fcn 2x32, 20-epoch minima, 40-epoch Bézier(1) paths; minutes)
    PYTHONPATH=. python benchmarks/replay_planner.py collect barriers.npz -n 32 --samples 128 256 512
    # then, per variant (seconds)
    PYTHONPATH=. python benchmarks/replay_planner.py replay barriers.npz --sizes 8 16 32 \
        --planner adaptive adaptive:budget=2 --bounds full 512

For a subset of the first n minima the stored barriers of the larger run are used (the
default learning rate depends on all minima, so a live run on n minima differs slightly).
"""

from __future__ import annotations

import argparse
import itertools
import types
import warnings

import gudhi
import numpy as np
import torch

import topoloss as tl
from topoloss.analytic.compare import value_range
from topoloss.engine.adaptive import straight_bounds
from topoloss.engine.planners import make_planner
from topoloss.errors import TopolossWarning


def collect(out: str, n: int, train_epochs: int, path_epochs: int, samples: list[int]) -> None:
    from topoloss.data import digits
    from topoloss.models import fcn

    torch.set_num_threads(1)
    warnings.simplefilter("ignore", TopolossWarning)
    train, _ = digits()
    land = tl.ModelLandscape(lambda: fcn(64, 10, depth=2, width=32), train)
    minima = tl.train_minima(land, seeds=range(n), epochs=train_epochs, progress=False)
    arrays = {"losses": np.asarray(minima.losses, dtype=float)}
    arrays["bounds_full"] = straight_bounds(types.SimpleNamespace(landscape=land, minima=minima))
    for k in samples:
        sub = types.SimpleNamespace(landscape=land.subsample(k, seed=0), minima=minima)
        arrays[f"bounds_{k}"] = straight_bounds(sub)
    pairs = list(itertools.combinations(range(n), 2))
    paths = tl.connect(land, minima, pairs=pairs, curve=tl.Bezier(bends=1), epochs=path_epochs, seed=0,
                       progress=True)
    barriers = np.full((n, n), np.inf)
    for (i, j), p in zip(pairs, paths):
        barriers[i, j] = barriers[j, i] = p.barrier
    np.savez(out, barriers=barriers, **arrays)
    print(f"wrote {out}: {len(pairs)} pairs of {n} minima")


def _barcode(losses: np.ndarray, barriers: np.ndarray, edges: list[tuple[int, int]]) -> tl.Barcode:
    b = np.full(barriers.shape, np.inf)
    for i, j in edges:
        b[i, j] = b[j, i] = barriers[i, j]
    return tl.loss_barcode(tl.LandscapeGraph.from_barriers(losses, b))


def replay(spec: str, losses: np.ndarray, barriers: np.ndarray, bounds: np.ndarray) -> tuple[int, float, float]:
    """Paths planned, bottleneck distance / span and TO-score ratio against all pairs."""
    n = len(losses)
    # placeholder points: planners read the number, losses and names of the minima
    # (``mst``/``nearest`` would read distances between these zeros: replay those live)
    minima = tl.Minima(points=torch.zeros(n, 1), losses=losses, names=tuple(f"m{i}" for i in range(n)),
                       n_steps=np.zeros(n, int), converged=np.ones(n, bool), on_boundary=np.zeros(n, bool))
    planner = make_planner(spec)
    planner._bounds = bounds.copy()  # type: ignore[attr-defined]  # the stored straight bounds
    known: dict[frozenset[int], object] = {}
    while new := planner.next_pairs(minima, known):  # type: ignore[arg-type]  # barriers only
        for i, j in new:
            known[frozenset((i, j))] = types.SimpleNamespace(barrier=float(barriers[i, j]))
    full = _barcode(losses, barriers, list(itertools.combinations(range(n), 2)))
    mine = _barcode(losses, barriers, planner.planned())
    d = gudhi.bottleneck_distance(full.intervals, mine.intervals)
    return len(planner.planned()), d / value_range(full), tl.to_score(mine) / tl.to_score(full)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect", help="optimize every pair once and store barriers and bounds")
    c.add_argument("out")
    c.add_argument("-n", type=int, default=32)
    c.add_argument("--train-epochs", type=int, default=20)
    c.add_argument("--path-epochs", type=int, default=40)
    c.add_argument("--samples", type=int, nargs="*", default=[], help="also store bounds on these subsamples")
    r = sub.add_parser("replay", help="replay planners on stored barriers")
    r.add_argument("file")
    r.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32])
    r.add_argument("--planner", nargs="+", default=["adaptive"])
    r.add_argument("--bounds", nargs="+", default=["full"], help="'full' or a stored subsample size")
    args = ap.parse_args()
    if args.command == "collect":
        collect(args.out, args.n, args.train_epochs, args.path_epochs, args.samples)
        return
    data = np.load(args.file)
    print("| planner | bounds | N | paths | bottleneck / span | TO ratio |\n|---|---|---:|---:|---:|---:|")
    for spec, which, n in itertools.product(args.planner, args.bounds, args.sizes):
        bounds = data[f"bounds_{which}"][:n, :n]
        k, d, ratio = replay(spec, data["losses"][:n], data["barriers"][:n, :n], bounds)
        print(f"| {spec} | {which} | {n} | {k} | {d:.2%} | {ratio:.3f} |", flush=True)


if __name__ == "__main__":
    main()
