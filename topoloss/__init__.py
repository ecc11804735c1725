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

from topoloss.barcode import Bar, Barcode, loss_barcode
from topoloss.graph import LandscapeGraph
from topoloss.score import ideal_diagram, to_score

__version__ = "0.1.0"

#: Public names loaded on first access (they import torch).
_LAZY: dict[str, str] = {
    "Landscape": "topoloss.landscape",
    "AnalyticLandscape": "topoloss.analytic.landscape",
    "Bezier": "topoloss.curves",
    "PolyChain": "topoloss.curves",
    "Chain": "topoloss.curves",
    "Curve": "topoloss.curves",
    "curve_from_dict": "topoloss.curves",
    "evaluate_curve": "topoloss.paths",
    "select_pairs": "topoloss.minima",
    "register_pairs": "topoloss.minima",
    "PAIR_STRATEGIES": "topoloss.minima",
    "Path": "topoloss.paths",
    "connect": "topoloss.path_optimization",
    "Minima": "topoloss.minima",
    "find_minima": "topoloss.minima",
    "Analysis": "topoloss.analysis",
    "analyze": "topoloss.analysis",
    "ModelLandscape": "topoloss.model_landscape",
    "TrainedMinima": "topoloss.training",
    "train_minima": "topoloss.training",
    "load_minima": "topoloss.training",
    "save_minimum": "topoloss.training",
    "save_minima": "topoloss.training",
    "learning_rate": "topoloss.training",
    "Run": "topoloss.run",
    "run_study": "topoloss.study",
    "make_report": "topoloss.report",
}
_SUBPACKAGES = ("analytic", "data", "models", "plot")

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
