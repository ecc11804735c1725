"""Analytic landscapes: closed-form functions on a box and their exact ground truth.

- :class:`AnalyticLandscape` / :func:`from_function` wrap a torch function of a few
  variables with its box;
- built-ins: :func:`polynomial`, the :func:`sextic` family (SPEC §8), :func:`himmelblau`,
  :func:`six_hump_camel`, :func:`rastrigin`, :func:`styblinski_tang`,
  :func:`holder_table`, :func:`gaussian_wells`; by name or spec
  (``"rastrigin:dim=3"``) with :func:`get_landscape`; :func:`register_landscape`
  adds your own to :data:`LANDSCAPES` (``builtin`` and ``BUILTINS`` are deprecated
  aliases of :func:`get_landscape` and of the registry);
- exact answers on a grid (SPEC §7): :func:`exact_barcode` (GUDHI cubical
  persistence), :func:`exact_minima`, :func:`exact_barriers`;
- comparing a loss barcode with the exact one, with one rule for grid-artifact bars
  (:mod:`topoloss.analytic.compare`): :func:`compare_to_exact`, :func:`drop_short_bars`,
  :func:`artifact_length`, :func:`value_range`;
- :func:`escape_learning_rate`: the smallest learning rate at which gradient descent
  leaves a local minimum (SPEC §8).
"""

from typing import Any

from topoloss.analytic._registry import (
    LANDSCAPES,
    LandscapeEntry,
    available_landscapes,
    get_landscape,
    register_landscape,
)
from topoloss.analytic.compare import (
    ARTIFACT_FRACTION,
    ExactComparison,
    artifact_length,
    compare_to_exact,
    drop_short_bars,
    value_range,
)
from topoloss.analytic.escape import escape_learning_rate, escape_steps
from topoloss.analytic.exact import (
    GridMinima,
    default_resolution,
    exact_barcode,
    exact_barriers,
    exact_minima,
)
from topoloss.analytic.functions import (
    SEXTIC_TAYLOR,
    CriticalPoints,
    PolynomialLandscape,
    Sextic,
    builtin,
    deprecated_builtins,
    gaussian_wells,
    himmelblau,
    holder_table,
    polynomial,
    rastrigin,
    sextic,
    six_hump_camel,
    styblinski_tang,
)
from topoloss.analytic.landscape import AnalyticLandscape, from_function


def __getattr__(name: str) -> Any:
    """``BUILTINS``, deprecated (a read-only view of the built-in entries of :data:`LANDSCAPES`)."""
    if name == "BUILTINS":
        return deprecated_builtins(__name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "ARTIFACT_FRACTION",
    "LANDSCAPES",
    "SEXTIC_TAYLOR",
    "AnalyticLandscape",
    "CriticalPoints",
    "ExactComparison",
    "GridMinima",
    "LandscapeEntry",
    "PolynomialLandscape",
    "Sextic",
    "artifact_length",
    "available_landscapes",
    "builtin",
    "compare_to_exact",
    "default_resolution",
    "drop_short_bars",
    "escape_learning_rate",
    "escape_steps",
    "exact_barcode",
    "exact_barriers",
    "exact_minima",
    "from_function",
    "gaussian_wells",
    "get_landscape",
    "himmelblau",
    "holder_table",
    "polynomial",
    "rastrigin",
    "register_landscape",
    "sextic",
    "six_hump_camel",
    "styblinski_tang",
    "value_range",
]
