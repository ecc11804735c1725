"""Finding 5: minima of a small transformer on text stay separated by high barriers.

The paper (§7, Figs. 8-9) trains a character-level GPT (the nanoGPT lecture model) from
four seeds on OSCAR text, where the data outnumber the parameters: the minima fall into
two quality levels, and Bézier paths between minima of different levels keep a high
barrier even with a path budget many times the training budget. Here: a one-block GPT
on the shipped text corpus (``topoloss.data.text_corpus``) against a fully connected net
of about the same number of parameters on the offline 8x8 digits, with the same
optimizer and the same budgets (each path gets twice the epochs of a minimum). For every path: its
barrier above the higher endpoint, the same for the straight segment, and the fraction
of the straight segment's barrier the optimized path keeps. Measured, not asserted.

    python examples/findings/gpt_barriers.py --out findings-output/gpt            # full
    python examples/findings/gpt_barriers.py --quick --out /tmp/gpt                # seconds
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from common import Group, parser, run_finding

from topoloss.config import StudyConfig
from topoloss.data import text_corpus
from topoloss.landscapes.model import ModelLandscape
from topoloss.models import gpt
from topoloss.models.gpt import sequence_cross_entropy

KEYS = ("excess", "linear_excess", "kept_fraction", "to_score", "train_loss", "test_accuracy")
GPT_LABEL = "GPT on text"


def gpt_landscape(block_size: int, n_embd: int, batch_size: int, test_size: float = 0.1) -> ModelLandscape:
    """A one-block character-level GPT on the shipped corpus, next-token cross-entropy."""
    train, test = text_corpus(block_size=block_size, test_size=test_size)
    size = train.vocab.size
    return ModelLandscape(
        lambda: gpt(size, block_size=block_size, n_layer=1, n_head=2, n_embd=n_embd),
        train, test_data=test, loss=sequence_cross_entropy, batch_size=batch_size)


def groups(quick: bool) -> list[Group]:
    """The GPT and an FCN of about its size, same optimizer and budgets."""
    block, n_embd, width = (8, 8, 8) if quick else (16, 16, 40)  # about 1.6k and 4.8k parameters
    epochs = 1 if quick else 20
    batch = 128
    study: dict[str, Any] = {
        "batch_size": batch,
        "minima": {"epochs": epochs, "optimizer": "adam", "lr": 3e-3},
        "paths": {"curve": "bezier:bends=1", "pairs": "all", **({"steps": 5} if quick else {"epochs": 2 * epochs})},
        "evaluation": {"n_eval": 11 if quick else 31, "refine": 0 if quick else 1},
    }
    return [
        Group(GPT_LABEL, StudyConfig.from_dict({**study, "model": "gpt", "data": "text"}),
              landscape=lambda: gpt_landscape(block, n_embd, batch, 0.8 if quick else 0.1)),
        Group("FCN on digits", StudyConfig.from_dict({**study, "model": f"fcn:depth=2,width={width}",
                                                      "data": "digits"})),
    ]


def plot_profiles(table: Mapping[str, Sequence[Mapping[str, Any]]], path: Path) -> Path:
    """Loss along every path of the first repeat (solid) and its straight segment (dotted)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(table), figsize=(5.2 * len(table), 3.6), squeeze=False)
    for ax, (label, rows) in zip(axes[0], table.items()):
        for i, p in enumerate(rows[0]["paths"]):
            color = f"C{i % 10}"
            ax.plot(p["t"], p["losses"], color=color, lw=1.2, label=f"{p['u']}-{p['v']}")
            if p["linear_t"] is not None:
                ax.plot(p["linear_t"], p["linear_losses"], color=color, lw=0.8, ls=":")
        ax.set_yscale("log")
        ax.set_xlabel("t along the path")
        ax.set_ylabel("training loss")
        ax.set_title(f"{label} (P = {rows[0]['dim']}): Bézier (solid), straight (dotted)", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    args = parser(__doc__.splitlines()[0], repeats=(2, 5), minima=(3, 4)).parse_args(argv)
    table: dict[str, Any] = {}

    def keep(found: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        table.update(found)
        return {"parameters": {label: rows[0]["dim"] for label, rows in found.items()}}

    run_finding(args, groups(args.quick), finding=5, name="gpt_barriers", keys=KEYS, extra=keep, profiles=True,
                plot_keys=("excess", "kept_fraction", "to_score"), title="finding 5: small GPT vs FCN of its size")
    print(f"figure: {plot_profiles(table, Path(args.out) / 'gpt_profiles.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
