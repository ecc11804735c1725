"""``topoloss run``: the whole pipeline from one config file (resumable)."""

from __future__ import annotations

import argparse
from pathlib import Path

from topoloss._io import check_file
from topoloss.cli._options import check_user_code, finish, read_config_file, run_study, say, trust_flag

__all__ = ["register"]


def _run(args: argparse.Namespace) -> int:
    from topoloss.config import StudyConfig

    data = read_config_file(args.config)
    run_dir = data.pop("run", None)
    args.run = args.run or run_dir or str(Path(args.config).with_suffix("")) + "-run"
    minima = data.get("minima")
    if isinstance(minima, dict) and isinstance(minima.get("checkpoints"), list):
        base = Path(args.config).resolve().parent
        minima["checkpoints"] = [str((base / str(f)).resolve()) for f in minima["checkpoints"]]
        for f in minima["checkpoints"]:
            check_file(f, "checkpoint")
    config = StudyConfig.from_dict(data)
    check_user_code(args, config, f"config file {args.config}")
    run, result = run_study(args, config)
    code = finish(args, result, run)
    if not args.no_report:
        from topoloss.report import make_report

        files = make_report(run)
        say(args, f"report: {files[-1]}")
    return code


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="the whole pipeline from one config file (resumable)",
                       description="Run minima -> paths -> barcode -> report from a TOML/YAML/JSON "
                                   "config: every key of topoloss.config.StudyConfig, sections "
                                   "[minima], [paths], [evaluation], [execution], plus 'run' (the "
                                   "run directory). See docs/configuration.md.")
    p.add_argument("config", metavar="CONFIG", help="config file (.toml, .yaml, .json)")
    p.add_argument("--run", metavar="RUN_DIR", default=None,
                   help="run directory (default: the config's 'run' key, else CONFIG-run)")
    p.add_argument("--new", action="store_true", help="move an existing run aside and start afresh")
    p.add_argument("--no-report", action="store_true", help="skip the figures and summary")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or messages")
    p.add_argument("--json", action="store_true", help="print the barcode as JSON")
    trust_flag(p, "the config file")
    p.set_defaults(func=_run)
