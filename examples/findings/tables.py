"""Markdown tables of the finding scripts' JSON results (the tables of docs/findings.md).

For each result file in the folders given: per metric, every group's mean and 95%
bootstrap interval over repeats, and the two-sided permutation tests of the comparisons
the finding is about (``b - a`` for each pair ``(a, b)`` below, exact over all splits for
these group sizes), computed with :mod:`topoloss.stats` from the stored repeats.

    python examples/findings/tables.py findings-output/*/
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common import METRICS

from topoloss.stats import bootstrap_ci, permutation_test

#: result name -> the pairs of groups compared (b - a)
COMPARISONS: dict[str, list[tuple[str, str]]] = {
    "fcn_depth_width": [("depth 1 width 32", "depth 2 width 32"), ("depth 2 width 32", "depth 3 width 32"),
                        ("depth 2 width 16", "depth 2 width 32"), ("depth 2 width 32", "depth 2 width 64")],
    "cnn_channels_bn": [("CNN-1-4", "CNN-1-8"), ("CNN-1-8", "CNN-1-16"), ("CNN-1-8", "CNN-2-8"),
                        ("CNN-2-8", "CNN-3-8"), ("CNN-1-8", "CNN-1-8-BN"), ("CNN-2-8", "CNN-2-8-BN"),
                        ("CNN-3-8", "CNN-3-8-BN")],
    "lr_types": [("B: annealed lr", "A: small constant lr")],
    "skip_connections": [("ResNet-8", "ResNet-14"), ("ResNet-14", "ResNet-20"), ("ResNet-8-NS", "ResNet-14-NS"),
                         ("ResNet-14-NS", "ResNet-20-NS"), ("ResNet-8", "ResNet-8-NS"),
                         ("ResNet-14", "ResNet-14-NS"), ("ResNet-20", "ResNet-20-NS")],
    "gpt_barriers": [("FCN on digits", "GPT on text")],
    "robustness": [],
}


def group_table(data: dict[str, Any], keys: Sequence[str]) -> list[str]:
    """Rows ``| group | metric: mean [CI] | ...``."""
    lines = ["| group | " + " | ".join(METRICS.get(k, k) for k in keys) + " |",
             "|---" * (len(keys) + 1) + "|"]
    for label, rows in data["groups"].items():
        cells = []
        for key in keys:
            ci = bootstrap_ci([r[key] for r in rows], seed=0)
            cells.append(f"{ci.estimate:.4g} [{ci.low:.4g}, {ci.high:.4g}]")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def test_table(data: dict[str, Any], pairs: Sequence[tuple[str, str]], keys: Sequence[str]) -> list[str]:
    """Rows ``| b - a | metric: difference (p) | ...``."""
    lines = ["| comparison | " + " | ".join(METRICS.get(k, k) for k in keys) + " |",
             "|---" * (len(keys) + 1) + "|"]
    for a, b in pairs:
        if a not in data["groups"] or b not in data["groups"]:
            continue
        cells = []
        for key in keys:
            test = permutation_test([r[key] for r in data["groups"][b]], [r[key] for r in data["groups"][a]])
            cells.append(f"{test.statistic:+.3g} (p = {test.pvalue:.3g})")
        lines.append(f"| {b} − {a} | " + " | ".join(cells) + " |")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folders", nargs="+", help="output folders of the finding scripts")
    args = p.parse_args(argv)
    for folder in args.folders:
        for path in sorted(Path(folder).glob("*.json")):
            data = json.loads(path.read_text())
            keys = list(data["stats"])
            print(f"## {path.stem} (finding {data['finding']})\n")
            print(f"`{data['command']}`: {data['repeats']} repeats x {data['n_minima']} minima, "
                  f"wall {data['wall_seconds']:.0f} s, load average {data['load_average']}\n")
            print("\n".join(group_table(data, keys)) + "\n")
            pairs = COMPARISONS.get(path.stem, [])
            if pairs:
                print("\n".join(test_table(data, pairs, keys)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
