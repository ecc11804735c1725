"""Command-line flags generated from :mod:`topoloss.config`, and the helpers the study
commands share (config files, run directories, the result lines).

Every flag of a configuration field is made here from the field itself: its name
(``t_batch`` -> ``--t-batch``), its type, its choices, its help text and its default
(shown in ``--help``, never copied). A flag the user does not give stays out of the
namespace, so the configuration keeps its own default.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from topoloss.config import _SECTIONS, StudyConfig
from topoloss.errors import InputError

__all__ = ["add_config_flags", "check_user_code", "config_from_args", "finish", "open_run", "read_config_file",
           "registered_names", "say"]

_PREFIX = "cfg__"


#: The registry a config field's ``metadata["registry"]`` key names: module and attribute (a
#: ``Registry``, or a function listing names), imported when asked.
_REGISTRIES: dict[str, tuple[str, str]] = {
    "curves": ("topoloss.paths.curves", "CURVES"),
    "pairs": ("topoloss.engine.planners", "PLANNERS"),
    "executors": ("topoloss.engine.executors", "EXECUTORS"),
    "landscapes": ("topoloss.analytic", "available_landscapes"),
    "models": ("topoloss.models", "available_models"),
    "datasets": ("topoloss.data", "available_datasets"),
}


def registered_names(key: str) -> tuple[str, ...]:
    """The names registered under a config field's ``metadata["registry"]`` key.

    The configuration (a lower layer) names its registries by key only; this layer
    maps each key to its registry (:data:`_REGISTRIES`) for the help texts and the docs.

    Examples
    --------
    >>> "bezier" in registered_names("curves")
    True
    """
    module, attr = _REGISTRIES[key]
    found = getattr(importlib.import_module(module), attr)
    return tuple(found() if callable(found) else found.names())


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0-3"`` -> (0, 1, 2, 3); ``"1,5,7"`` -> (1, 5, 7)."""
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
    return tuple(out)


def parse_pairs(text: str) -> Any:
    """A pair strategy (``adaptive``, ``adaptive:budget=2``), or ``a-b,a-c`` (or ``a:b``)
    pairs of minima names."""
    from topoloss.engine.planners import PLANNERS

    if text.split(":", 1)[0].strip().lower() in PLANNERS or ("-" not in text and ":" not in text):
        return text
    return [tuple(p.split("-", 1) if "-" in p else p.split(":", 1)) for p in text.split(",")]


def _parse_curve(text: str) -> Any:
    from topoloss.paths.curves import make_curve

    try:
        return make_curve(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _optional(kind: type) -> Any:
    def parse(text: str) -> Any:
        if text.lower() in ("auto", "none"):
            return None
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected "
                                             f"{'an integer' if kind is int else 'a number'} or auto") from None
    return parse


_PARSERS: dict[str, Any] = {
    "int": int, "float": float, "str": str, "int | None": _optional(int), "float | None": _optional(float),
    "str | None": str, "tuple[int, ...]": parse_seeds,
    "tuple[str, ...]": lambda text: tuple(text.split(",")), "Curve": _parse_curve, "Any": parse_pairs,
}


def _describe(value: Any) -> str:
    from topoloss.paths.curves import Curve

    if value is None:
        return "automatic"
    if isinstance(value, Curve):
        return value.spec()
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return ",".join(map(str, value))
    return str(value)


def add_config_flags(
    parser: argparse.ArgumentParser, section: str, *, only: tuple[str, ...] | None = None,
    exclude: tuple[str, ...] = (), required: tuple[str, ...] = (), title: str | None = None,
) -> None:
    """Add one flag per field of a config section (``""`` for the top level)."""
    cls = StudyConfig if section == "" else _SECTIONS[section]
    default = cls()
    group = parser.add_argument_group(title or (f"[{section}] options" if section else "study options"))
    for f in fields(cls):
        if f.name in _SECTIONS or f.name in exclude or (only is not None and f.name not in only):
            continue
        flag = f.metadata.get("flag", "--" + f.name.replace("_", "-"))
        value = getattr(default, f.name)
        help_text = f.metadata.get("help", "")
        if "registry" in f.metadata:
            help_text += f"; registered: {', '.join(registered_names(f.metadata['registry']))}"
        dest = f"{_PREFIX}{section}__{f.name}"
        if f.type == "bool":
            group.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                               help=f"{help_text} (default: {'yes' if value else 'no'})")
            continue
        group.add_argument(
            flag, dest=dest, type=_PARSERS.get(str(f.type), str), default=argparse.SUPPRESS,
            choices=f.metadata.get("choices"), required=f.name in required,
            metavar=f.name.upper() if "choices" not in f.metadata else None,
            help=help_text + ("" if f.name in required or "(default" in help_text
                              else f" (default: {_describe(value)})"),
        )


