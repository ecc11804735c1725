"""topoloss: the topology of neural-network loss landscapes.

Minima and the low-loss paths between them form a weighted graph; its 0-dimensional
persistence is the *loss barcode*, and the bottleneck distance from that barcode to the
ideal one-bar barcode is the *TO-score*.

The graph -> barcode -> score part (:class:`LandscapeGraph`, :func:`loss_barcode`,
:func:`to_score`) does not import torch; everything else is loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from topoloss.topology.barcode import Bar, Barcode
from topoloss.topology.graph import LandscapeGraph
from topoloss.topology.persistence import loss_barcode
from topoloss.topology.score import ideal_diagram, to_score

__version__ = "0.1.0"

#: Public names loaded on first access (they import torch).
_LAZY: dict[str, str] = {
    "Landscape": "topoloss.landscapes.base",
    "AnalyticLandscape": "topoloss.analytic.landscape",
    "Bezier": "topoloss.paths.curves",
    "PolyChain": "topoloss.paths.curves",
    "Chain": "topoloss.paths.curves",
    "Curve": "topoloss.paths.curves",
    "curve_from_dict": "topoloss.paths.curves",
    "evaluate_curve": "topoloss.paths.record",
    "select_pairs": "topoloss.engine.planners",
    "register_pairs": "topoloss.engine.planners",
    "register_planner": "topoloss.engine.planners",
    "register_executor": "topoloss.engine.executors",
    "register_curve": "topoloss.paths.curves",
    "register_landscape": "topoloss.analytic",
    "register_dataset": "topoloss.data",
    "register_model": "topoloss.models",
    "make_curve": "topoloss.paths.curves",
    "StudyConfig": "topoloss.config",
    "MinimaConfig": "topoloss.config",
    "PathConfig": "topoloss.config",
    "EvaluationConfig": "topoloss.config",
    "ExecutionConfig": "topoloss.config",
    "run_pipeline": "topoloss.engine.pipeline",
    "run_study": "topoloss.engine.pipeline",
    "PathRecord": "topoloss.paths.record",
    "connect": "topoloss.engine.pipeline",
    "Minima": "topoloss.minima.find",
    "find_minima": "topoloss.minima.find",
    "Analysis": "topoloss.engine.analysis",
    "analyze": "topoloss.engine.pipeline",
    "ModelLandscape": "topoloss.landscapes.model",
    "TrainedMinima": "topoloss.minima.train",
    "train_minima": "topoloss.minima.train",
    "load_minima": "topoloss.minima.train",
    "save_minimum": "topoloss.minima.train",
    "save_checkpoints": "topoloss.minima.train",
    "learning_rate": "topoloss.minima.train",
    "Run": "topoloss.engine.store",
    "make_report": "topoloss.report",
}
_SUBPACKAGES = ("analytic", "data", "models", "plot", "errors", "config", "tda", "stats")

__all__ = [
    "Bar",
    "Barcode",
    "LandscapeGraph",
    "ideal_diagram",
    "loss_barcode",
    "to_score",
    "__version__",
    *_LAZY,
    *_SUBPACKAGES,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"topoloss.{name}")
    raise AttributeError(f"module 'topoloss' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
