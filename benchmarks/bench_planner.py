"""Paths and wall time to a barcode: ``pairs="all"`` against ``pairs="adaptive"``.

For N minima of an analytic landscape with many minima (Rastrigin on a wide box) and of a
small network on digits, runs both planners on the *same* minima and reports the paths
run, the seconds, the bottleneck distance between the two barcodes as a fraction of the
all-pairs barcode's span, and the TO-score ratio.

    PYTHONPATH=. python benchmarks/bench_planner.py --sizes 8 16 32 [--digits-epochs 2]

Small settings (few path steps) so that each run takes minutes on a loaded 2-core machine.
"""

from __future__ import annotations

import argparse
import time

import gudhi
import numpy as np

import topoloss as tl
from topoloss.analytic.functions import rastrigin
from topoloss.minima.find import find_minima


def _span(barcode: tl.Barcode) -> float:
    v = barcode.intervals[np.isfinite(barcode.intervals)]
    return float(v.max() - v.min()) if v.size else 0.0


def compare(land, minima, **kw):
    out = {}
    for pairs in ("all", "adaptive"):
        t0 = time.perf_counter()
        r = tl.analyze(land, minima=minima, pairs=pairs, progress=False, **kw)
        out[pairs] = (r, time.perf_counter() - t0)
    (a, ta), (b, tb) = out["all"], out["adaptive"]
    d = gudhi.bottleneck_distance(a.barcode.intervals, b.barcode.intervals)
    span = _span(a.barcode)
    ratio = b.to_score / a.to_score if a.to_score else float("nan")
    return len(a.paths), ta, len(b.paths), tb, d / span if span else 0.0, ratio


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32])
    ap.add_argument("--steps", type=int, default=100, help="path steps on the analytic landscape")
    ap.add_argument("--digits-epochs", type=int, default=2, help="training and path epochs on digits")
    ap.add_argument("--skip-digits", action="store_true")
    args = ap.parse_args()
    print("| landscape | N | all: paths | all: s | adaptive: paths | adaptive: s | bottleneck / span | TO ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    land = rastrigin(bounds=(-3.5, 3.5))  # 49 minima
    found = find_minima(land, 160, seed=0)
    for n in args.sizes:
        minima = found.subset(range(min(n, len(found))))
        row = compare(land, minima, steps=args.steps, seed=0)
        print(f"| rastrigin 7×7 | {len(minima)} | {row[0]} | {row[1]:.1f} | {row[2]} | {row[3]:.1f} | "
              f"{row[4]:.2%} | {row[5]:.3f} |", flush=True)
    if args.skip_digits:
        return
    from topoloss.data import digits
    from topoloss.models import fcn

    train, test = digits()
    net = tl.ModelLandscape(lambda: fcn(64, 10, depth=1, width=8), train, test_data=test)
    trained = tl.train_minima(net, seeds=range(max(args.sizes)), epochs=args.digits_epochs, progress=False)
    for n in args.sizes:
        minima = trained.subset(range(n))
        row = compare(net, minima, curve=tl.Bezier(bends=1), epochs=args.digits_epochs, seed=0)
        print(f"| digits fcn:depth=1,width=8 | {n} | {row[0]} | {row[1]:.1f} | {row[2]} | {row[3]:.1f} | "
              f"{row[4]:.2%} | {row[5]:.3f} |", flush=True)


if __name__ == "__main__":
    main()
