"""Paths between minima: curve families (:mod:`~topoloss.paths.curves`), their
optimization (:mod:`~topoloss.paths.optimize`, options in :mod:`~topoloss.paths.options`),
the barrier evaluation (:mod:`~topoloss.paths.evaluate`, :mod:`~topoloss.paths.screen`,
the straight segment's :mod:`~topoloss.paths.straight`) and the path record
(:mod:`~topoloss.paths.record`)."""

from topoloss.paths.curves import (
    CURVES,
    Bezier,
    Chain,
    Curve,
    PolyChain,
    curve_from_dict,
    make_curve,
    register_curve,
)
from topoloss.paths.evaluate import evaluate_curve, evaluate_curves
from topoloss.paths.record import PathRecord

__all__ = ["CURVES", "Bezier", "Chain", "Curve", "PathRecord", "PolyChain", "curve_from_dict", "evaluate_curve",
           "evaluate_curves", "make_curve", "register_curve"]
