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
scipy's; the same for the training loss (the bar's birth) as a control, since a less
trained minimum is both higher and worse on the test set, and the partial rank correlation
of bar length and test error with the training loss held fixed. Measured, not asserted.

    python examples/findings/generalization.py --out findings-output/generalization   # full
    python examples/findings/generalization.py --quick --out /tmp/gen                  # seconds
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Mapping, Sequence
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
    """Train minimum ``k`` of a repeat with recipe ``k`` (epochs cut to a fifth in quick mode)."""

    def train(land: Landscape, config: StudyConfig, seeds: list[int]) -> TrainedMinima:
        parts = []
        for k, seed in enumerate(seeds):
            recipe = dict(RECIPES[k % len(RECIPES)])
            if quick:
                recipe["epochs"] = max(1, recipe["epochs"] // 5)
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
        "paths": {"curve": "bezier:bends=1", "epochs": 2 if quick else 40, "pairs": "all"},
        "evaluation": {"n_eval": 21 if quick else 61},
    })
    return [Group(LABEL, config, minima=mixed_minima(quick))]


def _ranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x)


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
        gen = np.random.default_rng(seed)
        null = np.array([float(a @ b[gen.permutation(n)]) / norm for _ in range(permutations)])
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
    gen = np.random.default_rng(seed)
    null = np.array([float(ex @ ey[gen.permutation(n)]) / norm for _ in range(permutations)])
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
    result["bar_length_vs_test_error_given_train_loss"] = partial_spearman(
        [r["bar_length"] for r in rows], err, [r["train_loss"] for r in rows])
    result["zero_length_bars"] = sum(r["bar_length"] <= 0 for r in rows)
    for key in ("bar_length_vs_test_error", "train_loss_vs_test_error", "bar_length_vs_train_loss",
                "bar_length_vs_test_error_given_train_loss"):
        s = result[key]
        scipy_p = f", scipy p = {s['p_scipy']:.3g}" if "p_scipy" in s else " (partial)"
        print(f"  {key}: rho = {s['rho']:+.3f} over {s['n']} bars, permutation p = {s['p_permutation']:.3g}"
              f"{scipy_p}")
    print(f"  bars of length 0 (a path went downhill from the minimum): {result['zero_length_bars']}")
    return {"generalization": result}


def main(argv: Sequence[str] | None = None) -> int:
    args = parser(__doc__.splitlines()[0], repeats=(1, 2), minima=(4, 10)).parse_args(argv)
    run_finding(args, groups(args.quick), finding=7, name="generalization", keys=KEYS, extra=correlations,
                plot_keys=KEYS, title="bar length and generalization (FCN, digits, mixed training)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
