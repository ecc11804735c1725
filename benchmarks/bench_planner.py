"""Paths and wall time to a barcode: ``pairs="all"`` against ``pairs="adaptive"``.

For N minima of an analytic landscape with many minima (Rastrigin on a wide box) and of a
small network on digits, runs both planners on the *same* minima and reports the paths
run, the seconds, the bottleneck distance between the two barcodes as a fraction of the
all-pairs barcode's span, and the TO-score ratio.

    PYTHONPATH=. python benchmarks/bench_planner.py --sizes 8 16 32 [--skip-digits]
        [--json rows.json] [--plot docs/figures/planner_scaling.png]

The network is the issue's: digits ``fcn`` (depth 2, width 32), minima of
``--train-epochs`` 20 epochs, Bézier(1) paths of ``--path-epochs`` 40 epochs. ``--plot``
draws paths run and seconds against N for both planners.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import gudhi
import numpy as np
import torch

import topoloss as tl
from topoloss.analytic.compare import value_range
from topoloss.analytic.exact import exact_barriers
from topoloss.analytic.functions import rastrigin
from topoloss.errors import TopolossWarning
from topoloss.minima.find import find_minima


def compare(land, minima, **kw):
    out = {}
    for pairs in ("all", "adaptive"):
        t0 = time.perf_counter()
        r = tl.analyze(land, minima=minima, pairs=pairs, progress=False, **kw)
        out[pairs] = (r, time.perf_counter() - t0)
    (a, ta), (b, tb) = out["all"], out["adaptive"]
    d = gudhi.bottleneck_distance(a.barcode.intervals, b.barcode.intervals)
    span = value_range(a.barcode)
    ratio = b.to_score / a.to_score if a.to_score else float("nan")
    row = len(a.paths), ta, len(b.paths), tb, d / span if span else 0.0, ratio
    return row, (a, b)


def analytic(sizes: list[int], steps: int, rows: list[dict]) -> None:
    """Rastrigin rows, with both barcodes against the exact one of the same minima."""
    print("| landscape | N | all: paths | all: s | adaptive: paths | adaptive: s | bottleneck / span | TO ratio "
          "| all vs exact / value range | adaptive vs exact / value range |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    land = rastrigin(bounds=(-3.5, 3.5))  # 49 minima
    found = find_minima(land, 160, seed=0)
    for n in sizes:
        minima = found.subset(range(min(n, len(found))))
        row, (full, adaptive) = compare(land, minima, steps=steps, seed=0)
        exact = tl.LandscapeGraph.from_barriers(minima.losses, exact_barriers(land, minima.points.numpy()))
        truth = tl.loss_barcode(exact)
        scale = value_range(truth)
        off = [gudhi.bottleneck_distance(r.barcode.intervals, truth.intervals) / scale for r in (full, adaptive)]
        rows.append({"landscape": "rastrigin 7×7", "n": len(minima), "row": row, "exact": off})
        print(f"| rastrigin 7×7 | {len(minima)} | {row[0]} | {row[1]:.1f} | {row[2]} | {row[3]:.1f} | "
              f"{row[4]:.2%} | {row[5]:.3f} | {off[0]:.2%} | {off[1]:.2%} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32])
    ap.add_argument("--steps", type=int, default=100, help="path steps on the analytic landscape")
    ap.add_argument("--train-epochs", type=int, default=20, help="training epochs of the digits minima")
    ap.add_argument("--path-epochs", type=int, default=40, help="path epochs on digits")
    ap.add_argument("--skip-digits", action="store_true")
    ap.add_argument("--skip-analytic", action="store_true")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (more threads on a shared "
                    "machine spin and crawl)")
    ap.add_argument("--json", help="write the rows to this JSON file")
    ap.add_argument("--plot", help="draw paths and seconds against N to this PNG")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", TopolossWarning)  # straight-segment fallbacks of short runs
    rows: list[dict] = []
    if not args.skip_analytic:
        analytic(args.sizes, args.steps, rows)
    if not args.skip_digits:
        print("| landscape | N | all: paths | all: s | adaptive: paths | adaptive: s | bottleneck / span | TO ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        from topoloss.data import digits
        from topoloss.models import fcn

        train, test = digits()
        net = tl.ModelLandscape(lambda: fcn(64, 10, depth=2, width=32), train, test_data=test)
        trained = tl.train_minima(net, seeds=range(max(args.sizes)), epochs=args.train_epochs, progress=False)
        for n in args.sizes:
            minima = trained.subset(range(n))
            row, _ = compare(net, minima, curve=tl.Bezier(bends=1), epochs=args.path_epochs, seed=0)
            rows.append({"landscape": "digits fcn 2×32", "n": n, "row": row})
            print(f"| digits fcn:depth=2,width=32 | {n} | {row[0]} | {row[1]:.1f} | {row[2]} | {row[3]:.1f} | "
                  f"{row[4]:.2%} | {row[5]:.3f} |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    if args.plot:
        plot(rows, args.plot)


def plot(rows: list[dict], path: str) -> None:
    """Paths run (left) and seconds (right) against N, all pairs against adaptive."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for name, marker in zip(sorted({r["landscape"] for r in rows}), "os^"):
        mine = [r for r in rows if r["landscape"] == name]
        n = [r["n"] for r in mine]
        for col, (ax, ylabel) in enumerate(zip(axes, ("optimized paths", "seconds to a barcode"))):
            ax.plot(n, [r["row"][col] for r in mine], marker=marker, color="C0", label=f"all pairs, {name}")
            ax.plot(n, [r["row"][col + 2] for r in mine], marker=marker,
                    color="C1", label=f"adaptive, {name}")
            ax.set_xlabel("minima N")
            ax.set_ylabel(ylabel)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xticks(n, [str(k) for k in n])
            ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
            ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    nn = np.array(sorted({r["n"] for r in rows}), dtype=float)
    axes[0].plot(nn, 3 * nn, "k:", lw=2.5, label="3N (the goal's cap)")
    axes[0].plot(nn, nn * (nn - 1) / 2, "k--", lw=0.8, label="N(N-1)/2")
    axes[0].set_yticks([25, 50, 100, 250, 500])
    axes[0].legend(fontsize=7)
    fig.suptitle("pairs='all' against pairs='adaptive' (paths: both landscapes coincide)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
