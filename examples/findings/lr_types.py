"""Finding 3: minima of a small constant learning rate ("type A") have higher saddles than
minima of an annealed learning rate ("type B") at equal training loss, and generalize worse.

The paper (§5, App. F, Table 7) trains 8 ResNet-like nets (Table 5) per type on CIFAR-10
and SVHN with SGD and momentum; both types reach nearly zero training loss, type B has
the higher test accuracy, and the bar tops (saddles) of type A are always higher. Here: a
fully connected net (depth 2, width 32) on the offline 8x8 digits. Type B: SGD with
momentum, lr 0.1 annealed to 0.001 over a fixed number of epochs. Type A: lr 0.01
(constant), trained in each repeat **until its exact training loss reaches the mean loss
of that repeat's type-B minima** (``MinimaConfig.target_loss``, with an epoch cap), so the
two types are compared at matched training loss. The same seeds in both groups; all
pairs joined by a Bézier curve with one bend. Measured, not asserted.

    python examples/findings/lr_types.py --out findings-output/lr                 # full
    python examples/findings/lr_types.py --quick --out /tmp/lr                     # seconds
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
from common import Group, parser, run_finding

from topoloss.config import StudyConfig
from topoloss.landscapes.base import Landscape
from topoloss.minima.train import TrainedMinima, train_minima

KEYS = ("bar_top", "to_score", "bar_length", "train_loss", "test_accuracy")


class MatchedLoss:
    """Type B trains normally and records its mean loss per repeat (keyed by the seeds);
    type A then trains until it reaches that loss."""

    def __init__(self) -> None:
        self.targets: dict[tuple[int, ...], float] = {}

    def type_b(self, land: Landscape, config: StudyConfig, seeds: list[int]) -> TrainedMinima:
        minima = train_minima(land, config=config.minima, progress=False)
        self.targets[tuple(seeds)] = float(np.mean(minima.losses))
        return minima

    def type_a(self, land: Landscape, config: StudyConfig, seeds: list[int]) -> TrainedMinima:
        target = self.targets[tuple(seeds)]  # type B of this repeat ran first
        return train_minima(land, config=config.minima.replace(target_loss=target), progress=False)


def groups(quick: bool) -> list[Group]:
    """Type B first (it sets the target loss of each repeat), then type A."""
    matched = MatchedLoss()
    epochs_b, cap_a, path_epochs = (4, 40, 2) if quick else (40, 1500, 40)
    common: dict[str, Any] = {
        "model": "fcn:depth=2,width=32", "data": "digits",
        "paths": {"curve": "bezier:bends=1", "epochs": path_epochs, "pairs": "all"},
        "evaluation": {"n_eval": 21 if quick else 61},
    }
    type_b = StudyConfig.from_dict({**common, "minima": {
        "epochs": epochs_b, "optimizer": "sgd", "lr": 0.1, "schedule": "annealing", "lr_end": 1e-3}})
    type_a = StudyConfig.from_dict({**common, "minima": {
        "epochs": cap_a, "optimizer": "sgd", "lr": 0.01, "schedule": "constant"}})
    return [Group("B: annealed lr", type_b, minima=matched.type_b),
            Group("A: small constant lr", type_a, minima=matched.type_a)]


def matched(table: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per repeat: type B's mean loss (the target), type A's losses and epochs to reach it."""
    rows = []
    for b, a in zip(table["B: annealed lr"], table["A: small constant lr"]):
        rows.append({"seeds": a["seeds"], "target_loss": float(np.mean(b["minima"]["losses"])),
                     "type_a_losses": a["minima"]["losses"], "type_a_reached": a["minima"]["converged"],
                     "type_a_epochs": [m["epochs"] for m in a["minima"]["metrics"]]})
        print(f"  seeds {a['seeds']}: target {rows[-1]['target_loss']:.4g}; type A reached it: "
              f"{rows[-1]['type_a_reached']} after {rows[-1]['type_a_epochs']} epochs")
    return {"matched_loss": rows}


def main(argv: Sequence[str] | None = None) -> int:
    args = parser(__doc__.splitlines()[0], repeats=(2, 4), minima=(3, 4)).parse_args(argv)
    run_finding(args, groups(args.quick), finding=3, name="lr_types", keys=KEYS, extra=matched,
                plot_keys=("bar_top", "to_score", "train_loss", "test_accuracy"),
                title="finding 3: type A vs type B minima at matched training loss (FCN, digits)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
