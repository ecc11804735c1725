"""``topoloss train | connect | run | demo | report``: studies in run directories."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path as FilePath
from typing import Any

from topoloss.cli import UsageError

__all__ = ["register"]

DEMO_DIR = "topoloss-demo"


def _seeds(text: str) -> list[int]:
    """``"0-3"`` -> [0, 1, 2, 3]; ``"1,5,7"`` -> [1, 5, 7]."""
    out: list[int] = []
    try:
        for part in text.split(","):
            if "-" in part.strip()[1:]:
                lo, hi = part.split("-", 1)
                out += list(range(int(lo), int(hi) + 1))
            else:
                out.append(int(part))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid seeds {text!r}: use e.g. 0-3 or 0,2,5") from None
    return out


def _pairs(text: str) -> Any:
    if text in ("all", "mst", "nearest"):
        return text
    try:
        return [p.split("-", 1) if "-" in p else p.split(":", 1) for p in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid pairs {text!r}") from None


def _say(args: argparse.Namespace, msg: str) -> None:
    if not args.quiet:
        print(msg, file=sys.stderr)


def _common(p: argparse.ArgumentParser, *, model: bool = True) -> None:
    if model:
        p.add_argument("--model", required=True, metavar="SPEC",
                       help="zoo model, e.g. 'fcn:depth=2,width=32', 'CNN-2-16-BN', 'ResNet-20-NS', "
                            "or your own 'pkg.module:factory' (a function returning a torch.nn.Module)")
        p.add_argument("--data", required=True, metavar="SPEC",
                       help="dataset: digits, digits-images, moons, blobs, text, mnist:ROOT, "
                            "fashion-mnist:ROOT, cifar10:ROOT, cifar100:ROOT, svhn:ROOT, "
                            "or 'pkg.module:factory' returning (train, test) datasets")
        p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda (default cpu)")
        p.add_argument("--batch-size", type=int, default=128, help="mini-batch size (default 128)")
    p.add_argument("--run", metavar="RUN_DIR", required=True, help="run directory (created; resumed if it exists)")
    p.add_argument("--new", action="store_true",
                   help="move an existing run in RUN_DIR aside and start afresh")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or messages")


def _path_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--curve", choices=("bezier", "polychain", "chain"), default="bezier",
                   help="curve family (default bezier)")
    p.add_argument("--bends", type=int, default=1,
                   help="bends of a Bézier/PolyChain curve, initial points of a chain (default 1)")
    p.add_argument("--epochs", type=int, default=40, help="training epochs per path (default 40)")
    p.add_argument("--lr", type=float, default=None, help="learning rate of path training (default: automatic)")
    p.add_argument("--pairs", type=_pairs, default="all",
                   help="which pairs to connect: all, mst, nearest, or 'a-b,a-c' (default all)")
    p.add_argument("--seed", type=int, default=0, help="seed of path training (default 0)")


def _finish(args: argparse.Namespace, result: Any, run: Any) -> int:
    from topoloss.cli import emit_json
    from topoloss.topology.score import barcode_summary

    if getattr(args, "json", None):
        emit_json("-", barcode_summary(result.barcode))
    elif not args.quiet:
        print(result.barcode)
        print(f"TO-score (bottleneck): {result.to_score:.6g}")
    _say(args, f"paths: {result.computed_paths} computed, {result.reused_paths} reused; results in {run.dir}")
    return 0


def _run_study(args: argparse.Namespace, config: dict[str, Any]) -> tuple[Any, Any]:
    from topoloss.engine.store import Run
    from topoloss.engine.study import make_landscape, normalize_config, run_study

    config = normalize_config(config)
    landscape = make_landscape(config)  # bad specs fail here, before RUN_DIR is touched
    run = Run(args.run, config, new=args.new)
    return run, run_study(run, landscape=landscape, progress=not args.quiet, log=lambda m: _say(args, m))


# ---------------------------------------------------------------------- commands
def _train(args: argparse.Namespace) -> int:
    from topoloss.engine.store import Run
    from topoloss.engine.study import make_landscape, normalize_config, prepare_minima
    from topoloss.minima.train import save_minimum

    config = normalize_config({
        "model": args.model, "data": args.data, "device": args.device, "batch_size": args.batch_size,
        "minima": {"seeds": args.seeds, "epochs": args.epochs, "optimizer": args.optimizer,
                   "lr": args.lr, "schedule": args.schedule},
    })
    del config["paths"]  # added by `topoloss connect --run` on this run
    land = make_landscape(normalize_config(config))  # bad specs fail before RUN_DIR is touched
    run = Run(args.run, config, new=args.new)
    minima = prepare_minima(run, land, progress=not args.quiet)
    for name, point in zip(minima.names, minima.points):
        file = run.dir / "checkpoints" / f"{name}.safetensors"
        if not file.exists():
            save_minimum(land, point, file)
    for name, loss, metrics in zip(minima.names, minima.losses, getattr(minima, "metrics", ()) or [{}] * len(minima)):
        extra = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
        print(f"{name}: train loss {loss:.6g}" + (f" ({extra})" if extra else ""))
    _say(args, f"checkpoints in {run.dir / 'checkpoints'}; next: topoloss connect --run {run.dir}")
    return 0


def _connect(args: argparse.Namespace) -> int:
    from topoloss.engine.store import Run

    paths = {"curve": args.curve, "bends": args.bends, "epochs": args.epochs, "lr": args.lr,
             "pairs": args.pairs, "seed": args.seed}
    if args.checkpoints:
        if not args.model or not args.data:
            raise UsageError("--model and --data are required with checkpoint files")
        missing = [f for f in args.checkpoints if not FilePath(f).is_file()]
        if missing:
            raise FileNotFoundError(f"checkpoint not found: {missing[0]}")
        config = {"model": args.model, "data": args.data, "device": args.device,
                  "batch_size": args.batch_size,
                  "minima": {"checkpoints": [str(FilePath(f).resolve()) for f in args.checkpoints]},
                  "paths": paths}
    else:
        try:
            stored = Run(args.run).config
        except FileNotFoundError:
            raise UsageError(f"give checkpoint files, or --run a directory made by `topoloss train` "
                             f"({args.run} holds no run)") from None
        config = {**stored, "paths": paths}
    run, result = _run_study(args, config)
    return _finish(args, result, run)


def _read_config_file(path: str) -> dict[str, Any]:
    p = FilePath(path)
    if not p.is_file():
        raise FileNotFoundError(f"config file not found: {p}")
    text = p.read_text()
    try:
        if p.suffix.lower() == ".toml":
            import tomllib

            return tomllib.loads(text)
        if p.suffix.lower() in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                raise UsageError("reading YAML needs PyYAML: pip install pyyaml (or use TOML)") from None
            data = yaml.safe_load(text)
            if not isinstance(data, dict):
                raise ValueError("the top level is not a mapping")
            return data
        if p.suffix.lower() == ".json":
            return json.loads(text)
    except UsageError:
        raise
    except Exception as exc:  # tomllib / yaml / json errors all mean a malformed file
        raise UsageError(f"malformed config {p}: {exc}") from None
    raise UsageError(f"unknown config format {p.suffix!r}: use .toml, .yaml or .json")


def _run(args: argparse.Namespace) -> int:
    config = _read_config_file(args.config)
    run_dir = config.pop("run", None)
    args.run = args.run or run_dir or str(FilePath(args.config).with_suffix("")) + "-run"
    base = FilePath(args.config).resolve().parent
    ckpts = config.get("minima", {}).get("checkpoints") if isinstance(config.get("minima"), dict) else None
    if ckpts:
        config["minima"]["checkpoints"] = [str((base / f).resolve()) for f in ckpts]
        missing = [f for f in config["minima"]["checkpoints"] if not FilePath(f).is_file()]
        if missing:
            raise FileNotFoundError(f"checkpoint not found: {missing[0]}")
    run, result = _run_study(args, config)
    code = _finish(args, result, run)
    if not args.no_report:
        from topoloss.report import make_report

        files = make_report(run)
        _say(args, f"report: {files[-1]}")
    return code


def _demo(args: argparse.Namespace) -> int:
    from topoloss.report import make_report
    from topoloss.engine.study import DEFAULT_CONFIG

    _say(args, "topoloss demo: 4 minima of a fully connected net (2 hidden layers of 32) on "
               "scikit-learn's digits, all 6 pairs joined by Bézier curves")
    run, result = _run_study(args, DEFAULT_CONFIG)
    code = _finish(args, result, run)
    files = make_report(run)
    print(f"report: {files[-1]}")
    return code


def _report(args: argparse.Namespace) -> int:
    from topoloss.report import make_report
    from topoloss.engine.store import Run

    files = make_report(Run(args.run_dir), plane=not args.no_plane)
    for f in files:
        print(f)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train minima of a model on a dataset",
                       description="Train one minimum per seed and store them (and safetensors "
                                   "checkpoints) in a run directory.")
    _common(p)
    p.add_argument("--seeds", type=_seeds, default=[0, 1, 2, 3], help="seeds, e.g. 0-3 or 0,2,5 (default 0-3)")
    p.add_argument("--epochs", type=int, default=20, help="training epochs (default 20)")
    p.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd", help="optimizer (default sgd)")
    p.add_argument("--lr", type=float, default=0.05, help="learning rate (default 0.05)")
    p.add_argument("--schedule", choices=("constant", "annealing", "cyclical", "cosine"), default="constant",
                   help="learning-rate schedule (default constant)")
    p.set_defaults(func=_train)

    p = sub.add_parser("connect", help="optimize paths between minima (resumable)",
                       description="Optimize a low-loss path for each pair of minima, writing each "
                                   "path to the run directory as soon as it is finished; then the graph, "
                                   "barcode and TO-score. Re-running the same command resumes.")
    p.add_argument("checkpoints", nargs="*", metavar="CHECKPOINT",
                   help=".pt state dicts (loaded with weights_only=True) or .safetensors files; "
                        "omit to use the minima of a run made by `topoloss train`")
    p.add_argument("--model", metavar="SPEC", help="model spec (see `topoloss train --help`)")
    p.add_argument("--data", metavar="SPEC", help="dataset spec (see `topoloss train --help`)")
    p.add_argument("--device", default="cpu", help="torch device (default cpu)")
    p.add_argument("--batch-size", type=int, default=128, help="mini-batch size (default 128)")
    _common(p, model=False)
    _path_options(p)
    p.add_argument("--json", action="store_true", help="print the barcode as JSON")
    p.set_defaults(func=_connect)

    p = sub.add_parser("run", help="the whole pipeline from one config file (resumable)",
                       description="Run minima -> paths -> barcode -> report from a TOML/YAML/JSON "
                                   "config (see topoloss.engine.study for the keys).")
    p.add_argument("config", metavar="CONFIG", help="config file (.toml, .yaml, .json)")
    p.add_argument("--run", metavar="RUN_DIR", default=None,
                   help="run directory (default: the config's 'run' key, else CONFIG-run)")
    p.add_argument("--new", action="store_true", help="move an existing run aside and start afresh")
    p.add_argument("--no-report", action="store_true", help="skip the figures and summary")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or messages")
    p.add_argument("--json", action="store_true", help="print the barcode as JSON")
    p.set_defaults(func=_run)

    p = sub.add_parser("demo", help="a complete small study on the offline default (digits)",
                       description="Train 4 minima of a small net on scikit-learn's digits, connect "
                                   "all pairs, compute the barcode and TO-score, and write a report. "
                                   "About 10 seconds on two CPU cores; resumable.")
    p.add_argument("--run", metavar="RUN_DIR", default=DEMO_DIR, help=f"run directory (default {DEMO_DIR})")
    p.add_argument("--new", action="store_true", help="move an existing demo run aside and start afresh")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or messages")
    p.set_defaults(func=_demo)

    p = sub.add_parser("report", help="figures and a one-page summary of a run",
                       description="Draw every figure of a run (barcode, persistence diagram, "
                                   "disconnectivity graph, loss profiles, plane through three minima) "
                                   "and write RUN_DIR/report/summary.md and summary.html.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--no-plane", action="store_true", help="skip the (slower) plane through three minima")
    p.set_defaults(func=_report)

