"""Finding 1: loss barcodes of fully connected nets get lower as they get deeper or wider.

The paper (§4.1, Figs. 2-3) trains FCNs with 2, 3, 4, 6 and 8 hidden layers on MNIST and
Fashion-MNIST and finds shorter, lower bars and smaller TO-scores with depth. Here: FCNs
on the offline 8x8 digits, depth 1, 2, 3 at width 32 and width 16, 32, 64 at depth 2;
each group repeated with independent seeds (the same seeds in every group), all pairs of
minima joined by a Bézier curve with one bend. The script reports means, 95% bootstrap
intervals and permutation tests against the first group; it asserts nothing about the
outcome.

    python examples/findings/fcn_depth_width.py --out findings-output/fcn          # full
    python examples/findings/fcn_depth_width.py --quick --out /tmp/fcn              # seconds
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from common import Group, parser, run_finding

from topoloss.config import StudyConfig

KEYS = ("to_score", "bar_top", "bar_length", "train_loss", "test_accuracy")


def groups(quick: bool) -> list[Group]:
    """The architectures compared (depth at width 32, then width at depth 2)."""
    epochs, path_epochs = (3, 2) if quick else (30, 40)
    shapes = [(1, 8), (2, 8)] if quick else [(1, 32), (2, 32), (3, 32), (2, 16), (2, 64)]
    return [
        Group(f"depth {d} width {w}", StudyConfig.from_dict({
            "model": f"fcn:depth={d},width={w}", "data": "digits",
            "minima": {"epochs": epochs, "optimizer": "sgd", "lr": 0.05},
            "paths": {"curve": "bezier:bends=1", "epochs": path_epochs, "pairs": "all"},
            "evaluation": {"n_eval": 21 if quick else 61},
        }))
        for d, w in shapes
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = parser(__doc__.splitlines()[0], repeats=(2, 5), minima=(3, 4)).parse_args(argv)
    run_finding(args, groups(args.quick), finding=1, name="fcn_depth_width", keys=KEYS,
                plot_keys=("to_score", "bar_top", "bar_length", "test_accuracy"), title="finding 1: FCNs on digits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
