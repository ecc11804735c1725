"""Classic optimization benchmark functions in two or more variables, as analytic landscapes.

:func:`himmelblau`, :func:`six_hump_camel`, :func:`rastrigin`, :func:`styblinski_tang`,
:func:`holder_table` and :func:`gaussian_wells`, each with a default box chosen so that the
exact ground truth has a manageable number of minima and none on the box's boundary.
They are registered by name in :mod:`topoloss.analytic.functions`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from topoloss.analytic.landscape import AnalyticLandscape, from_function
from topoloss.errors import InputError

__all__ = ["gaussian_wells", "himmelblau", "holder_table", "rastrigin", "six_hump_camel", "styblinski_tang"]


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
