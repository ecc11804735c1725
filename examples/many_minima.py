"""Many minima: the adaptive pair planner against all pairs, and what its bars are worth.

A barcode of N minima needs, naively, a path between every pair: N(N-1)/2 optimizations.
The barcode depends only on a minimum spanning tree of the true barriers, and
``pairs="adaptive"`` finds one with O(N) paths (SPEC §11): cheap straight-segment bounds
for every pair, optimized spanning-tree edges, then a few verification paths where a
pair could still lower the tree. Every bar then says whether a pair left out could
still lower it (``Analysis.bar_checks``).

This example runs both planners on the *same* minima and prints the paths run, the time,
the bottleneck distance between the two barcodes (as a fraction of the barcode's span),
the TO-scores and the bar checks; it draws both graphs
on the landscape (quick mode) or both barcodes (full mode).

    python examples/many_minima.py --out examples-output/many_minima          # digits fcn, ~2-4 min
    python examples/many_minima.py --quick --out examples-output/many_minima  # Rastrigin, seconds
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import gudhi

import topoloss as tl
from topoloss.analytic.compare import value_range
from topoloss.engine.bar_checks import summarize_checks
from topoloss.errors import TopolossWarning


def run_both(land: tl.Landscape, minima: tl.Minima, **options: object) -> dict[str, tuple[tl.Analysis, float]]:
    out = {}
    for pairs in ("all", "adaptive"):
        t0 = time.perf_counter()
        result = tl.analyze(land, minima=minima, pairs=pairs, progress=False, **options)
        out[pairs] = (result, time.perf_counter() - t0)
        print(f"{pairs:>8}: {len(result.paths):3d} paths in {out[pairs][1]:6.1f} s, TO-score {result.to_score:.6g}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("examples-output/many_minima"))
    ap.add_argument("--quick", action="store_true", help="Rastrigin on a wide box instead of the digits net")
    ap.add_argument("-n", "--minima", type=int, help="number of minima (default 16; 10 with --quick)")
    args = ap.parse_args(argv)
    args.minima = args.minima or (10 if args.quick else 16)
    args.out.mkdir(parents=True, exist_ok=True)
    warnings.simplefilter("ignore", TopolossWarning)  # straight-segment fallbacks, counted below

    if args.quick:
        from topoloss.analytic.functions import rastrigin

        land: tl.Landscape = rastrigin(bounds=(-3.5, 3.5))  # 49 minima
        minima = tl.find_minima(land, 4 * args.minima, seed=0).subset(range(args.minima))
        options: dict[str, object] = {"steps": 100, "seed": 0}
    else:
        from topoloss.data import digits
        from topoloss.models import fcn

        train, test = digits()
        land = tl.ModelLandscape(lambda: fcn(64, 10, depth=2, width=32), train, test_data=test)
        minima = tl.train_minima(land, seeds=range(args.minima), epochs=20, progress=False)
        options = {"curve": tl.Bezier(bends=1), "epochs": 40, "seed": 0}
    print(f"{len(minima)} minima, {len(minima) * (len(minima) - 1) // 2} pairs")
    results = run_both(land, minima, **options)
    (full, t_full), (adaptive, t_adaptive) = results["all"], results["adaptive"]
    distance = gudhi.bottleneck_distance(full.barcode.intervals, adaptive.barcode.intervals)
    print(f"paths: {len(adaptive.paths)} of {len(full.paths)} ({len(adaptive.paths) / len(minima):.1f} per minimum), "
          f"time ratio {t_full / t_adaptive:.2f}x")
    print(f"bottleneck distance / span: {distance / value_range(full.barcode):.2%}")
    print(f"TO-score ratio (adaptive / all): {adaptive.to_score / full.to_score:.4f}")
    print(f"adaptive: {summarize_checks(adaptive.bar_checks())}")
    print(f"all:      {summarize_checks(full.bar_checks())}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from topoloss.plot import plot_barcodes, plot_landscape_2d

    if args.quick:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
        for ax, (name, (result, _)) in zip(axes, results.items()):
            plot_landscape_2d(land, result, ax=ax, title=f"pairs={name!r}: {len(result.paths)} paths")
    else:
        fig, ax = plt.subplots(figsize=(7, 4.6))
        plot_barcodes({f"{k} ({len(r.paths)} paths)": r.barcode for k, (r, _) in results.items()}, ax=ax,
                      title=f"digits fcn, {len(minima)} minima")
    fig.tight_layout()
    fig.savefig(args.out / "many_minima.png", dpi=110)
    print(f"figure: {args.out / 'many_minima.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
