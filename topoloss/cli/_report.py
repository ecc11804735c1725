"""``topoloss report``: figures and a one-page summary of a run."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def _report(args: argparse.Namespace) -> int:
    from topoloss.engine.store import Run
    from topoloss.report import make_report

    files = make_report(Run(args.run_dir), plane=not args.no_plane)
    for f in files:
        print(f)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="figures and a one-page summary of a run",
                       description="Draw every figure of a run (barcode, persistence diagram, "
                                   "disconnectivity graph, loss profiles, plane through three minima) "
                                   "and write RUN_DIR/report/summary.md and summary.html.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--no-plane", action="store_true", help="skip the (slower) plane through three minima")
    p.set_defaults(func=_report)
