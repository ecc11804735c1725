"""Finding 4: without skip connections deeper ResNet-like nets have higher barcodes; with them, lower.

The paper (§6, Fig. 7, Table 8) follows Li et al. (2018): ResNet-20/56/110 and their
"-NS" variants without shortcuts (and WideResNet-56-k) on CIFAR-10. With depth the
barcodes of the ResNets get lower and those of the NS nets higher; ResNet-110-NS has the
highest bars and the largest test error. Here: the same CIFAR-style ResNet
(``topoloss.models.resnet``, BatchNorm, global pooling) at depths 8, 14 and 20, with and
without skip connections, on the offline 8x8 digits images; repeats with the same seeds
in every group, all pairs joined by a Bézier curve with one bend. BatchNorm statistics are
recomputed at every evaluated point (SPEC §5). Measured, not asserted.

    python examples/findings/skip_connections.py --out findings-output/skip        # full
    python examples/findings/skip_connections.py --quick --out /tmp/skip            # seconds
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from common import Group, parser, run_finding

from topoloss.config import StudyConfig

KEYS = ("to_score", "bar_top", "bar_length", "train_loss", "test_accuracy")


def groups(quick: bool) -> list[Group]:
    """ResNet-d and ResNet-d-NS for growing depth d."""
    depths = (8,) if quick else (8, 14, 20)
    data = "digits-images:test_size=0.8" if quick else "digits-images"  # quick: 359 training images
    epochs = 1 if quick else 15
    paths = {"steps": 3} if quick else {"epochs": 4}
    return [
        Group(f"ResNet-{d}{'' if skip else '-NS'}", StudyConfig.from_dict({
            "model": f"resnet:depth={d},skip={str(skip).lower()}", "data": data,
            "minima": {"epochs": epochs, "optimizer": "sgd", "lr": 0.05},
            "paths": {"curve": "bezier:bends=1", "pairs": "all", **paths},
            "evaluation": {"n_eval": 7 if quick else 11, "refine": 0 if quick else 1},
        }))
        for d in depths for skip in (True, False)
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = parser(__doc__.splitlines()[0], repeats=(2, 3), minima=(3, 3)).parse_args(argv)
    run_finding(args, groups(args.quick), finding=4, name="skip_connections", keys=KEYS,
                plot_keys=("to_score", "bar_top", "train_loss", "test_accuracy"),
                title="finding 4: ResNets with and without skips on 8x8 digits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
