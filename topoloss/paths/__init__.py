"""Paths between minima: curve families, their optimization and dense evaluation."""

from topoloss.paths.curves import Bezier, Chain, Curve, PolyChain, curve_from_dict
from topoloss.paths.optimize import connect
from topoloss.paths.record import Path, evaluate_curve, evaluate_curves

__all__ = ["Bezier", "Chain", "Curve", "Path", "PolyChain", "connect", "curve_from_dict",
           "evaluate_curve", "evaluate_curves"]
