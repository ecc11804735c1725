"""A whole study on a neural network, driven through a resumable run directory.

``config -> landscape -> minima -> paths -> graph -> barcode``, where every finished
minimum set and path is written to the :class:`~topoloss.engine.store.Run` the moment it is
done, and a re-run reuses them. The CLI commands ``train``, ``connect``, ``run`` and
``demo`` are thin layers over :func:`run_study`.

Config
------
A plain mapping (from TOML/YAML or the command line)::

    model = "fcn:depth=2,width=32"     # zoo spec, or "pkg.module:factory"
    data = "digits"                     # dataset spec, or "pkg.module:factory"
    device = "cpu"
    batch_size = 128
    [minima]                            # either train ...
    seeds = [0, 1, 2, 3]
    epochs = 20
    optimizer = "sgd"                   # or "adam"
    lr = 0.05
    schedule = "constant"               # "annealing", "cyclical", "cosine"
    # checkpoints = ["a.pt", "b.safetensors"]   # ... or load
    [paths]
    curve = "bezier"                    # "polychain", "chain"
    bends = 1
    epochs = 40
    lr = 0.01                           # optional
    pairs = "all"                       # "mst", "nearest", or [[u, v], ...]
    seed = 0
"""

from __future__ import annotations

import copy
import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from topoloss.engine.pipeline import build_graph
from topoloss.topology.barcode import Barcode, loss_barcode
from topoloss.paths.optimize import connect
from topoloss.paths.curves import Bezier, Chain, Curve, PolyChain
from topoloss.topology.graph import LandscapeGraph
from topoloss.minima.find import Minima, select_pairs
from topoloss.paths.record import Path
from topoloss.engine.store import CorruptResult, Run
from topoloss.topology.score import to_score

__all__ = [
    "DEFAULT_CONFIG",
    "StudyResult",
    "make_curve",
    "make_landscape",
    "normalize_config",
    "prepare_minima",
    "run_study",
]

DEFAULT_CONFIG: dict[str, Any] = {
    "model": "fcn:depth=2,width=32",
    "data": "digits",
    "device": "cpu",
    "batch_size": 128,
    "minima": {
        "seeds": [0, 1, 2, 3],
        "epochs": 20,
        "optimizer": "sgd",
        "lr": 0.05,
        "momentum": 0.9,
        "weight_decay": 0.0,
        "schedule": "constant",
    },
    "paths": {"curve": "bezier", "bends": 1, "epochs": 40, "lr": None, "pairs": "all", "seed": 0},
}
_CURVES: dict[str, type[Curve]] = {"bezier": Bezier, "polychain": PolyChain, "chain": Chain}
_BENDED: dict[str, type[Bezier] | type[PolyChain]] = {"bezier": Bezier, "polychain": PolyChain}


@dataclass(frozen=True)
class StudyResult:
    """What :func:`run_study` computed (or reused).

    Attributes
    ----------
    minima : Minima
    paths : list of Path
    graph : LandscapeGraph
    barcode : Barcode
    to_score : float
    reused_paths, computed_paths : int
        How many paths were read back from the run directory / optimized now.
    """

    minima: Minima
    paths: list[Path]
    graph: LandscapeGraph
    barcode: Barcode
    to_score: float
    reused_paths: int
    computed_paths: int


