"""Replay a pair planner on stored all-pairs barriers: planner variants judged in seconds.

A pair's path is seeded by the pair, so its barrier does not depend on which other pairs
run. Once every pair of N minima has been optimized, any planner can be replayed
offline: feed it the stored barrier of each pair it asks for, and its barcode is the one
a live run would give. This is how the adaptive planner's verification rule and its
``samples`` option were chosen (docs/performance.md).

    # once (digits fcn 2x32, 20-epoch minima, 40-epoch Bézier(1) paths; minutes; rewritten
    # after each path, so an interrupted collection serves the minima it completed)
    PYTHONPATH=. python benchmarks/replay_planner.py collect barriers.npz -n 32 --group 8 --samples 128 256 512
    # then, per variant (seconds)
    PYTHONPATH=. python benchmarks/replay_planner.py replay barriers.npz --sizes 8 16 32 \
        --planner adaptive adaptive:budget=2 --bounds full 512
    # the bar-check rules (docs/many-minima.md): bars each calls final, and how many of
    # those all pairs lower, over every disjoint set of n stored minima
    PYTHONPATH=. python benchmarks/replay_planner.py replay barriers.npz --checks --blocks --sizes 8 16 32

For a subset of the first n minima the stored barriers of the larger run are used (the
default learning rate depends on all minima, so a live run on n minima differs slightly).
"""

from __future__ import annotations

import argparse
import itertools
import types
import warnings
from typing import Any

import gudhi
import numpy as np
import torch

import topoloss as tl
from topoloss.analytic.compare import value_range
from topoloss.engine.adaptive import straight_bounds
from topoloss.engine.bar_checks import ESTIMATES, check_bars, estimated_lower_bounds
from topoloss.engine.planners import make_planner
from topoloss.errors import TopolossWarning


def collect(out: str, n: int, train_epochs: int, path_epochs: int, samples: list[int], group: int = 1) -> None:
    """Optimize every pair of ``n`` digits minima; write barriers, straight bounds and distances.

    Pairs run in the order of their larger index, and the file is rewritten after each
    path with ``complete`` = the number of leading minima whose pairs are all done, so an
    interrupted collection still serves replays of that many minima.
    """
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
    arrays["distances"] = torch.cdist(minima.points.double(), minima.points.double()).numpy()
    pairs = sorted(itertools.combinations(range(n), 2), key=lambda e: (e[1], e[0]))
    barriers = np.full((n, n), np.inf)
    names = list(minima.names)

    def store(p: tl.PathRecord) -> None:
        i, j = names.index(p.u), names.index(p.v)
        barriers[i, j] = barriers[j, i] = p.barrier
        done = np.isfinite(barriers) | np.eye(n, dtype=bool)
        complete = next((k for k in range(1, n + 1) if not done[:k, :k].all()), n + 1) - 1
        np.savez(out, barriers=barriers, complete=complete, **arrays)

    tl.connect(land, minima, pairs=pairs, curve=tl.Bezier(bends=1), epochs=path_epochs, seed=0,
               group=group, progress=True, on_path=store)
    print(f"wrote {out}: {len(pairs)} pairs of {n} minima")


def _barcode(losses: np.ndarray, barriers: np.ndarray, edges: list[tuple[int, int]]) -> tl.Barcode:
    b = np.full(barriers.shape, np.inf)
    for i, j in edges:
        b[i, j] = b[j, i] = barriers[i, j]
    return tl.loss_barcode(tl.LandscapeGraph.from_barriers(losses, b))


def planned_pairs(spec: str, losses: np.ndarray, barriers: np.ndarray, bounds: np.ndarray) -> list[tuple[int, int]]:
    """The pairs planner ``spec`` plans when each asked-for pair gets its stored barrier."""
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
    return planner.planned()


def replay(spec: str, losses: np.ndarray, barriers: np.ndarray, bounds: np.ndarray) -> tuple[int, float, float]:
    """Paths planned, bottleneck distance / span and TO-score ratio against all pairs."""
    n = len(losses)
    pairs = planned_pairs(spec, losses, barriers, bounds)
    full = _barcode(losses, barriers, list(itertools.combinations(range(n), 2)))
    mine = _barcode(losses, barriers, pairs)
    d = gudhi.bottleneck_distance(full.intervals, mine.intervals)
    return len(pairs), d / value_range(full), tl.to_score(mine) / tl.to_score(full)


#: The bar-check rules of ``--checks``: the sound bound, then the estimates of check_bars.
RULES = ("sound", *ESTIMATES)


