"""Bar length against generalization: is a minimum with a longer bar a worse-generalizing one?

The paper's second main claim relates the barcode to generalization: minima whose bars
are lower and shorter generalize better (§5, §6). Here each minimum is trained
*differently* (learning rate, schedule, optimizer, epochs; one recipe per seed of a
repeat, the same recipes in every repeat), so that the test errors differ; every pair is
joined by a Bézier curve with one bend, and per minimum we take its bar length
(death − birth; the lowest minimum's infinite bar is left out) and its test error
(1 − test accuracy, measured when it was trained). The statistic is Spearman's rank
correlation between the two over all finite bars of all repeats, with a two-sided
permutation p-value (exact for up to 9 bars, else 199 999 seeded permutations) and
scipy's; the same for the bar top (the saddle, death) and for the training loss (the bar's
birth) as a control, since a less trained minimum is both higher and worse on the test
set, and the partial rank correlations of bar length and of bar top with test error at
fixed training loss. Measured, not asserted.

    python examples/findings/generalization.py --out findings-output/generalization   # full
    python examples/findings/generalization.py --quick --out /tmp/gen                  # seconds
"""

from __future__ import annotations

import itertools
import json
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from common import Group, parser, run_finding

from topoloss.config import StudyConfig
from topoloss.landscapes.base import Landscape
from topoloss.minima.train import TrainedMinima, train_minima

LABEL = "FCN on digits, mixed training"
KEYS = ("bar_length", "to_score", "train_loss", "test_accuracy")

#: One training recipe per minimum of a repeat (cycled): the test errors differ.
RECIPES: tuple[dict[str, Any], ...] = (
    {"optimizer": "sgd", "lr": 0.1, "schedule": "annealing", "lr_end": 1e-3, "epochs": 40},
    {"optimizer": "sgd", "lr": 0.01, "schedule": "constant", "epochs": 40},
    {"optimizer": "adam", "lr": 1e-3, "schedule": "constant", "epochs": 40},
    {"optimizer": "sgd", "lr": 0.1, "schedule": "constant", "epochs": 40},
    {"optimizer": "adam", "lr": 1e-2, "schedule": "cosine", "epochs": 20},
    {"optimizer": "sgd", "lr": 0.05, "schedule": "cyclical", "epochs": 40},
    {"optimizer": "sgd", "lr": 0.003, "schedule": "constant", "epochs": 150},
    {"optimizer": "adam", "lr": 3e-4, "schedule": "constant", "epochs": 80},
    {"optimizer": "sgd", "lr": 0.02, "schedule": "cosine", "epochs": 20},
    {"optimizer": "sgd", "lr": 0.01, "schedule": "constant", "epochs": 15},
)


def mixed_minima(quick: bool) -> Any:
    """Train minimum ``k`` of a repeat with recipe ``k`` (epochs cut to a tenth in quick mode)."""

    def train(land: Landscape, config: StudyConfig, seeds: list[int]) -> TrainedMinima:
        parts = []
        for k, seed in enumerate(seeds):
            recipe = dict(RECIPES[k % len(RECIPES)])
            if quick:
                recipe["epochs"] = max(1, recipe["epochs"] // 10)
            parts.append(train_minima(land, config=config.minima.replace(seeds=(seed,), **recipe), progress=False))
        return TrainedMinima(torch.cat([p.points for p in parts]), np.concatenate([p.losses for p in parts]),
                             tuple(n for p in parts for n in p.names), np.concatenate([p.n_steps for p in parts]),
                             np.concatenate([p.converged for p in parts]),
                             np.concatenate([p.on_boundary for p in parts]),
                             tuple(m for p in parts for m in p.metrics))

    return train


def groups(quick: bool) -> list[Group]:
    config = StudyConfig.from_dict({
        "model": "fcn:depth=1,width=8" if quick else "fcn:depth=2,width=32", "data": "digits",
        "paths": {"curve": "bezier:bends=1", "epochs": 1 if quick else 40, "pairs": "all"},
        "evaluation": {"n_eval": 21 if quick else 61},
    })
    return [Group(LABEL, config, minima=mixed_minima(quick))]


def _ranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x)


