"""The built-in analytic landscapes by name: their registration, and the public names.

The factories live in :mod:`topoloss.analytic.polynomials` (one variable: polynomials and
the sextic family) and :mod:`topoloss.analytic.benchmark_functions` (two or more
variables: the classic test functions); this module registers them in
:data:`~topoloss.analytic.LANDSCAPES` (``polynomial``, ``sextic``, ``himmelblau``,
``six-hump-camel``, ``rastrigin``, ``styblinski-tang``, ``styblinski-tang-3d``,
``holder-table``, ``gaussian-wells``), so ``get_landscape("rastrigin:dim=3")`` builds one
from a spec, and it re-exports them, so they stay importable from here. ``BUILTINS``
and ``builtin`` are deprecated: use the registry and
:func:`~topoloss.analytic.get_landscape`.

Every factory returns an :class:`~topoloss.analytic.AnalyticLandscape` with a default
box chosen so that the exact ground truth (:func:`~topoloss.analytic.exact_barcode`)
has a manageable number of minima and no minimum on the box's boundary. All functions
are written with torch operations: they take points of shape ``(..., d)``, return
``(...)`` and are differentiable.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from functools import partial
from types import MappingProxyType
from typing import Any

from topoloss.analytic._registry import LANDSCAPES, get_landscape, register_landscape
from topoloss.analytic.benchmark_functions import (
    gaussian_wells,
    himmelblau,
    holder_table,
    rastrigin,
    six_hump_camel,
    styblinski_tang,
)
from topoloss.analytic.landscape import AnalyticLandscape
from topoloss.analytic.polynomials import (
    SEXTIC_TAYLOR,
    CriticalPoints,
    PolynomialLandscape,
    Sextic,
    polynomial,
    sextic,
)

__all__ = [
    "SEXTIC_TAYLOR",
    "CriticalPoints",
    "PolynomialLandscape",
    "Sextic",
    "builtin",
    "deprecated_builtins",
    "gaussian_wells",
    "himmelblau",
    "holder_table",
    "polynomial",
    "rastrigin",
    "sextic",
    "six_hump_camel",
    "styblinski_tang",
]

#: Factories of the built-in landscapes, by name, as they are registered.
_BUILTINS: dict[str, Callable[..., AnalyticLandscape]] = {
    "polynomial": polynomial,
    "sextic": sextic,
    "himmelblau": himmelblau,
    "six-hump-camel": six_hump_camel,
    "rastrigin": rastrigin,
    "styblinski-tang": styblinski_tang,
    "styblinski-tang-3d": partial(styblinski_tang, 3),
    "holder-table": holder_table,
    "gaussian-wells": gaussian_wells,
}

_DESCRIPTIONS = {
    "polynomial": "A one-variable polynomial; by default a tilted double well on [-2, 2].",
    "rastrigin": "Rastrigin `10 d + sum_i (x_i**2 - 10 cos(2 pi x_i))`: `3**dim` minima "
    "near the integer points of the default box, global minimum 0 at the origin.",
    "styblinski-tang-3d": "Styblinski-Tang in three variables: 8 minima "
    "(`styblinski-tang:dim=3`).",
}

for _name, _factory in _BUILTINS.items():
    register_landscape(_name, _factory, description=_DESCRIPTIONS.get(_name))
del _name, _factory


def deprecated_builtins(module: str) -> Mapping[str, Callable[..., AnalyticLandscape]]:
    """The deprecated ``BUILTINS`` of ``module``: a read-only view of the built-in entries of
    :data:`~topoloss.analytic.LANDSCAPES`, with a ``DeprecationWarning`` naming the replacement.

    Called by the module ``__getattr__`` of ``module``, so the warning points at the line
    that read ``BUILTINS``.
    """
    warnings.warn(f"{module}.BUILTINS is deprecated; use the registry topoloss.analytic.LANDSCAPES "
                  f"(available_landscapes() for the names, LANDSCAPES.get(name).factory for a factory)",
                  DeprecationWarning, stacklevel=3)
    return MappingProxyType({name: LANDSCAPES.get(name).factory for name in _BUILTINS if name in LANDSCAPES})


def __getattr__(name: str) -> Any:
    if name == "BUILTINS":
        return deprecated_builtins(__name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def builtin(name: str) -> AnalyticLandscape:
    """Deprecated alias of :func:`~topoloss.analytic.get_landscape`: use that instead.

    Parameters
    ----------
    name : str
        A name or spec, e.g. ``"himmelblau"`` or ``"rastrigin:dim=3"``; names are
        case-insensitive and ``_`` may stand for ``-``.

    Returns
    -------
    AnalyticLandscape
        ``get_landscape(name)``.

    Raises
    ------
    InputError
        If ``name`` is unknown (the message lists the registered names) or the spec
        is malformed.

    Warns
    -----
    DeprecationWarning
        Always: ``builtin(name)`` is ``get_landscape(name)``.
    """
    warnings.warn("topoloss.analytic.builtin(name) is deprecated; use topoloss.analytic.get_landscape(name)",
                  DeprecationWarning, stacklevel=2)
    return get_landscape(name)