def replay_checks(spec: str, losses: np.ndarray, barriers: np.ndarray, bounds: np.ndarray) -> list[dict]:
    """Per bar-check rule: bars called final by it and, of those, bars that all pairs lower.

    A bar is *final* under the sound rule when certified, under an estimate rule when its
    status is ``certified`` or ``estimated``. It is *lowered* when its death with every
    pair is below its death with the planned pairs alone (deaths are per minimum and can
    only go down as pairs are added). ``worst`` is the largest such drop among the final
    bars, as a fraction of the all-pairs barcode's span.
    """
    n = len(losses)
    pairs = planned_pairs(spec, losses, barriers, bounds)
    full = _barcode(losses, barriers, list(itertools.combinations(range(n), 2)))
    b = np.full(barriers.shape, np.inf)
    for i, j in pairs:
        b[i, j] = b[j, i] = barriers[i, j]
    graph = tl.LandscapeGraph.from_barriers(losses, b)
    mine = tl.loss_barcode(graph)
    truth = dict(zip(full.names, full.intervals[:, 1]))
    drop = {name: d - truth[name] for name, d in zip(mine.names, mine.intervals[:, 1])}
    span = value_range(full)
    left = ~np.isfinite(b) & ~np.eye(n, dtype=bool)
    low = np.maximum(losses[:, None], losses[None, :])
    out = []
    for rule in RULES:
        checks = check_bars(graph, mine, estimate=None if rule == "sound" else rule, straight=bounds)
        final = [c for c in checks if (c.certified if rule == "sound" else c.status != "open")]
        lowered = [drop[c.name] for c in final if drop[c.name] > 0]
        bound = low if rule == "sound" else estimated_lower_bounds(graph, rule, straight=bounds)  # type: ignore[arg-type]
        out.append({"planner": spec, "n": n, "paths": len(pairs), "rule": rule, "bars": len(checks),
                    "final": len(final), "lowered": len(lowered), "worst": max(lowered, default=0.0) / span,
                    "moved": sum(v > 0 for v in drop.values()), "left": int(left.sum()) // 2,
                    "below": int((left & (barriers < bound)).sum()) // 2})
    return out


def print_checks(data: Any, args: argparse.Namespace) -> None:
    """The ``--checks`` table: per planner, size and rule, summed over the disjoint sets of
    ``n`` minima (``--blocks``; else the first ``n``): bars final and final bars lowered."""
    print("| planner | N | sets | paths | pairs left out | bars moved by all pairs | rule | left-out pairs "
          "below the rule's bound | bars final | final bars lowered | largest drop / span |\n"
          "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    complete = int(data["complete"]) if "complete" in data else len(data["losses"])
    for spec, which, n in itertools.product(args.planner, args.bounds, args.sizes):
        starts = range(0, complete - n + 1, n) if args.blocks else range(0, 1 if n <= complete else 0)
        if not starts:
            print(f"| {spec} | {n} | 0 | (only {complete} minima have every pair stored) ||||||||", flush=True)
            continue
        rows: dict[str, list[dict]] = {}
        for s0 in starts:
            sub = slice(s0, s0 + n)
            for row in replay_checks(spec, data["losses"][sub], data["barriers"][sub, sub],
                                     data[f"bounds_{which}"][sub, sub]):
                rows.setdefault(row["rule"], []).append(row)
        for rule, rs in rows.items():
            tot = {k: sum(r[k] for r in rs) for k in ("paths", "left", "moved", "below", "final", "bars", "lowered")}
            print(f"| {spec}{'' if which == 'full' else f' ({which})'} | {n} | {len(rs)} | {tot['paths']} | "
                  f"{tot['left']} | {tot['moved']} | {rule} | {tot['below']} | {tot['final']} of {tot['bars']} "
                  f"({tot['final'] / tot['bars']:.0%}) | {tot['lowered']} | {max(r['worst'] for r in rs):.2%} |",
                  flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect", help="optimize every pair once and store barriers and bounds")
    c.add_argument("out")
    c.add_argument("-n", type=int, default=32)
    c.add_argument("--train-epochs", type=int, default=20)
    c.add_argument("--path-epochs", type=int, default=40)
    c.add_argument("--samples", type=int, nargs="*", default=[], help="also store bounds on these subsamples")
    c.add_argument("--group", type=int, default=1, help="pairs optimized together (same paths to rounding)")
    r = sub.add_parser("replay", help="replay planners on stored barriers")
    r.add_argument("file")
    r.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32])
    r.add_argument("--planner", nargs="+", default=["adaptive"])
    r.add_argument("--bounds", nargs="+", default=["full"], help="'full' or a stored subsample size")
    r.add_argument("--checks", action="store_true", help="judge the bar-check rules instead: bars each "
                   "calls final, and how many of those all pairs lower")
    r.add_argument("--blocks", action="store_true", help="with --checks: every disjoint set of n stored "
                   "minima, not only the first n")
    args = ap.parse_args()
    if args.command == "collect":
        collect(args.out, args.n, args.train_epochs, args.path_epochs, args.samples, args.group)
        return
    data = np.load(args.file)
    if args.checks:
        print_checks(data, args)
        return
    print("| planner | bounds | N | paths | bottleneck / span | TO ratio |\n|---|---|---:|---:|---:|---:|")
    for spec, which, n in itertools.product(args.planner, args.bounds, args.sizes):
        bounds = data[f"bounds_{which}"][:n, :n]
        k, d, ratio = replay(spec, data["losses"][:n], data["barriers"][:n, :n], bounds)
        print(f"| {spec} | {which} | {n} | {k} | {d:.2%} | {ratio:.3f} |", flush=True)


if __name__ == "__main__":
    main()
