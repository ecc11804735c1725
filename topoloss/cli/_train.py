"""``topoloss train``: one minimum per seed, stored in a run directory."""

from __future__ import annotations

import argparse

from topoloss.cli._options import TRAIN_KEYS, add_config_flags, config_from_args, open_run, run_flags, say

__all__ = ["register"]


def _train(args: argparse.Namespace) -> int:
    from topoloss.engine.pipeline import prepare_minima

    config = config_from_args(args)
    run, landscape = open_run(args, config, keys=TRAIN_KEYS)
    minima = prepare_minima(landscape, config, store=run, progress=not args.quiet)
    folder = run.export_checkpoints(landscape, minima)
    for name, loss, metrics in zip(minima.names, minima.losses, getattr(minima, "metrics", None) or [{}] * len(minima)):
        extra = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
        print(f"{name}: train loss {loss:.6g}" + (f" ({extra})" if extra else ""))
    say(args, f"checkpoints in {folder}; next: topoloss connect --run {run.dir}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train minima of a model on a dataset",
                       description="Train one minimum per seed and store them (and safetensors "
                                   "checkpoints) in a run directory.")
    add_config_flags(p, "", only=("model", "data", "device", "batch_size"), required=("model", "data"))
    add_config_flags(p, "minima", exclude=("checkpoints", "n_minima"))
    run_flags(p)
    p.set_defaults(func=_train)
