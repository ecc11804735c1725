"""``topoloss compare``: TO-scores and barcodes of several runs side by side."""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from topoloss.errors import InputError

__all__ = ["parse_groups", "register"]


def parse_groups(specs: list[str]) -> dict[str, list[Path]]:
    """``["depth2=runs/a,runs/b", "runs/c"]`` -> ``{"depth2": [a, b], "c": [c]}``."""
    groups: dict[str, list[Path]] = {}
    for spec in specs:
        label, sep, runs = spec.partition("=")
        if not sep:
            label, runs = Path(spec).name, spec
        folders = [Path(r) for r in runs.split(",") if r]
        if not label or not folders:
            raise InputError(f"bad group {spec!r}: use LABEL=RUN[,RUN...] or RUN")
        groups.setdefault(label, []).extend(folders)
    return groups


def _run(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from topoloss.engine.store import Run
    from topoloss.plot import plot_barcodes, plot_comparison
    from topoloss.report import save_figure
    from topoloss.topology.score import to_score

    groups = parse_groups(args.groups)
    barcodes: dict[str, list] = {}
    for label, folders in groups.items():
        barcodes[label] = []
        for folder in folders:
            bc = Run(folder).load_barcode()
            if bc is None:
                raise FileNotFoundError(f"{folder} has no barcode.json yet: run `topoloss connect` first")
            barcodes[label].append(bc)
    scores = {k: [to_score(bc) for bc in v] for k, v in barcodes.items()}
    width = max(len(k) for k in scores)
    print(f"{'run':<{width}}  repeats  TO-score mean    std      bar-top mean")
    for label, vals in scores.items():
        tops = [float(bc.finite()[:, 1].mean()) if len(bc.finite()) else float("nan") for bc in barcodes[label]]
        std = statistics.stdev(vals) if len(vals) > 1 else 0.0
        print(f"{label:<{width}}  {len(vals):>7}  {statistics.fmean(vals):>13.6g}  {std:>8.3g}  "
              f"{statistics.fmean(tops):>12.6g}")
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    plot_comparison(scores, ax=left, title="TO-score (mean ± std over repeats)")
    plot_barcodes(barcodes, ax=right)
    save_figure(fig, Path(args.out))
    print(f"figure: {args.out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="compare TO-scores and barcodes of several runs",
        description=(
            "Compare finished runs, e.g. nets of depth 2, 4, 8 with several seeds each: "
            "prints the mean and standard deviation of the TO-score per group and draws the "
            "scores with error bars beside the barcodes. Each GROUP is LABEL=RUN[,RUN...] "
            "(the runs are repeats) or a single RUN directory."
        ),
    )
    p.add_argument("groups", nargs="+", metavar="GROUP", help="LABEL=RUN[,RUN...] or RUN")
    p.add_argument("--out", default="compare.png", help="figure file (default compare.png)")
    p.set_defaults(func=_run)
