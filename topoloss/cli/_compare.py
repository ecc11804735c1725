"""``topoloss compare``: TO-scores and barcodes of several runs side by side."""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from topoloss.errors import InputError

__all__ = ["LEGEND", "comparison_table", "parse_groups", "register"]

#: What each column of ``topoloss compare`` means; printed under the table.
LEGEND = """\
columns:
  group       the LABEL of LABEL=RUN[,RUN...] (or the run folder's name)
  n           repeats in the group (runs, e.g. seeds)
  TO mean     mean TO-score over the repeats (bottleneck distance to the ideal one-bar barcode:
              half the longest finite bar; inf when a run's graph is disconnected)
  std         sample standard deviation of the TO-scores (n/a for one repeat)
  bar-top     mean over repeats of the mean bar top: the average saddle loss at which a minimum
              merges into a lower one (deaths of the finite bars; n/a with no finite bar)
  p vs first  two-sided permutation test (difference of mean TO-scores) against the first group
              (n/a for the first group, one repeat, or an infinite score); small p: the groups differ
  95% CI      percentile bootstrap interval of the mean TO-score (n/a for one repeat); with few
              repeats it is optimistic"""


def _bar_top_mean(bc: Any) -> float:
    fin = bc.finite()
    return float(fin[:, 1].mean()) if len(fin) else math.nan


def _num(x: float, fmt: str = ".4g") -> str:
    if math.isnan(x):
        return "n/a"
    return "inf" if math.isinf(x) else format(x, fmt)


def comparison_table(
    scores: Mapping[str, Sequence[float]], tops: Mapping[str, Sequence[float]], *, seed: int = 0
) -> str:
    """The text table of ``topoloss compare`` with its :data:`LEGEND`: per group the number of
    repeats, mean and standard deviation of the TO-score, its bootstrap 95% interval, a
    permutation test against the first group and the mean bar top ("n/a" where undefined)."""
    from topoloss.stats import summarize

    rows = summarize(scores, seed=seed)
    head = ["group", "n", "TO mean", "std", "bar-top", "p vs first", "95% CI"]
    body = []
    for row in rows:
        ci = "n/a" if math.isnan(row.ci.low) else f"[{_num(row.ci.low)}, {_num(row.ci.high)}]"
        p = "n/a" if row.vs_first is None else f"{row.vs_first.pvalue:.3g}"
        t = [x for x in tops[row.label] if not math.isnan(x)]
        body.append([row.label, str(row.n), _num(row.mean, ".6g"), _num(row.std, ".3g"),
                     _num(sum(t) / len(t), ".6g") if t else "n/a", p, ci])
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in [head, *body]]
    return "\n".join(lines) + "\n\n" + LEGEND


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
    tops = {k: [_bar_top_mean(bc) for bc in v] for k, v in barcodes.items()}
    print(comparison_table(scores, tops, seed=args.seed))
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
            "prints per group the mean and standard deviation of the TO-score, a bootstrap 95% "
            "interval, a permutation test against the first group and the mean bar top (a legend "
            "explains each column), and draws the scores with error bars beside the barcodes. "
            "Each GROUP is LABEL=RUN[,RUN...] (the runs are repeats) or a single RUN directory."
        ),
    )
    p.add_argument("groups", nargs="+", metavar="GROUP", help="LABEL=RUN[,RUN...] or RUN")
    p.add_argument("--out", default="compare.png", help="figure file (default compare.png)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and permutations (default 0)")
    p.set_defaults(func=_run)