def normalize_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Fill defaults and validate a study config.

    Raises
    ------
    ValueError
        An unknown key (named), or a value of the wrong kind.
    """
    if not isinstance(config, Mapping):
        raise ValueError(f"config must be a mapping, got {type(config).__name__}")
    out = copy.deepcopy(DEFAULT_CONFIG)
    for key, value in config.items():
        if key not in out:
            raise ValueError(f"unknown config key {key!r}; known keys: {sorted(out)}")
        if isinstance(out[key], dict):
            if not isinstance(value, Mapping):
                raise ValueError(f"config section [{key}] must be a table, got {value!r}")
            known = set(out[key]) | ({"checkpoints", "cycles", "lr_end"} if key == "minima" else set())
            for sub in value:
                if sub not in known:
                    raise ValueError(f"unknown key {sub!r} in [{key}]; known keys: {sorted(known)}")
            out[key].update(value)
        else:
            out[key] = value
    m = out["minima"]
    if "checkpoints" in m:
        if not isinstance(m["checkpoints"], (list, tuple)) or not m["checkpoints"]:
            raise ValueError("[minima] checkpoints must be a non-empty list of files")
        m["checkpoints"] = [str(f) for f in m["checkpoints"]]
        for key in ("seeds", "epochs", "optimizer", "lr", "momentum", "weight_decay", "schedule"):
            m.pop(key, None)
    else:
        m["seeds"] = [int(s) for s in m["seeds"]]
        if len(set(m["seeds"])) != len(m["seeds"]) or len(m["seeds"]) < 1:
            raise ValueError(f"[minima] seeds must be distinct and non-empty, got {m['seeds']}")
    _check_number(out, "batch_size", integer=True, low=1)
    p = out["paths"]
    checks: tuple[tuple[dict[str, Any], str, str, bool, float | None, bool], ...] = (
        # table, section, key, integer, lowest value, strictly above it
        (m, "minima", "epochs", True, 1, False), (m, "minima", "lr", False, 0, True),
        (m, "minima", "momentum", False, 0, False), (m, "minima", "weight_decay", False, 0, False),
        (m, "minima", "cycles", True, 1, False), (m, "minima", "lr_end", False, 0, True),
        (p, "paths", "epochs", True, 1, False), (p, "paths", "bends", True, 0, False),
        (p, "paths", "lr", False, 0, True), (p, "paths", "seed", True, None, False),
    )
    for table, section, key, integer, low, strict in checks:
        _check_number(table, key, integer=integer, low=low, strict=strict, section=section)
    if str(p["curve"]).lower() not in _CURVES:
        raise ValueError(f"unknown curve {p['curve']!r}; choose one of {sorted(_CURVES)}")
    for key in ("model", "data", "device"):
        if not isinstance(out[key], str) or not out[key]:
            raise ValueError(f"config key {key!r} must be a non-empty string, got {out[key]!r}")
    return out


def _check_number(table: Mapping[str, Any], key: str, *, integer: bool, low: float | None,
                  strict: bool = False, section: str = "") -> None:
    """Raise ``ValueError`` naming ``[section] key`` unless it is absent, None or a number
    ``>= low`` (``> low`` if ``strict``)."""
    value = table.get(key)
    if value is None:
        return
    where = f"[{section}] {key}" if section else key
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        raise ValueError(f"{where}={value!r}; expected {'an integer' if integer else 'a number'}")
    if low is not None and not (value > low if strict else value >= low):
        raise ValueError(f"{where}={value!r}; expected a value {'>' if strict else '>='} {low}")


def make_curve(name: str, bends: int) -> Curve:
    """A curve from its CLI/config name: ``bezier``, ``polychain`` or ``chain``."""
    key = str(name).lower()
    if key not in _CURVES:
        raise ValueError(f"unknown curve {name!r}; choose one of {sorted(_CURVES)}")
    if key == "chain":
        return Chain(points=max(int(bends), 1))
    return _BENDED[key](bends=int(bends))


def _import_object(spec: str, what: str) -> Any:
    module, _, attr = spec.partition(":")
    try:
        obj = importlib.import_module(module)
    except ImportError as exc:
        raise ValueError(f"cannot import {what} module {module!r} from {spec!r}: {exc}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"{what} {spec!r}: module {module!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def _is_import_spec(spec: str) -> bool:
    head, sep, _ = spec.partition(":")
    return bool(sep) and "." in head and "/" not in head and "\\" not in head


def _load_data(spec: str) -> tuple[Any, Any]:
    from topoloss.data import load_dataset

    if _is_import_spec(spec):
        if "" not in sys.path:
            sys.path.insert(0, "")
        made = _import_object(spec, "data")
        made = made() if callable(made) else made
        if isinstance(made, tuple) and len(made) == 2 and not hasattr(made[0], "shape"):
            return made
        return made, None
    return load_dataset(spec)


def _model_factory(spec: str, train: Any) -> Callable[[], nn.Module]:
    if _is_import_spec(spec):
        if "" not in sys.path:
            sys.path.insert(0, "")
        factory = _import_object(spec, "model")
        if not callable(factory):
            raise ValueError(f"model {spec!r} is not callable")
        return factory
    from topoloss.data import dataset_info
    from topoloss.models import get_model

    info = getattr(train, "info", None) or dataset_info(train)
    get_model(spec, input_shape=info.input_shape, num_classes=info.num_classes)  # validate now
    return lambda: get_model(spec, input_shape=info.input_shape, num_classes=info.num_classes)


def make_landscape(config: Mapping[str, Any]) -> Any:
    """The :class:`~topoloss.ModelLandscape` of a (normalized) study config."""
    from topoloss.landscapes.model import ModelLandscape

    train, test = _load_data(config["data"])
    factory = _model_factory(config["model"], train)
    return ModelLandscape(
        factory, train, test_data=test, batch_size=int(config["batch_size"]), device=config["device"]
    )


def _concat(parts: Sequence[Minima]) -> Minima:
    """One record of several (all of the same type) in the given order."""
    from topoloss.minima.train import TrainedMinima

    fields = (
        torch.cat([p.points for p in parts]),
        np.concatenate([p.losses for p in parts]),
        tuple(n for p in parts for n in p.names),
        np.concatenate([p.n_steps for p in parts]),
        np.concatenate([p.converged for p in parts]),
        np.concatenate([p.on_boundary for p in parts]),
    )
    trained = [p for p in parts if isinstance(p, TrainedMinima)]
    if len(trained) == len(parts):
        return TrainedMinima(*fields, tuple(m for p in trained for m in p.metrics))
    return Minima(*fields)


def prepare_minima(run: Run, landscape: Any, *, progress: bool = True) -> Minima:
    """The minima of the study in ``run``: stored ones, loaded checkpoints, or trained.

    Training saves each minimum the moment it is finished, so an interrupted run
    trains only the seeds that are missing when it is resumed. Loaded checkpoints
    are recorded with their SHA-256 and checked on every later use.
    """
    from topoloss.minima.train import load_minima, train_minima

    spec = normalize_config(run.config)["minima"]
    stored = run.load_minima()
    if "checkpoints" in spec:
        if stored is not None:
            run.check_sources(spec["checkpoints"])
            return stored
        minima = load_minima(landscape, spec["checkpoints"])
        run.save_minima(minima, sources=spec["checkpoints"])
        return minima
    if stored is not None:
        return stored
    names = [f"seed{s}" for s in spec["seeds"]]
    done = run.minimum_parts()
    todo = [s for s, name in zip(spec["seeds"], names) if name not in done]
    if todo:
        options = {k: v for k, v in spec.items() if k != "seeds" and v is not None}
        train_minima(landscape, seeds=todo, progress=progress, on_minimum=run.save_minimum_part, **options)
        done = run.minimum_parts()
    missing = [n for n in names if n not in done]
    if missing:
        raise CorruptResult(f"minima {missing} could not be read back from {run.dir / 'minima'}")
    combined = _concat([done[n] for n in names])
    run.save_minima(combined)
    return combined


def _joins(path: Path, minima: Minima) -> bool:
    """Whether a stored path's endpoints are exactly two of the minima, by name and point."""
    names = list(minima.names)
    if path.u not in names or path.v not in names:
        return False
    a, b = minima.points[names.index(path.u)], minima.points[names.index(path.v)]
    return torch.equal(path.start.to(a), a) and torch.equal(path.end.to(b), b)


