"""Minima of a small constant learning rate vs learning-rate annealing (the paper's finding 3).

The paper trains two kinds of minima: "type A" with a small constant learning rate and
"type B" with a large learning rate annealed to a small one. At similar training loss,
type B minima generalize better and sit lower in the landscape: their bars end at lower
saddles (SPEC §10, finding 3). This example measures both at toy scale on digits: for
each type, a few independent repeats each train a handful of minima, connect every
pair with a Bézier curve, and report the training loss, test accuracy, TO-score and the
mean height of the bar tops (saddles), mean ± std over repeats, with a comparison figure.

At this scale the numbers are noisy: the script reports what it measures, it does not
assert the paper's finding.

    python examples/lr_schedules.py --out examples-output/lr       # ~25 s on 2 cores
    python examples/lr_schedules.py --quick --out /tmp/lr
"""

from __future__ import annotations

import argparse
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

#: name -> train_minima options
TYPES: dict[str, dict[str, object]] = {
    "A: small constant lr": {"optimizer": "sgd", "lr": 0.03, "schedule": "constant"},
    "B: annealed lr": {"optimizer": "sgd", "lr": 0.1, "schedule": "annealing"},
}


def measure(train, test, options, seeds, epochs, path_epochs, width) -> dict[str, float]:
    """One repeat: minima of one type, all pairs connected; barcode summaries."""
    land = tl.ModelLandscape(lambda: fcn(64, 10, depth=2, width=width), train, test_data=test)
    minima = tl.train_minima(land, seeds=seeds, epochs=epochs, progress=False, **options)
    result = tl.analyze(land, minima=minima, curve=tl.Bezier(bends=1), epochs=path_epochs,
                        seed=0, progress=False)
    fin = result.barcode.finite()
    return {
        "train_loss": float(np.mean(minima.losses)),
        "test_accuracy": float(np.mean([m["test_accuracy"] for m in minima.metrics])),
        "to_score": result.to_score,
        "bar_top": float(fin[:, 1].mean()) if len(fin) else float(minima.losses.min()),
    }


def fmt(values: Sequence[float]) -> str:
    v = np.asarray(values, dtype=float)
    std = float(v.std(ddof=1)) if v.size > 1 else 0.0
    return f"{v.mean():.4f} ± {std:.4f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples-output", help="folder for the figure")
    parser.add_argument("--quick", action="store_true", help="two repeats of 3 minima, tiny runs")
    parser.add_argument("--repeats", type=int, default=None, help="independent repeats per type")
    parser.add_argument("--minima", type=int, default=None, help="minima per repeat")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs per minimum")
    parser.add_argument("--path-epochs", type=int, default=None, help="path-optimization epochs")
    parser.add_argument("--width", type=int, default=32, help="units per hidden layer (2 layers)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 3)
    n_min = args.minima or (3 if args.quick else 4)
    epochs = args.epochs or (4 if args.quick else 40)
    path_epochs = args.path_epochs or (3 if args.quick else 40)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)

    train, test = digits()
    print(f"{repeats} repeats x {n_min} minima per type, {epochs} training epochs, "
          f"{path_epochs} path epochs, fcn depth 2 width {args.width}")
    table: dict[str, list[dict[str, float]]] = {}
    for name, options in TYPES.items():
        t0 = time.perf_counter()
        table[name] = [
            measure(train, test, options, range(r * n_min, (r + 1) * n_min), epochs, path_epochs,
                    args.width)
            for r in range(repeats)
        ]
        print(f"  {name}: {time.perf_counter() - t0:.1f} s")
    keys = ("train_loss", "test_accuracy", "to_score", "bar_top")
    print(f"{'type':<22}" + "".join(f"{k:>19}" for k in keys))
    for name, rows in table.items():
        print(f"{name:<22}" + "".join(f"{fmt([r[k] for r in rows]):>19}" for k in keys))
    tops = {name: float(np.mean([r["bar_top"] for r in rows])) for name, rows in table.items()}
    a, b = tops.values()
    print(f"type B bar tops are {'lower' if b < a else 'not lower'} than type A's here "
          "(noisy at this scale: reported, not asserted)")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from topoloss.plot import plot_comparison

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, key, label in zip(axes, ("bar_top", "to_score", "test_accuracy"),
                              ("mean bar top (saddle loss)", "TO-score", "test accuracy")):
        plot_comparison({n.split(":")[0]: [r[key] for r in rows] for n, rows in table.items()},
                        ax=ax, ylabel=label, title=label)
    fig.suptitle(f"type A (constant lr) vs type B (annealed lr) minima on digits, {repeats} repeats")
    fig.tight_layout()
    path = out / "lr_schedules.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"figure: {path}")
    finite = all(math.isfinite(r["to_score"]) for rows in table.values() for r in rows)
    return 0 if finite else 1


if __name__ == "__main__":
    sys.exit(main())
