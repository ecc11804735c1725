"""Finding 2: CNN barcodes get lower with more channels or layers, and lower still with BatchNorm.

The paper (§4.2, Figs. 4-5) trains CNN-1-32, CNN-1-64, CNN-1-128, CNN-2-32, CNN-2-64 and
CNN-3-32 (7K to 117K parameters) on CIFAR-10: the saddle losses (bar tops) fall with
more channels and faster with more layers, and the BatchNorm counterparts have lower
minima and lower saddles. Here: the same CNN-L-C family (``topoloss.models.cnn``) on the
offline 8x8 digits images, channels 4, 8, 16 at one layer, layers 1, 2, 3 at 8
channels, and the BatchNorm versions of the latter; repeats with the same seeds in
every group, all pairs joined by a Bézier curve with one bend. Measured, not asserted.

    python examples/findings/cnn_channels_bn.py --out findings-output/cnn           # full
    python examples/findings/cnn_channels_bn.py --quick --out /tmp/cnn               # seconds
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from common import Group, parser, run_finding

from topoloss.config import StudyConfig

KEYS = ("to_score", "bar_top", "bar_length", "train_loss", "test_accuracy")


def groups(quick: bool) -> list[Group]:
    """CNN-L-C(-BN) on digits images: channels, then layers, then BatchNorm."""
    epochs, path_epochs = (2, 1) if quick else (20, 15)
    names = ["CNN-1-4", "CNN-1-4-BN"] if quick else [
        "CNN-1-4", "CNN-1-8", "CNN-1-16", "CNN-2-8", "CNN-3-8", "CNN-1-8-BN", "CNN-2-8-BN", "CNN-3-8-BN"]
    return [
        Group(name, StudyConfig.from_dict({
            "model": name, "data": "digits-images:test_size=0.8" if quick else "digits-images",
            "minima": {"epochs": epochs, "optimizer": "sgd", "lr": 0.05},
            "paths": {"curve": "bezier:bends=1", "epochs": path_epochs, "pairs": "all"},
            "evaluation": {"n_eval": 21 if quick else 41, "refine": 1 if quick else 2},
        }))
        for name in names
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = parser(__doc__.splitlines()[0], repeats=(2, 4), minima=(3, 3)).parse_args(argv)
    run_finding(args, groups(args.quick), finding=2, name="cnn_channels_bn", keys=KEYS,
                plot_keys=("to_score", "bar_top", "train_loss", "test_accuracy"),
                title="finding 2: CNN-L-C(-BN) on 8x8 digits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
