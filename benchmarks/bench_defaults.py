"""Where the path defaults come from: accuracy and cost of curve families and step budgets.

For every built-in 2-D landscape, 32 descents find the minima, every pair is joined, and
each optimized barrier is compared with the exact merge height of the grid ground truth
(SPEC §7). The *excess* of a path is ``(barrier - exact) / value range``; the table shows
its median and 90th percentile over all pairs of all landscapes, the worst bottleneck
distance (over the landscapes, relative to the value range) between the barcode of the
optimized paths and the barcode of the same minima under their exact barriers, and the
time, for each curve and step budget side by side in one run::

    python benchmarks/bench_defaults.py                 # the full table (a few minutes)
    python benchmarks/bench_defaults.py --quick         # two landscapes, fewer settings

The defaults of :class:`topoloss.config.PathConfig` (``Bezier(bends=3)``, 400 steps) are
the cheapest setting whose median excess is below 0.1 % of the value range.
"""

from __future__ import annotations

import argparse
import time

import gudhi
import numpy as np

import topoloss as tl
from topoloss.analytic import exact_barriers, get_landscape

LANDSCAPES = ["himmelblau", "six-hump-camel", "rastrigin", "styblinski-tang", "holder-table", "gaussian-wells"]
GRID = 513


Row = tuple[str, int, float, float, float, float]


def measure(curves: list[tl.Curve], budgets: list[int], names: list[str]) -> list[Row]:
    rows = []
    setups = []
    for name in names:
        land = get_landscape(name)
        minima = tl.find_minima(land, 32, seed=0)
        exact = exact_barriers(land, minima.points.numpy(), resolution=GRID)
        _, values = land.grid(GRID)
        setups.append((land, minima, exact, float(values.max() - values.min())))
    for curve in curves:
        for steps in budgets:
            excess, barcode_error, seconds = [], [], 0.0
            for land, minima, exact, span in setups:
                t0 = time.perf_counter()
                result = tl.analyze(land, minima=minima, curve=curve, steps=steps, seed=0, progress=False)
                seconds += time.perf_counter() - t0
                for p in result.paths:
                    i, j = minima.index(p.u), minima.index(p.v)
                    excess.append((p.barrier - exact[i, j]) / span)
                # the barcode of the same minima under their exact barriers: what the paths should give
                truth = tl.loss_barcode(tl.LandscapeGraph.from_barriers(minima.losses, exact))
                ours, exact_diagram = result.barcode.to_diagram("keep"), truth.to_diagram("keep")
                barcode_error.append(gudhi.bottleneck_distance(ours, exact_diagram) / span)
            e = np.asarray(excess)
            rows.append((curve.spec(), steps, float(np.median(e)), float(np.quantile(e, 0.9)),
                         float(np.max(barcode_error)), seconds))
            print(f"{curve.spec():24s} {steps:5d} steps: median excess {rows[-1][2]:+.5f}, "
                  f"90th percentile {rows[-1][3]:+.5f}, worst barcode error {rows[-1][4]:.5f}, "
                  f"{seconds:.1f} s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two landscapes, fewer settings")
    args = parser.parse_args()
    names = LANDSCAPES[:2] if args.quick else LANDSCAPES
    curves: list[tl.Curve] = [tl.Bezier(bends=1), tl.Bezier(bends=2), tl.Bezier(bends=3), tl.PolyChain(bends=3),
                              tl.Chain()]
    budgets = [100, 400] if args.quick else [100, 200, 400, 800]
    if args.quick:
        curves = curves[::2]
    rows = measure(curves, budgets, names)
    print("\n| curve | steps | median excess | 90th percentile | worst barcode error | time (s) |")
    print("|---|---:|---:|---:|---:|---:|")
    for spec, steps, med, p90, worst, sec in rows:
        print(f"| `{spec}` | {steps} | {med:.2%} | {p90:.2%} | {worst:.2%} | {sec:.1f} |")


if __name__ == "__main__":
    main()
