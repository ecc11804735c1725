"""Built-in analytic landscapes: polynomials, the sextic family and classic test functions.

They are registered in :data:`~topoloss.analytic.LANDSCAPES` (``polynomial``, ``sextic``,
``himmelblau``, ``six-hump-camel``, ``rastrigin``, ``styblinski-tang``,
``styblinski-tang-3d``, ``holder-table``, ``gaussian-wells``), so
``get_landscape("rastrigin:dim=3")`` builds one from a spec. ``BUILTINS`` and
``builtin`` are deprecated: use the registry and :func:`~topoloss.analytic.get_landscape`.
Every factory returns an :class:`~topoloss.analytic.AnalyticLandscape` with a default
box chosen so that the exact ground truth (:func:`~topoloss.analytic.exact_barcode`)
has a manageable number of minima and no minimum on the box's boundary. All functions
are written with torch operations: they take points of shape ``(..., d)``, return
``(...)`` and are differentiable.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType
from typing import Any

import numpy as np
import torch
from numpy.polynomial import polynomial as npoly
from scipy.optimize import brentq

from topoloss.analytic._registry import LANDSCAPES, get_landscape, register_landscape
from topoloss.analytic.landscape import AnalyticLandscape, from_function
from topoloss.errors import InputError

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


# --------------------------------------------------------------------------- 1-D


@dataclass(frozen=True)
class CriticalPoints:
    """Real critical points of a one-variable polynomial, in increasing order.

    Attributes
    ----------
    points : ndarray of shape (k,)
        Roots of the derivative.
    values : ndarray of shape (k,)
        The polynomial at those points.
    kinds : tuple of {"min", "max", "flat"}
        Local minimum, local maximum, or neither (an inflection with zero slope).
    """

    points: np.ndarray
    values: np.ndarray
    kinds: tuple[str, ...]

    @property
    def minima(self) -> np.ndarray:
        """Positions of the local minima."""
        return self.points[[k == "min" for k in self.kinds]]

    @property
    def maxima(self) -> np.ndarray:
        """Positions of the local maxima."""
        return self.points[[k == "max" for k in self.kinds]]


def _horner(coeffs: Sequence[float], x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for c in reversed(coeffs):
        out = out * x + c
    return out


class PolynomialLandscape(AnalyticLandscape):
    """A polynomial in one variable, ``p(x) = sum_k coeffs[k] * x**k``, on an interval.

    Parameters
    ----------
    coeffs : sequence of float
        Coefficients in increasing degree (NumPy's ``numpy.polynomial`` order).
    bounds : (low, high)
        The interval.
    name : str
        Label used in plots and the CLI.

    Attributes
    ----------
    coeffs : ndarray
        The coefficients (read-only), trailing zeros removed.
    """

    def __init__(
        self, coeffs: Sequence[float], bounds: tuple[float, float], *, name: str = "polynomial"
    ) -> None:
        c = np.atleast_1d(np.asarray(coeffs, dtype=float))
        if c.ndim != 1 or not np.isfinite(c).all():
            raise InputError(f"coeffs must be a finite 1-D sequence, got {coeffs!r}")
        c = npoly.polytrim(c)
        if c.shape[0] < 2:
            raise InputError(f"coeffs={coeffs!r} is constant; a landscape needs degree >= 1")
        c.setflags(write=False)
        self.coeffs = c
        plain = [float(v) for v in c]
        lo, hi = bounds
        super().__init__(lambda x: _horner(plain, x[..., 0]), [(lo, hi)], name=name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, coeffs={self.coeffs.tolist()}, bounds={self.bounds[0]})"

    def value(self, x: float | np.ndarray) -> float | np.ndarray:
        """The polynomial at ``x`` in float64 NumPy arithmetic."""
        return npoly.polyval(x, self.coeffs)

    def critical_points(self) -> CriticalPoints:
        """All real roots of ``p'`` (inside or outside the box), classified.

        A root is real when its imaginary part is below ``1e-9 * max(1, |root|)``; it is
        a minimum/maximum by the sign of the first non-vanishing higher derivative.
        """
        d1 = npoly.polyder(self.coeffs)
        if d1.shape[0] < 2:
            pts = np.empty(0)
        else:
            roots = npoly.polyroots(d1)
            pts = np.sort(roots[np.abs(roots.imag) <= 1e-9 * np.maximum(1, np.abs(roots))].real)
        kinds = []
        for x in pts:
            kind, deriv = "flat", d1
            for order in range(2, self.coeffs.shape[0]):
                deriv = npoly.polyder(deriv)
                v = npoly.polyval(x, deriv)
                if abs(v) > 1e-9 * max(1.0, float(np.abs(deriv).max())):
                    if order % 2 == 0:
                        kind = "min" if v > 0 else "max"
                    break
            kinds.append(kind)
        return CriticalPoints(pts, np.asarray(self.value(pts), dtype=float), tuple(kinds))

    def basin(self, x: float) -> tuple[float, float]:
        """The gradient-flow basin ``(lo, hi)`` around ``x``: the neighbouring critical
        maxima (or flat points), ``-inf``/``inf`` where there is none."""
        cp = self.critical_points()
        walls = cp.points[[k != "min" for k in cp.kinds]]
        lo = walls[walls < x]
        hi = walls[walls > x]
        return (float(lo.max()) if lo.size else -math.inf, float(hi.min()) if hi.size else math.inf)


def polynomial(
    coeffs: Sequence[float] = (0.0, 0.1, -0.5, 0.0, 0.25),
    bounds: tuple[float, float] = (-2.0, 2.0),
    *,
    name: str = "polynomial",
) -> PolynomialLandscape:
    """A one-variable polynomial ``sum_k coeffs[k] x**k`` on ``bounds``.

    The default is a tilted double well ``x**4/4 - x**2/2 + x/10`` with a global
    minimum near ``-1.05`` and a local one near ``0.95``.
    """
    return PolynomialLandscape(coeffs, bounds, name=name)


#: Taylor coefficients ``a_0..a_5`` of the sextic family at its local minimum ``x = 0``:
#: ``p(x) = x**2/2 - x**3/2 + 5 x**4/8 - x**5/2 + a6 x**6``.
SEXTIC_TAYLOR: tuple[float, ...] = (0.0, 0.0, 0.5, -0.5, 0.625, -0.5)
#: At ``a6 = 1/8`` the family is ``x**2 (x - 2)**2 (x**2 + 1) / 8``: both minima at 0.
_SEXTIC_A6_MAX = 0.125


def _sextic_critical(a6: float) -> tuple[float, float]:
    """``(saddle, global_min)`` of the family member with sixth coefficient ``a6``."""
    roots = npoly.polyroots(npoly.polyder(np.array([*SEXTIC_TAYLOR, a6])))
    real = np.sort(roots[np.abs(roots.imag) <= 1e-9 * np.maximum(1, np.abs(roots))].real)
    pos = real[real > 1e-12]
    return float(pos[0]), float(pos[-1])


def _sextic_barrier(a6: float) -> float:
    saddle, _ = _sextic_critical(a6)
    return float(npoly.polyval(saddle, np.array([*SEXTIC_TAYLOR, a6])))


class Sextic(PolynomialLandscape):
    """A member of the sextic family of SPEC §8: one local and one global minimum.

    Construction. Every member is ``p(x) = q(x) + a6 x**6`` with the fixed quintic
    ``q(x) = x**2/2 - x**3/2 + 5 x**4/8 - x**5/2`` (:data:`SEXTIC_TAYLOR`), so the value
    and the derivatives of orders 1..5 at the local minimum ``x = 0`` are the same for
    every member (``p(0) = p'(0) = 0``, ``p''(0) = 1``, ``p'''(0) = -3``,
    ``p''''(0) = 15``, ``p'''''(0) = -60``). For ``0 < a6 < 1/8`` the derivative
    ``p'(x) = x r(x)`` has exactly three real roots: the local minimum ``0``, a local
    maximum ``saddle`` in ``(0.84, 1.24)`` and the global minimum ``global_min > 2``
    with ``p(global_min) < 0``. At ``a6 = 1/8`` the polynomial is
    ``x**2 (x - 2)**2 (x**2 + 1) / 8`` (two minima at level 0); as ``a6 -> 0`` the
    global minimum runs off to ``+inf``. The barrier ``h = p(saddle)`` of the local
    minimum grows strictly with ``a6`` (``dh/da6 = saddle**6 > 0``), so each ``h`` in
    :meth:`barrier_range` picks one member; ``a6`` is found by root bracketing.

    Parameters
    ----------
    barrier : float
        Height ``p(saddle) - p(0)`` of the local minimum's bar, inside
        :meth:`barrier_range` (about ``(0.1586, 0.2823)``).
    bounds : (low, high), optional
        Default ``(-1, global_min + 1)``.

    Attributes
    ----------
    barrier, a6, local_min, saddle, global_min, global_value : float
        The exact critical data (``local_min`` is ``0.0``, its value ``0.0``).
    """

    def __init__(self, barrier: float, *, bounds: tuple[float, float] | None = None) -> None:
        lo, hi = self.barrier_range()
        try:
            barrier = float(barrier)
        except (TypeError, ValueError):
            raise InputError(f"barrier={barrier!r}; expected a number") from None
        if not lo < barrier < hi:
            raise InputError(
                f"barrier={barrier!r} is outside the sextic family's range ({lo:.6g}, {hi:.6g})"
            )
        a6 = brentq(
            lambda a: _sextic_barrier(a) - barrier, 1e-9, _SEXTIC_A6_MAX, xtol=1e-15, rtol=1e-14
        )
        saddle, gmin = _sextic_critical(a6)
        self.a6 = float(a6)
        self.local_min = 0.0
        self.saddle = saddle
        self.global_min = gmin
        if bounds is None:
            bounds = (-1.0, gmin + 1.0)
        super().__init__([*SEXTIC_TAYLOR, a6], bounds, name=f"sextic(barrier={float(barrier):g})")
        self.barrier = float(self.value(saddle))
        self.global_value = float(self.value(gmin))

    @staticmethod
    def barrier_range() -> tuple[float, float]:
        """Open interval of barrier heights the family reaches (``a6`` in ``(0, 1/8)``)."""
        return _sextic_barrier(1e-9), _sextic_barrier(_SEXTIC_A6_MAX)


def sextic(barrier: float = 0.2, *, bounds: tuple[float, float] | None = None) -> Sextic:
    """The member of the sextic family whose local minimum has bar height ``barrier``.

    See :class:`Sextic` for the construction. The local minimum is at ``x = 0`` with
    value 0; its derivatives up to order 5 do not depend on ``barrier``.

    Examples
    --------
    >>> s = sextic(0.2)
    >>> round(s.barrier, 12), s.local_min
    (0.2, 0.0)
    """
    return Sextic(barrier, bounds=bounds)


# --------------------------------------------------------------------------- 2-D / n-D


def himmelblau(
    bounds: Sequence[tuple[float, float]] = ((-5.0, 5.0), (-5.0, 5.0)),
) -> AnalyticLandscape:
    """Himmelblau's function ``(x**2 + y - 11)**2 + (x + y**2 - 7)**2``.

    Four global minima at level 0: ``(3, 2)``, ``(-2.805118, 3.131312)``,
    ``(-3.779310, -3.283186)``, ``(3.584428, -1.848126)``.
    """

    def f(p: torch.Tensor) -> torch.Tensor:
        x, y = p[..., 0], p[..., 1]
        return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2

    return from_function(f, bounds, name="himmelblau")


def six_hump_camel(
    bounds: Sequence[tuple[float, float]] = ((-2.0, 2.0), (-1.0, 1.0)),
) -> AnalyticLandscape:
    """Six-hump camel ``(4 - 2.1 x**2 + x**4/3) x**2 + x y + (-4 + 4 y**2) y**2``.

    Six minima: ``-1.031628`` at ``(0.0898, -0.7126)`` and ``(-0.0898, 0.7126)``,
    ``-0.215464`` at ``(±1.7036, ∓0.7961)``, ``2.104250`` at ``(±1.6071, ±0.5687)``.
    """

    def f(p: torch.Tensor) -> torch.Tensor:
        x, y = p[..., 0], p[..., 1]
        return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2

    return from_function(f, bounds, name="six-hump-camel")


def _box(
    dim: int, bounds: tuple[float, float] | Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    if not isinstance(dim, int) or dim < 1:
        raise InputError(f"dim={dim!r}; expected a positive integer")
    b = np.asarray(bounds, dtype=float)
    if b.shape == (2,):
        return [(float(b[0]), float(b[1]))] * dim
    if b.shape != (dim, 2):
        raise InputError(f"bounds has shape {b.shape}; expected (2,) or ({dim}, 2)")
    return [(float(lo), float(hi)) for lo, hi in b]


def rastrigin(
    dim: int = 2, bounds: tuple[float, float] | Sequence[tuple[float, float]] = (-1.5, 1.5)
) -> AnalyticLandscape:
    """Rastrigin ``10 d + sum_i (x_i**2 - 10 cos(2 pi x_i))``: minima near the integer
    points (``3**dim`` of them in the default box), global minimum 0 at the origin."""
    box = _box(dim, bounds)

    def f(x: torch.Tensor) -> torch.Tensor:
        return 10.0 * x.shape[-1] + (x**2 - 10.0 * torch.cos(2 * math.pi * x)).sum(-1)

    return from_function(f, box, name="rastrigin" if dim == 2 else f"rastrigin-{dim}d")


def styblinski_tang(
    dim: int = 2, bounds: tuple[float, float] | Sequence[tuple[float, float]] = (-5.0, 5.0)
) -> AnalyticLandscape:
    """Styblinski–Tang ``sum_i (x_i**4 - 16 x_i**2 + 5 x_i) / 2``: ``2**dim`` minima.

    Separable: in one variable ``g(t) = (t**4 - 16 t**2 + 5 t)/2`` has minima at
    ``-2.903534`` (``-39.166166``) and ``2.746803`` (``-25.029495``) and a maximum at
    ``0.156731`` (``0.195694``); the global minimum is ``-39.166166 * dim``.
    """
    box = _box(dim, bounds)

    def f(x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (x**4 - 16 * x**2 + 5 * x).sum(-1)

    return from_function(f, box, name="styblinski-tang" if dim == 2 else f"styblinski-tang-{dim}d")


def holder_table(
    bounds: Sequence[tuple[float, float]] = ((3.3, 9.3), (1.7, 10.8)),
) -> AnalyticLandscape:
    """Hölder table ``-|sin x cos y exp(|1 - sqrt(x**2 + y**2)/pi|)|``.

    On the full ``[-10, 10]**2`` it has dozens of minima; the default box holds the six
    cells between the zero lines ``x = pi, 2 pi, 3 pi`` and ``y = pi/2, 3 pi/2, 5 pi/2,
    7 pi/2``, one minimum each, among them the global minimum ``-19.2085`` at
    ``(8.05502, 9.66459)``. Cells meet only on those zero lines, so every finite bar
    dies at 0.
    """

    def f(p: torch.Tensor) -> torch.Tensor:
        x, y = p[..., 0], p[..., 1]
        r = torch.sqrt(x**2 + y**2)
        return -torch.abs(torch.sin(x) * torch.cos(y) * torch.exp(torch.abs(1 - r / math.pi)))

    return from_function(f, bounds, name="holder-table")


def gaussian_wells(
    centers: Sequence[Sequence[float]] = ((-1.5, -1.0), (1.5, -1.0), (0.0, 1.5)),
    depths: Sequence[float] = (1.0, 0.7, 0.5),
    widths: Sequence[float] | float = (0.8, 0.7, 0.6),
    bounds: Sequence[tuple[float, float]] | None = None,
    *,
    quadratic: float = 0.02,
) -> AnalyticLandscape:
    """Negative Gaussian wells plus a small quadratic bowl.

    ``f(x) = -sum_i depths[i] exp(-|x - centers[i]|**2 / (2 widths[i]**2))
    + quadratic * |x - m|**2`` with ``m`` the centre of the box. Each well whose depth
    dominates its neighbourhood holds one minimum near its centre.

    Parameters
    ----------
    centers : array_like of shape (k, d)
        Well positions.
    depths : array_like of shape (k,)
        Positive well depths.
    widths : float or array_like of shape (k,)
        Positive standard deviations.
    bounds : sequence of (low, high), optional
        Default: the centres' bounding box padded by ``3 * max(widths)``.
    quadratic : float
        Non-negative weight of the bowl that keeps minima off the boundary.
    """
    c = np.asarray(centers, dtype=float)
    if c.ndim != 2 or c.shape[0] < 1:
        raise InputError(f"centers must have shape (k, d), got {c.shape}")
    k, d = c.shape
    dep = np.asarray(depths, dtype=float)
    wid = (
        np.broadcast_to(np.asarray(widths, dtype=float), (k,))
        if np.ndim(widths) == 0
        else np.asarray(widths, dtype=float)
    )
    if dep.shape != (k,) or not (dep > 0).all():
        raise InputError(f"depths={depths!r}; expected {k} positive numbers, one per center")
    if wid.shape != (k,) or not (wid > 0).all():
        raise InputError(f"widths={widths!r}; expected a positive number or {k} of them")
    if not (quadratic >= 0 and math.isfinite(quadratic)):
        raise InputError(f"quadratic={quadratic!r}; expected a finite number >= 0")
    if bounds is None:
        pad = 3.0 * float(wid.max())
        bounds = [(float(lo - pad), float(hi + pad)) for lo, hi in zip(c.min(0), c.max(0))]
    if np.shape(bounds) != (d, 2):
        raise InputError(
            f"bounds has shape {np.shape(bounds)}; expected ({d}, 2) for {d}-dimensional centers"
        )
    mid = torch.tensor([(lo + hi) / 2 for lo, hi in bounds], dtype=torch.float64)
    ct, dt, wt = (torch.tensor(np.array(a)) for a in (c, dep, wid))

    def f(x: torch.Tensor) -> torch.Tensor:
        sq = ((x.unsqueeze(-2) - ct.to(x.dtype)) ** 2).sum(-1)  # (..., k)
        wells = -(dt.to(x.dtype) * torch.exp(-sq / (2 * wt.to(x.dtype) ** 2))).sum(-1)
        return wells + quadratic * ((x - mid.to(x.dtype)) ** 2).sum(-1)

    return from_function(f, bounds, name="gaussian-wells")


# --------------------------------------------------------------------------- registry

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
