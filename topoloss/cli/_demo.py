"""``topoloss demo``: the main job, a complete small study on the offline default."""

from __future__ import annotations

import argparse

from topoloss.cli._options import finish, run_flags, run_study, say

__all__ = ["DEMO_DIR", "demo_config", "register"]

DEMO_DIR = "topoloss-demo"


def demo_config():  # -> StudyConfig
    """The demo: 4 minima of ``fcn:depth=2,width=32`` on digits (the config defaults),
    every pair joined by a one-bend Bézier curve trained for 40 epochs."""
    from topoloss.config import PathConfig, StudyConfig
    from topoloss.paths.curves import Bezier

    return StudyConfig(paths=PathConfig(curve=Bezier(bends=1), epochs=40, pairs="all"))


def _demo(args: argparse.Namespace) -> int:
    from topoloss.report import make_report

    say(args, "topoloss demo: 4 minima of a fully connected net (2 hidden layers of 32) on "
              "scikit-learn's digits, all 6 pairs joined by Bézier curves")
    run, result = run_study(args, demo_config())
    code = finish(args, result, run)
    files = make_report(run)
    print(f"report: {files[-1]}")
    return code


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="a complete small study on the offline default (digits)",
                       description="Train 4 minima of a small net on scikit-learn's digits, connect "
                                   "all pairs, compute the barcode and TO-score, and write a report. "
                                   "About 7 seconds on two CPU cores once installed; resumable.")
    run_flags(p, required=False, default=DEMO_DIR)
    p.set_defaults(func=_demo)
