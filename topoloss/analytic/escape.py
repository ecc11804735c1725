"""Escape learning rate of gradient descent from a local minimum (SPEC §8, paper §9/App. D).

Plain gradient descent ``x <- x - lr * p'(x)`` starts near a local minimum of a
one-variable polynomial. It *escapes* when an iterate leaves the minimum's basin of
attraction, the open interval between the neighbouring local maxima (for the sextic
family: when it jumps over the saddle into the global minimum's basin; an iterate
that overflows also counts as having left). The escape learning rate is the smallest
learning rate for which this happens within a step budget. All learning rates of a
scan run as one batched descent in torch.

Started next to the minimum, descent only escapes once ``lr`` exceeds the linear
stability limit ``2 / p''(x_min)``: the iterates then oscillate chaotically inside the
basin until the oscillation reaches the saddle (a boundary crisis). Close above the
threshold the number of steps before escaping grows without bound and, being chaotic,
depends on rounding, so the threshold is reproducible to about ``1e-5`` (relative)
while the step count looks random (the paper's App. D). Started farther away, the
first step can jump the saddle and the threshold is ``(saddle - x0) / -p'(x0)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from numpy.polynomial import polynomial as npoly

from topoloss.analytic.polynomials import PolynomialLandscape, Sextic
from topoloss.errors import InputError, InputTypeError

__all__ = ["escape_learning_rate", "escape_steps"]


def _setup(
    landscape_or_barrier: PolynomialLandscape | float,
    minimum: float | None,
    start: float | None,
) -> tuple[PolynomialLandscape, float, float, tuple[float, float]]:
    """Resolve the landscape, the minimum, the start and the basin; validate them."""
    land = landscape_or_barrier
    if isinstance(land, (int, float, np.floating)) and not isinstance(land, bool):
        land = Sextic(float(land))
    if not isinstance(land, PolynomialLandscape):
        raise InputTypeError(
            "expected a barrier height or a one-variable PolynomialLandscape (e.g. "
            f"topoloss.analytic.sextic), got {type(landscape_or_barrier).__name__}"
        )
    cp = land.critical_points()
    minima = cp.minima
    if minimum is None:
        if isinstance(land, Sextic):
            minimum = land.local_min
        else:
            if minima.size < 2:
                raise InputError(
                    f"{land.name!r} has {minima.size} local minimum; nothing to escape to"
                )
            minimum = float(minima[np.argmax(land.value(minima))])
    if minima.size == 0 or np.min(np.abs(minima - minimum)) > 1e-6 * max(1.0, abs(minimum)):
        raise InputError(
            f"minimum={minimum!r} is not a local minimum of {land.name!r}; minima: {minima.tolist()}"
        )
    x_min = float(minima[np.argmin(np.abs(minima - minimum))])
    basin = land.basin(x_min)
    if start is None:
        curv = float(npoly.polyval(x_min, npoly.polyder(land.coeffs, 2)))
        scale = 1.0 / math.sqrt(curv) if curv > 0 else 1.0
        away = -1.0 if basin[1] - x_min <= x_min - basin[0] else 1.0  # away from the nearer wall
        scale = min(scale, 0.5 * min(x_min - basin[0], basin[1] - x_min))
        start = x_min + away * 0.1 * scale
    start = float(start)
    if not (basin[0] < start < basin[1]):
        raise InputError(
            f"start={start!r} lies outside the basin {basin} of the minimum at {x_min:g}"
        )
    return land, x_min, start, basin


def _first_exit(
    land: PolynomialLandscape,
    x_min: float,
    start: float,
    basin: tuple[float, float],
    lrs: np.ndarray,
    steps: int,
) -> np.ndarray:
    """Batched descent, one trajectory per learning rate; first exit step or -1."""
    deriv = [float(c) for c in npoly.polyder(land.coeffs)]
    curv = float(npoly.polyval(x_min, npoly.polyder(land.coeffs, 2)))
    lr = torch.as_tensor(lrs, dtype=torch.float64)
    x = torch.full_like(lr, start)
    first = torch.full(lr.shape, -1, dtype=torch.int64)
    active = torch.ones(lr.shape, dtype=torch.bool)
    # Converged to a linearly stable minimum: it can never leave again.
    stable = lr * curv < 2.0
    lo, hi = basin
    for t in range(1, steps + 1):
        g = torch.zeros_like(x)
        for c in reversed(deriv):
            g = g * x + c
        x = torch.where(active, x - lr * g, x)
        left = active & ~((x > lo) & (x < hi))  # NaN/inf count as left
        first[left] = t
        active &= ~left
        if t % 32 == 0:
            active &= ~(stable & ((x - x_min).abs() < 1e-12 * max(1.0, abs(x_min))))
            if not bool(active.any()):
                break
    return first.numpy()


def escape_steps(
    landscape_or_barrier: PolynomialLandscape | float,
    lrs: float | Sequence[float] | np.ndarray,
    *,
    minimum: float | None = None,
    start: float | None = None,
    steps: int = 1000,
) -> np.ndarray:
    """For each learning rate, the first gradient-descent step that leaves the basin.

    Parameters
    ----------
    landscape_or_barrier : PolynomialLandscape or float
        A one-variable polynomial, or a barrier height: the member of the sextic
        family (:func:`~topoloss.analytic.sextic`) with that barrier.
    lrs : float or array_like
        Learning rates (positive).
    minimum : float, optional
        The local minimum to start from; default the sextic's local minimum, or the
        highest local minimum of another polynomial.
    start : float, optional
        Starting point, inside the basin. Default: ``0.1 / sqrt(p''(minimum))`` from the
        minimum, on the side away from the nearer basin wall.
    steps : int
        Step budget.

    Returns
    -------
    ndarray of int, shape like ``lrs``
        Step (1-based) at which the iterate first left the basin, ``-1`` if it stayed.
    """
    land, x_min, x0, basin = _setup(landscape_or_barrier, minimum, start)
    arr = np.asarray(lrs, dtype=float)
    if not (np.isfinite(arr).all() and (arr > 0).all()):
        raise InputError(f"lrs={lrs!r}; learning rates must be positive and finite")
    if not (isinstance(steps, (int, np.integer)) and steps >= 1):
        raise InputError(f"steps={steps!r}; expected a positive integer")
    return _first_exit(land, x_min, x0, basin, arr.reshape(-1), int(steps)).reshape(arr.shape)


def escape_learning_rate(
    landscape_or_barrier: PolynomialLandscape | float,
    *,
    minimum: float | None = None,
    start: float | None = None,
    steps: int = 1000,
    lrs: Sequence[float] | np.ndarray | None = None,
    tol: float = 1e-4,
) -> float:
    """Smallest learning rate at which gradient descent escapes a local minimum.

    A batched descent over the scan ``lrs`` finds the first escaping learning rate;
    the interval between it and the scan point below is then refined (64 batched
    trajectories per round) until it is shorter than ``tol``.

    Parameters
    ----------
    landscape_or_barrier : PolynomialLandscape or float
        A one-variable polynomial, or a barrier height of the sextic family.
    minimum, start, steps
        As in :func:`escape_steps`.
    lrs : array_like, optional
        Increasing scan of positive learning rates; default 256 points up to
        ``4 / p''(minimum)`` (twice the linear-stability limit). Escaping windows
        narrower than the scan step may be missed.
    tol : float
        Width of the final bracket.

    Returns
    -------
    float
        ``lr`` such that descent at ``lr`` escapes and at some learning rate in
        ``[lr - tol, lr)`` (the bracket's lower end) it does not; ``inf`` if no scanned
        learning rate escapes.

    Examples
    --------
    >>> lr = escape_learning_rate(0.2, tol=1e-3)
    >>> bool(escape_steps(0.2, lr) > 0), bool(escape_steps(0.2, lr - 1e-3) < 0)
    (True, True)
    """
    land, x_min, x0, basin = _setup(landscape_or_barrier, minimum, start)
    if not (isinstance(steps, (int, np.integer)) and steps >= 1):
        raise InputError(f"steps={steps!r}; expected a positive integer")
    if not (tol > 0 and math.isfinite(tol)):
        raise InputError(f"tol={tol!r}; expected a positive number")
    if lrs is None:
        curv = float(npoly.polyval(x_min, npoly.polyder(land.coeffs, 2)))
        top = 4.0 / curv if curv > 0 else 4.0
        scan = np.linspace(0.0, top, 257)[1:]
    else:
        scan = np.asarray(lrs, dtype=float).reshape(-1)
        if scan.size == 0 or not (
            np.isfinite(scan).all() and (scan > 0).all() and (np.diff(scan) > 0).all()
        ):
            raise InputError(
                f"lrs={lrs!r}; expected an increasing sequence of positive learning rates"
            )

    def escapes(grid: np.ndarray) -> np.ndarray:
        return _first_exit(land, x_min, x0, basin, grid, int(steps)) >= 0

    hit = escapes(scan)
    if not hit.any():
        return math.inf
    i = int(np.argmax(hit))
    lo, hi = (float(scan[i - 1]) if i > 0 else 0.0), float(scan[i])
    while hi - lo > tol:
        sub = np.linspace(lo, hi, 66)[1:-1]
        e = escapes(sub)
        if e.any():
            j = int(np.argmax(e))
            lo, hi = (float(sub[j - 1]) if j > 0 else lo), float(sub[j])
        else:
            lo = float(sub[-1])
    return hi