def _shuffled(v: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` seeded random permutations of ``v``, one per row."""
    order = np.argsort(np.random.default_rng(seed).random((count, v.size)), axis=1)
    return v[order]


def spearman(x: Sequence[float], y: Sequence[float], *, permutations: int = 199_999,
             seed: int = 0) -> dict[str, Any]:
    """Spearman's rho of ``x`` and ``y`` with a two-sided permutation p-value (exact: every
    permutation of ``y`` for up to 9 values; else ``permutations`` seeded ones, counting the
    observed one) and scipy's p-value."""
    from scipy.stats import spearmanr

    a, b = _ranks(np.asarray(x, float)), _ranks(np.asarray(y, float))
    n = a.size
    if n < 3:
        return {"n": n, "rho": math.nan, "p_permutation": math.nan, "p_scipy": math.nan, "exact": True}
    a, b = a - a.mean(), b - b.mean()
    norm = math.sqrt(float(a @ a) * float(b @ b))
    rho = float(a @ b) / norm if norm > 0 else math.nan
    exact = n <= 9
    if exact:
        perms = np.array(list(itertools.permutations(range(n))), dtype=np.int64)
        null = (b[perms] @ a) / norm
        p = float(np.mean(np.abs(null) >= abs(rho) - 1e-12))
    else:
        null = _shuffled(b, permutations, seed) @ a / norm
        p = float((1 + np.sum(np.abs(null) >= abs(rho) - 1e-12)) / (permutations + 1))
    res = spearmanr(x, y)
    return {"n": n, "rho": rho, "p_permutation": p, "p_scipy": float(res.pvalue), "exact": exact,
            "rho_scipy": float(res.statistic)}


def partial_spearman(x: Sequence[float], y: Sequence[float], z: Sequence[float], *,
                     permutations: int = 199_999, seed: int = 0) -> dict[str, Any]:
    """Spearman's rho of ``x`` and ``y`` with ``z`` held fixed: the correlation of the ranks of
    ``x`` and ``y`` after removing from each its least-squares line in the ranks of ``z``, with
    a two-sided p-value from ``permutations`` seeded permutations of ``y``'s residuals."""
    rx, ry, rz = (_ranks(np.asarray(v, float)) for v in (x, y, z))
    n = rx.size
    if n < 4:
        return {"n": n, "rho": math.nan, "p_permutation": math.nan}
    design = np.column_stack([np.ones(n), rz])

    def residual(v: np.ndarray) -> np.ndarray:
        return v - design @ np.linalg.lstsq(design, v, rcond=None)[0]

    ex, ey = residual(rx), residual(ry)
    norm = math.sqrt(float(ex @ ex) * float(ey @ ey))
    rho = float(ex @ ey) / norm if norm > 0 else math.nan
    null = _shuffled(ey, permutations, seed) @ ex / norm
    p = float((1 + np.sum(np.abs(null) >= abs(rho) - 1e-12)) / (permutations + 1))
    return {"n": n, "rho": rho, "p_permutation": p}


def bars_and_errors(table: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Per finite bar of every repeat: the minimum, its recipe, bar length, training loss, test error."""
    out = []
    for rows in table.values():
        for r, row in enumerate(rows):
            names = row["minima"]["names"]
            metrics = dict(zip(names, row["minima"]["metrics"]))
            bars = row["barcode"]["bars"]
            for k, name in enumerate(names):
                bar = next(b for b in bars if b["minimum"] == name)
                if bar["death"] is None:
                    continue
                out.append({"repeat": r, "minimum": name, "recipe": RECIPES[k % len(RECIPES)],
                            "bar_length": bar["death"] - bar["birth"], "birth": bar["birth"],
                            "train_loss": metrics[name]["train_loss"],
                            "test_error": 1.0 - metrics[name]["test_accuracy"]})
    return out


def correlations(table: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Spearman's rho of bar length (and, as a control, training loss) against test error."""
    rows = bars_and_errors(table)
    err = [r["test_error"] for r in rows]
    result = {
        "bars": rows,
        "bar_length_vs_test_error": spearman([r["bar_length"] for r in rows], err),
        "train_loss_vs_test_error": spearman([r["train_loss"] for r in rows], err),
        "bar_length_vs_train_loss": spearman([r["bar_length"] for r in rows], [r["train_loss"] for r in rows]),
    }
    loss = [r["train_loss"] for r in rows]
    top = [r["birth"] + r["bar_length"] for r in rows]
    result["bar_top_vs_test_error"] = spearman(top, err)
    result["bar_length_vs_test_error_given_train_loss"] = partial_spearman([r["bar_length"] for r in rows], err, loss)
    result["bar_top_vs_test_error_given_train_loss"] = partial_spearman(top, err, loss)
    result["zero_length_bars"] = sum(r["bar_length"] <= 0 for r in rows)
    positive = [r for r in rows if r["bar_length"] > 0]  # the minimum is a minimum of the graph
    result["positive_bars_bar_length_vs_test_error"] = spearman([r["bar_length"] for r in positive],
                                                                [r["test_error"] for r in positive])
    for key in ("bar_length_vs_test_error", "train_loss_vs_test_error", "bar_length_vs_train_loss",
                "bar_top_vs_test_error", "bar_length_vs_test_error_given_train_loss",
                "bar_top_vs_test_error_given_train_loss", "positive_bars_bar_length_vs_test_error"):
        s = result[key]
        scipy_p = f", scipy p = {s['p_scipy']:.3g}" if "p_scipy" in s else " (partial)"
        print(f"  {key}: rho = {s['rho']:+.3f} over {s['n']} bars, permutation p = {s['p_permutation']:.3g}"
              f"{scipy_p}")
    print(f"  bars of length 0 (a path went downhill from the minimum): {result['zero_length_bars']}")
    return {"generalization": result}


def scatter(data: Mapping[str, Any], path: Path) -> Path:
    """Bar length (and training loss) against test error, one dot per finite bar, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = data["generalization"]
    bars = result["bars"]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    for ax, key, label in ((axes[0], "bar_length", "bar length (death − birth)"),
                           (axes[1], "train_loss", "training loss of the minimum (birth)")):
        for r in range(1 + max((b["repeat"] for b in bars), default=0)):
            mine = [b for b in bars if b["repeat"] == r]
            ax.scatter([b[key] for b in mine], [b["test_error"] for b in mine], s=18, label=f"repeat {r}")
        s = result[f"{key}_vs_test_error"]
        ax.set_title(f"Spearman rho = {s['rho']:+.2f}, p = {s['p_permutation']:.2g} (n = {s['n']})", fontsize=9)
        ax.set_xlabel(label)
        ax.set_ylabel("test error of the minimum")
        ax.grid(alpha=0.3)
    axes[1].set_xscale("log")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    args = parser(__doc__.splitlines()[0], repeats=(2, 2), minima=(3, 10)).parse_args(argv)
    path = run_finding(args, groups(args.quick), finding=7, name="generalization", keys=KEYS, extra=correlations,
                       plot_keys=KEYS, title="bar length and generalization (FCN, digits, mixed training)")
    print(f"scatter: {scatter(json.loads(path.read_text()), path.parent / 'generalization_scatter.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