def config_from_args(args: argparse.Namespace, base: StudyConfig | None = None) -> StudyConfig:
    """``base`` (default :class:`StudyConfig()`) with the flags the user gave."""
    config = base if base is not None else StudyConfig()
    top: dict[str, Any] = {}
    parts: dict[str, dict[str, Any]] = {}
    for dest, value in vars(args).items():
        if not dest.startswith(_PREFIX):
            continue
        section, name = dest[len(_PREFIX):].split("__", 1)
        (parts.setdefault(section, {}) if section else top)[name] = value
    for section, changes in parts.items():
        top[section] = getattr(config, section).replace(**changes)
    return config.replace(**top) if top else config


def read_config_file(path: str) -> dict[str, Any]:
    """The mapping in a TOML, YAML or JSON config file."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"config file not found: {p}")
    text = p.read_text()
    suffix = p.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml", ".json"):
        raise InputError(f"unknown config format {p.suffix!r} of {p}: use .toml, .yaml or .json")
    try:
        if suffix == ".toml":
            import tomllib

            data: Any = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            try:
                import yaml
            except ImportError:
                raise InputError("reading YAML needs PyYAML: pip install 'topoloss[yaml]' (or use TOML)") from None
            data = yaml.safe_load(text)
    except InputError:
        raise
    except Exception as exc:  # tomllib / yaml / json errors all mean a malformed file
        raise InputError(f"malformed config {p}: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"malformed config {p}: the top level is not a table of keys")
    return data


def say(args: argparse.Namespace, msg: str) -> None:
    """A progress message on stderr unless ``--quiet``."""
    if not getattr(args, "quiet", False):
        print(msg, file=sys.stderr)


#: Keys a run made by ``topoloss train`` stores: the path keys are added by ``connect``.
TRAIN_KEYS = ("landscape", "model", "data", "device", "batch_size", "minima")
#: Keys a study stores when it opens its run; the rest once its pairs are known to be valid.
FIRST_KEYS = (*TRAIN_KEYS, "seed")


def check_user_code(args: argparse.Namespace, config: StudyConfig, source: str) -> None:
    """Refuse to import code that ``config`` names unless the user gave the same spec on the
    command line (``--model``/``--data``) or ``--trust``.

    ``config`` came from ``source`` (a run directory or a config file), which someone else
    may have written: importing a module runs it.
    """
    from topoloss.engine.factories import user_code

    if getattr(args, "trust", False):
        return
    given = vars(args)
    untrusted = [spec for spec in user_code(config)
                 if given.get(f"{_PREFIX}__{spec.split('=', 1)[0]}") != spec.split("=", 1)[1]]
    if untrusted:
        flags = " ".join(f"--{spec.replace('=', ' ', 1)}" for spec in untrusted)
        raise InputError(f"{source} names code to import ({', '.join(untrusted)}), and importing runs it: "
                         f"give the same spec on the command line ({flags}), or --trust if you trust {source}")


def open_run(args: argparse.Namespace, config: StudyConfig, *, keys: tuple[str, ...] | None = None) -> Any:
    """Validate ``config`` (its landscape, pair strategy and executor), then open (or create)
    the run directory.

    Returns ``(run, landscape)``. Bad specs fail before ``--run`` is touched. With
    ``keys``, only those keys are stored; otherwise the path options are stored once the
    engine has checked the pairs against the minima (:meth:`Run.commit`).
    """
    from topoloss.engine.executors import make_executor
    from topoloss.engine.factories import make_landscape
    from topoloss.engine.planners import make_planner
    from topoloss.engine.store import Run

    landscape = make_landscape(config)
    make_planner(config.paths.pairs)
    make_executor(config.execution.executor)
    stored = config.to_dict()
    if keys is not None:
        return Run(args.run, {k: v for k, v in stored.items() if k in keys}, new=args.new), landscape
    return Run(args.run, stored, new=args.new, keys=FIRST_KEYS), landscape


def run_study(args: argparse.Namespace, config: StudyConfig) -> tuple[Any, Any]:
    """The engine on a run directory: ``(run, analysis)``."""
    from topoloss.engine.pipeline import run_pipeline

    run, landscape = open_run(args, config)
    result = run_pipeline(landscape, config, store=run, progress=not args.quiet, log=lambda m: say(args, m))
    return run, result


def finish(args: argparse.Namespace, result: Any, run: Any) -> int:
    """Print the barcode and TO-score (or the JSON summary) and where the results are."""
    from topoloss.cli import emit_json
    from topoloss.engine.bar_checks import summarize_checks
    from topoloss.topology.score import barcode_summary

    checks = result.bar_checks()
    if getattr(args, "json", None):  # with each bar's check: status "estimated" is never "certified"
        emit_json("-", {**barcode_summary(result.barcode), "bar_checks": [c.to_dict() for c in checks]})
    else:
        if not args.quiet:
            print(result.barcode)
        print(f"TO-score (bottleneck): {result.to_score:.6g}")  # the result line, also with -q
    from topoloss.paths.fallback import fallback_summary

    line = fallback_summary(result.paths, where=str(run.layout.plan))
    if line is not None:
        say(args, line)
    if any(not c.certified or c.fallback for c in checks):
        say(args, summarize_checks(checks))
    say(args, f"paths: {result.computed_paths} computed, {result.reused_paths} reused; results in {run.dir}")
    if result.stopped is not None:
        from topoloss.engine.progress import describe_stop

        say(args, describe_stop(result.stopped, len(result.paths), StudyConfig.from_dict(run.config).execution))
    return 0


def run_flags(p: argparse.ArgumentParser, *, required: bool = True, default: str | None = None) -> None:
    """``--run``, ``--new`` and ``--quiet``."""
    p.add_argument("--run", metavar="RUN_DIR", required=required, default=default,
                   help="run directory (created; resumed if it exists)"
                   + (f" (default {default})" if default else ""))
    p.add_argument("--new", action="store_true", help="move an existing run in RUN_DIR aside and start afresh")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or messages")


def trust_flag(p: argparse.ArgumentParser, source: str) -> None:
    """``--trust``: allow importing the code that a stored or given config names."""
    p.add_argument("--trust", action="store_true",
                   help=f"import the model/data code that {source} names (module:attr, file.py:attr) "
                        "without repeating it as --model/--data")


def _box(text: str) -> list[tuple[float, float]]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if not values or len(values) % 2:
        raise argparse.ArgumentTypeError(f"invalid bounds {text!r}: use LOW,HIGH per variable, "
                                         "e.g. --bounds=-2,2,-3,3") from None
    return list(zip(values[::2], values[1::2]))


def _numbers(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid coefficients {text!r}: use e.g. 0,0,-1,0,1") from None


def landscape_flags(p: argparse.ArgumentParser) -> None:
    """The positional landscape spec plus ``--bounds`` and ``--coeffs`` (user landscapes)."""
    p.add_argument("name", metavar="LANDSCAPE", nargs="?",
                   help="a registered landscape (see `topoloss exact --list`), e.g. himmelblau or "
                        "rastrigin:dim=3; or your own as module:attr or path/to/file.py:attr (an "
                        "AnalyticLandscape, a function returning one, or f(points) with --bounds)")
    p.add_argument("--bounds", metavar="LOW,HIGH,...", type=_box, default=None,
                   help="the box of your function (or of --coeffs): LOW,HIGH per variable, written "
                        "with '=' when it starts with a minus, e.g. --bounds=-2,2,-3,3")
    p.add_argument("--coeffs", metavar="C0,C1,...", type=_numbers, default=None,
                   help="a polynomial in one variable, C0 + C1 x + C2 x^2 + ... (instead of LANDSCAPE)")


def landscape_from_args(args: argparse.Namespace) -> Any:
    """The analytic landscape that :func:`landscape_flags` describe."""
    from topoloss.engine.factories import analytic_landscape

    return analytic_landscape(args.name, bounds=args.bounds, coeffs=args.coeffs)
