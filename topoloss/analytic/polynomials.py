"""Analytic landscapes in one variable: polynomials and the sextic family of SPEC §8.

:class:`PolynomialLandscape` (built by :func:`polynomial`) knows its exact critical
points (:meth:`~PolynomialLandscape.critical_points`) and basins;
:class:`Sextic` (built by :func:`sextic`) is the family member with a given barrier.
Both are registered by name in :mod:`topoloss.analytic.functions`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from numpy.polynomial import polynomial as npoly
from scipy.optimize import brentq

from topoloss.analytic.landscape import AnalyticLandscape
from topoloss.errors import InputError

__all__ = ["SEXTIC_TAYLOR", "CriticalPoints", "PolynomialLandscape", "Sextic", "polynomial", "sextic"]


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
