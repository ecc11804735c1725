"""``topoloss report``: figures and a one-page summary of a run."""

from __future__ import annotations

import argparse
import os

__all__ = ["register"]


def _report(args: argparse.Namespace) -> int:
    from topoloss.engine.store import Run
    from topoloss.report import make_report

    files = make_report(Run(args.run_dir), plane=not args.no_plane)
    csvs = [f for f in files if f.suffix == ".csv"]
    for f in files:
        if f.suffix != ".csv":
            print(f)
    if csvs:
        print(f"{csvs[0].parent}{os.sep} ({len(csvs)} path profile(s) as CSV: t, loss and one column per metric)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="figures and a one-page summary of a run",
                       description="Draw every figure of a run (barcode, persistence diagram, "
                                   "disconnectivity graph, loss profiles, plane through three minima) "
                                   "and write RUN_DIR/report/summary.md and summary.html, and every "
                                   "path's profile as RUN_DIR/report/paths/U--V.csv (columns t, loss and "
                                   "one per metric: train/test loss and accuracy on a network).")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--no-plane", action="store_true", help="skip the (slower) plane through three minima")
    p.set_defaults(func=_report)
