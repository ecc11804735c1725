"""``topoloss connect``: optimize paths between minima in a run directory (resumable)."""

from __future__ import annotations

import argparse
from pathlib import Path

from topoloss._io import check_file
from topoloss.cli._options import (
    add_config_flags,
    check_user_code,
    config_from_args,
    finish,
    run_flags,
    run_study,
    trust_flag,
)
from topoloss.errors import InputError

__all__ = ["register"]


def _connect(args: argparse.Namespace) -> int:
    from topoloss.config import MinimaConfig, StudyConfig
    from topoloss.engine.store import Run

    if args.checkpoints:
        given = vars(args)
        if "cfg____model" not in given or "cfg____data" not in given:
            raise InputError("--model and --data are required with checkpoint files")
        for f in args.checkpoints:
            check_file(f, "checkpoint")
        base = StudyConfig(minima=MinimaConfig(checkpoints=tuple(str(Path(f).resolve())
                                                                 for f in args.checkpoints)))
    else:
        try:
            stored = Run(args.run).config
        except FileNotFoundError:
            raise InputError(f"give checkpoint files, or --run a directory made by `topoloss train` "
                             f"({args.run} holds no run)") from None
        base = StudyConfig.from_dict({k: v for k, v in stored.items()
                                      if k not in ("paths", "evaluation", "execution", "seed")})
    config = config_from_args(args, base)
    if not args.checkpoints:
        check_user_code(args, config, f"run {args.run}")
    run, result = run_study(args, config)
    return finish(args, result, run)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("connect", help="optimize paths between minima (resumable)",
                       description="Optimize a low-loss path for each planned pair of minima, writing "
                                   "each path to the run directory as soon as it is finished; then the "
                                   "graph, barcode and TO-score. Re-running the same command resumes.")
    p.add_argument("checkpoints", nargs="*", metavar="CHECKPOINT",
                   help=".pt state dicts (loaded with weights_only=True) or .safetensors files; "
                        "omit to use the minima of a run made by `topoloss train`")
    add_config_flags(p, "", only=("model", "data", "device", "batch_size", "seed"))
    add_config_flags(p, "paths")
    add_config_flags(p, "evaluation")
    add_config_flags(p, "execution")
    run_flags(p)
    trust_flag(p, "the run directory")
    p.add_argument("--json", action="store_true", help="print the barcode as JSON")
    p.set_defaults(func=_connect)
