"""Loss barcodes of fully connected nets of growing depth on digits (the paper's finding 1).

The paper finds that the loss barcode gets lower — shorter bars, lower saddles — as
fully connected networks get deeper or wider (SPEC §10, finding 1). This example repeats
the measurement at toy scale: for each depth, a few independent *repeats* each train a
handful of minima (distinct seeds per repeat), connect every pair with a Bézier curve,
and take the TO-score and the mean height of the finite bars' tops (saddles) and their
mean length. It prints the table (mean ± std over repeats) and draws the comparison with
``topoloss.plot.plot_comparison``.

At this scale the numbers are noisy: the script reports the trend, it does not assert it.

    python examples/depth_comparison.py --out examples-output/depth     # depths 1, 2, 3 (~1 min)
    python examples/depth_comparison.py --quick --out /tmp/depth         # depths 1, 2
    python examples/depth_comparison.py --depths 1 2 4 --repeats 5
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

import topoloss as tl
from topoloss.data import digits
from topoloss.models import fcn


def measure(
    train: object,
    depth: int,
    width: int,
    seeds: Sequence[int],
    epochs: int,
    path_epochs: int,
) -> dict[str, float]:
    """One repeat: minima from ``seeds``, all pairs connected; barcode summaries."""
    land = tl.ModelLandscape(lambda: fcn(64, 10, depth=depth, width=width), train)
    minima = tl.train_minima(land, seeds=seeds, epochs=epochs, progress=False)
    paths = tl.connect(land, minima, curve=tl.Bezier(bends=1), epochs=path_epochs, progress=False)
    g = tl.LandscapeGraph()
    for name, loss in zip(minima.names, minima.losses):
        g.add_minimum(name, float(loss))
    for p in paths:
        g.add_path(p.u, p.v, p.barrier)
    bc = tl.loss_barcode(g)
    fin = bc.finite()
    return {
        "to_score": tl.to_score(bc),
        "bar_top": float(fin[:, 1].mean()) if len(fin) else float(bc.intervals[0, 0]),
        "bar_length": float((fin[:, 1] - fin[:, 0]).mean()) if len(fin) else 0.0,
        "min_loss": float(minima.losses.min()),
    }


def fmt(values: Sequence[float]) -> str:
    v = np.asarray(values, dtype=float)
    std = float(v.std(ddof=1)) if v.size > 1 else 0.0
    return f"{v.mean():.4f} ± {std:.4f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples-output", help="folder for the figure")
    parser.add_argument("--quick", action="store_true", help="depths 1-2, two repeats, tiny runs")
    parser.add_argument("--depths", type=int, nargs="+", default=None, help="hidden-layer counts")
    parser.add_argument("--width", type=int, default=None, help="units per hidden layer")
    parser.add_argument("--repeats", type=int, default=None, help="independent repeats per depth")
    parser.add_argument("--minima", type=int, default=None, help="minima per repeat")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs per minimum")
    parser.add_argument("--path-epochs", type=int, default=None, help="path-optimization epochs")
    args = parser.parse_args(argv)
    depths = args.depths or ([1, 2] if args.quick else [1, 2, 3])
    width = args.width or (16 if args.quick else 64)
    repeats = args.repeats or (2 if args.quick else 3)
    n_min = args.minima or (3 if args.quick else 4)
    epochs = args.epochs or (4 if args.quick else 20)
    path_epochs = args.path_epochs or (3 if args.quick else 60)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)

    train, _ = digits()
    print(f"depths {depths}, width {width}, {repeats} repeats x {n_min} minima, "
          f"{epochs} training epochs, {path_epochs} path epochs")
    table: dict[int, list[dict[str, float]]] = {}
    for depth in depths:
        t0 = time.perf_counter()
        table[depth] = [
            measure(train, depth, width, range(r * n_min, (r + 1) * n_min), epochs, path_epochs)
            for r in range(repeats)
        ]
        print(f"  depth {depth}: {time.perf_counter() - t0:.1f} s")

    print(f"{'depth':>5}  {'TO-score':>17}  {'mean bar top':>17}  {'mean bar length':>17}  "
          f"{'lowest loss':>17}")
    for depth, rows in table.items():
        print(f"{depth:>5}  " + "  ".join(
            f"{fmt([r[key] for r in rows]):>17}"
            for key in ("to_score", "bar_top", "bar_length", "min_loss")))
    for key, what in (("to_score", "mean TO-score"), ("bar_top", "mean bar top"),
                      ("bar_length", "mean bar length")):
        means = [float(np.mean([r[key] for r in table[d]])) for d in depths]
        if all(b < a for a, b in itertools.pairwise(means)):
            trend = "decreases"
        elif all(b > a for a, b in itertools.pairwise(means)):
            trend = "increases"
        else:
            trend = "is not monotonic"
        print(f"{what} {trend} with depth here")
    print("(noisy at this scale, and deeper nets reach lower minima: reported, not asserted)")
    finite = all(math.isfinite(r["to_score"]) for rows in table.values() for r in rows)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from topoloss.plot import plot_comparison

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    labels = {f"depth {d}": d for d in depths}
    for ax, key, ylabel in zip(
        axes,
        ("to_score", "bar_top", "bar_length"),
        ("TO-score", "mean bar top (saddle loss)", "mean bar length"),
    ):
        plot_comparison({lab: [r[key] for r in table[d]] for lab, d in labels.items()},
                        ax=ax, ylabel=ylabel, title=ylabel)
    fig.suptitle(f"fully connected nets on digits, width {width}: mean ± std over {repeats} repeats")
    fig.tight_layout()
    path = out / "depth_comparison.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"figure written to {path}")
    return 0 if finite else 1


if __name__ == "__main__":
    sys.exit(main())
