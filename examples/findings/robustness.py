"""Finding 6: the loss barcode is robust: its confidence interval narrows with repeats and minima.

The paper (§8 "Robustness", Fig. 11, App. E Fig. 18) recomputes barcodes of one
architecture several times and reports narrow confidence intervals (error bars of the
maxima of the loss on the optimized curves). Here: one FCN (depth 2, width 32) on the
offline 8x8 digits, ``--repeats`` independent repeats of ``--minima`` minima each (all
pairs joined by a Bézier curve with one bend). The 95% bootstrap interval of the mean
TO-score and of the mean bar top is computed (a) over the first ``r`` repeats for growing
``r`` and (b) over all repeats, using only the first ``k`` minima of each repeat (the
barcode of the sub-graph they span, read from the stored paths), for growing ``k``.
Measured, not asserted.

    python examples/findings/robustness.py --out findings-output/robustness       # full
    python examples/findings/robustness.py --quick --out /tmp/robust               # seconds
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from common import Group, parser, run_finding

from topoloss.config import StudyConfig
from topoloss.stats import bootstrap_ci
from topoloss.topology.graph import LandscapeGraph
from topoloss.topology.persistence import loss_barcode
from topoloss.topology.score import to_score

LABEL = "FCN depth 2 width 32"


def sub_barcode_numbers(row: Mapping[str, Any], k: int) -> dict[str, float]:
    """TO-score and mean bar top of the barcode of the first ``k`` minima of one repeat
    (the graph those minima and the stored paths between them span)."""
    names = row["minima"]["names"][:k]
    graph = LandscapeGraph()
    for name, loss in zip(names, row["minima"]["losses"]):
        graph.add_minimum(name, loss)
    for p in row["paths"]:
        if p["u"] in names and p["v"] in names:
            graph.add_path(p["u"], p["v"], p["barrier"])
    bc = loss_barcode(graph)
    fin = bc.finite()
    return {"to_score": to_score(bc), "bar_top": float(fin[:, 1].mean())}


def _ci(values: Sequence[float]) -> dict[str, float]:
    ci = bootstrap_ci(values, seed=0)
    return {"n": ci.n, "mean": ci.estimate, "low": ci.low, "high": ci.high, "width": ci.high - ci.low}


def intervals(table: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, Any]:
    """The CI of the mean over the first ``r`` repeats, and over all repeats with ``k`` minima."""
    rows = table[LABEL]
    n_min = len(rows[0]["minima"]["names"])
    out: dict[str, Any] = {"by_repeats": {}, "by_minima": {}}
    for key in ("to_score", "bar_top"):
        values = [float(r[key]) for r in rows]
        out["by_repeats"][key] = [{"repeats": r, **_ci(values[:r])} for r in range(2, len(rows) + 1)]
        out["by_minima"][key] = [
            {"minima": k, **_ci([sub_barcode_numbers(r, k)[key] for r in rows])} for k in range(3, n_min + 1)]
    for what, unit in (("by_repeats", "repeats"), ("by_minima", "minima")):
        for key, series in out[what].items():
            widths = ", ".join(f"{s[unit]}: {s['width']:.3g}" for s in series)
            print(f"  95% CI width of the mean {key} by {unit}: {widths}")
    return {"intervals": out}


def plot_intervals(found: Mapping[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(14, 3.4))
    for col, (what, unit) in enumerate((("by_repeats", "repeats"), ("by_minima", "minima per repeat"))):
        for j, key in enumerate(("to_score", "bar_top")):
            ax = axes[2 * col + j]
            series = found[what][key]
            x = [s["repeats" if what == "by_repeats" else "minima"] for s in series]
            mean = np.array([s["mean"] for s in series])
            ax.fill_between(x, [s["low"] for s in series], [s["high"] for s in series], alpha=0.3, label="95% CI")
            ax.plot(x, mean, "o-", label="mean")
            ax.set_xlabel(unit)
            ax.set_title(f"{'TO-score' if key == 'to_score' else 'mean bar top'} vs {unit}", fontsize=9)
            ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    args = parser(__doc__.splitlines()[0], repeats=(3, 10), minima=(4, 6)).parse_args(argv)
    epochs, path_epochs = (3, 2) if args.quick else (30, 40)
    group = Group(LABEL, StudyConfig.from_dict({
        "model": "fcn:depth=2,width=32", "data": "digits",
        "minima": {"epochs": epochs, "optimizer": "sgd", "lr": 0.05},
        "paths": {"curve": "bezier:bends=1", "epochs": path_epochs, "pairs": "all"},
        "evaluation": {"n_eval": 21 if args.quick else 61},
    }))
    found: dict[str, Any] = {}

    def extra(table: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        found.update(intervals(table))
        return found

    run_finding(args, [group], finding=6, name="robustness", keys=("to_score", "bar_top", "train_loss"),
                plot_keys=("to_score", "bar_top"), title="finding 6: one FCN on digits, repeated", extra=extra)
    fig = plot_intervals(found["intervals"], Path(args.out) / "robustness_ci.png")
    print(f"figure: {fig}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