def run_study(
    run: Run,
    *,
    landscape: Any | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> StudyResult:
    """Run (or resume) the study stored in ``run``: minima, paths, graph, barcode.

    Finished minima and paths in the run directory are reused, never recomputed or
    rewritten; a path file that cannot be read back is reported through ``log`` by
    name and recomputed. Each newly finished path is written immediately.

    Parameters
    ----------
    run : Run
        The run directory; its ``config`` says what to compute.
    landscape : Landscape, optional
        Use this landscape instead of building one from the config.
    progress : bool
        Show progress bars.
    log : callable, optional
        Receives one-line messages (e.g. ``print``).
    """
    say = log or (lambda msg: None)
    config = normalize_config(run.config)
    landscape = landscape if landscape is not None else make_landscape(config)
    minima = prepare_minima(run, landscape, progress=progress)
    pconf = config["paths"]
    pairs = pconf["pairs"]
    wanted = select_pairs(minima, pairs if isinstance(pairs, str) else [tuple(p) for p in pairs])
    finished, corrupt = run.finished_paths()
    for file in corrupt:
        say(f"corrupt path file {file.name}: recomputing it")
    done = {}
    for p in finished:
        if not _joins(p, minima):
            say(f"path file {run.path_file(p.u, p.v).name} does not join this run's minima: recomputing it")
            continue
        done[frozenset((p.u, p.v))] = p
    todo = [(i, j) for i, j in wanted if frozenset((minima.names[i], minima.names[j])) not in done]
    if done:
        say(f"reusing {len(wanted) - len(todo)} finished path(s) from {run.dir}")
    new_paths: list[Path] = []
    if todo:
        new_paths = connect(
            landscape,
            minima,
            curve=make_curve(pconf["curve"], pconf["bends"]),
            pairs=todo,
            epochs=pconf["epochs"],
            lr=pconf["lr"],
            seed=int(pconf["seed"]),
            progress=progress,
            on_path=run.save_path,
        )
    by_pair = {**done, **{frozenset((p.u, p.v)): p for p in new_paths}}
    paths = [by_pair[frozenset((minima.names[i], minima.names[j]))] for i, j in wanted]
    graph = build_graph(minima, paths)
    barcode = loss_barcode(graph)
    score = to_score(barcode)
    run.save_graph(graph)
    run.save_barcode(barcode)
    return StudyResult(minima, paths, graph, barcode, score, len(wanted) - len(todo), len(todo))

