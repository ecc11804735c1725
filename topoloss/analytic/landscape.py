"""Closed-form landscapes on a box: the analytic side of :class:`topoloss.Landscape`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from topoloss.errors import InputError, InputTypeError
from topoloss.landscapes.base import Landscape

__all__ = ["AnalyticLandscape", "from_function"]

#: Seeded points of the box (besides its centre) on which a function is checked once,
#: when its landscape is made: real floating values, finite on at least one of them.
_PROBE_POINTS = 16


class AnalyticLandscape(Landscape):
    """A differentiable torch function ``f(x[..., d]) -> [...]`` on a box.

    Parameters
    ----------
    f : callable
        Maps a tensor of shape ``(..., d)`` to a tensor of shape ``(...)``; it must be
        written with torch operations so that it is batched and differentiable.
    bounds : sequence of (low, high)
        One pair per coordinate; the box on which minima are searched and the exact
        ground truth is computed.
    name : str
        A label used in plots and the CLI.
    dtype : torch.dtype
        Floating type of points (``float64`` by default: analytic checks want precision).

    Attributes
    ----------
    dim : int
        Number of coordinates.
    low, high : torch.Tensor
        The box corners.
    """

    def __init__(
        self,
        f: Callable[[torch.Tensor], torch.Tensor],
        bounds: Sequence[tuple[float, float]],
        *,
        name: str = "function",
        dtype: torch.dtype = torch.float64,
    ) -> None:
        if not callable(f):
            raise InputTypeError(f"f must be callable, got {type(f).__name__}")
        b = np.asarray(bounds, dtype=float)
        if b.ndim != 2 or b.shape[1] != 2 or b.shape[0] < 1:
            raise InputError(
                f"bounds must be one (low, high) pair per coordinate, got shape {b.shape}"
            )
        if not np.isfinite(b).all():
            raise InputError(f"bounds must be finite, got {b.tolist()}")
        bad = np.flatnonzero(b[:, 0] >= b[:, 1])
        if bad.size:
            i = int(bad[0])
            raise InputError(f"bounds[{i}] = {tuple(b[i])}: low must be below high")
        self.f = f
        self.bounds = tuple((float(lo), float(hi)) for lo, hi in b)
        self.name = name
        self.dim = b.shape[0]
        self.dtype = dtype
        self.device = torch.device("cpu")
        self.low = torch.tensor(b[:, 0], dtype=dtype)
        self.high = torch.tensor(b[:, 1], dtype=dtype)
        probe = f(((self.low + self.high) / 2).unsqueeze(0))
        if not isinstance(probe, torch.Tensor) or tuple(probe.shape) != (1,):
            shape = tuple(probe.shape) if isinstance(probe, torch.Tensor) else type(probe).__name__
            raise InputError(
                f"f must map a (batch, {self.dim}) tensor to (batch,), got {shape} for batch 1"
            )
        #: Whether ``f`` has a gradient (its value depends on its input through torch):
        #: descents and path optimization need it (:func:`~topoloss.landscapes.base.require_gradient`).
        self.differentiable = self._probe(f)

    def _probe(self, f: Callable[[torch.Tensor], torch.Tensor]) -> bool:
        """Check ``f`` once at the edge: real floating values, finite somewhere; return
        whether it has a gradient (see :attr:`differentiable`).

        The probe points are the centre of the box and :data:`_PROBE_POINTS` seeded
        uniform points in it.
        """
        gen = torch.Generator().manual_seed(0)
        u = torch.rand(_PROBE_POINTS, self.dim, generator=gen, dtype=torch.float64).to(self.dtype)
        x = torch.cat([((self.low + self.high) / 2).unsqueeze(0), self.low + u * (self.high - self.low)])
        y = f(x)
        if not isinstance(y, torch.Tensor) or tuple(y.shape) != (x.shape[0],):
            shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
            raise InputError(f"landscape {self.name!r} must map a (batch, {self.dim}) tensor to (batch,), "
                             f"got {shape} for batch {x.shape[0]}")
        if y.is_complex() or not y.is_floating_point():
            raise InputError(f"landscape {self.name!r} returns {str(y.dtype).removeprefix('torch.')} values; "
                             f"expected real floating values (a loss is a real number: cast with .to(x.dtype), "
                             f"or take .abs() or .real of a complex value)")
        if not torch.isfinite(y.detach()).any():
            raise InputError(f"landscape {self.name!r} is not finite at any of {x.shape[0]} points of its box "
                             f"(the centre and {_PROBE_POINTS} seeded points): check the function and its bounds")
        try:  # the gradient: a function computed outside torch may refuse a tensor that requires grad
            return bool(f(x.clone().requires_grad_(True)).requires_grad)
        except Exception:  # noqa: BLE001 - any failure here means: no gradient
            return False

    def __repr__(self) -> str:
        return f"AnalyticLandscape({self.name!r}, bounds={list(self.bounds)})"

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Evaluate ``f`` on a tensor of shape ``(..., d)`` (differentiable)."""
        return self.f(x)

    def loss(self, points: torch.Tensor) -> torch.Tensor:
        """Exact values at ``(B, d)`` points (no gradient)."""
        with torch.no_grad():
            return self.f(self.as_points(points))

    def objective(self, points: torch.Tensor, batch: Any = None) -> torch.Tensor:
        """The function itself (full-batch, differentiable)."""
        return self.f(points)

    def grid(self, resolution: int | Sequence[int]) -> tuple[list[np.ndarray], np.ndarray]:
        """Sample on a regular grid covering the box, endpoints included.

        Returns the per-axis coordinates and the values, an array of shape
        ``(r_1, ..., r_d)`` indexed like ``np.meshgrid(..., indexing="ij")``.
        """
        if isinstance(resolution, (int, np.integer)):
            res = [int(resolution)] * self.dim
        else:
            res = [int(r) for r in resolution]
        if len(res) != self.dim or min(res) < 2:
            raise InputError(f"resolution must be >= 2 per axis for {self.dim} axes, got {resolution!r}")
        axes = [np.linspace(lo, hi, r) for (lo, hi), r in zip(self.bounds, res)]
        mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
        flat = torch.as_tensor(mesh.reshape(-1, self.dim), dtype=self.dtype)
        with torch.no_grad():
            values = torch.cat([self.f(chunk) for chunk in flat.split(1 << 18)])
        return axes, values.numpy().reshape(res)

    @property
    def box(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(low, high)``: the box of :attr:`bounds` as tensors."""
        return self.low, self.high


def from_function(
    f: Callable[[torch.Tensor], torch.Tensor],
    bounds: Sequence[tuple[float, float]],
    *,
    name: str = "function",
    dtype: torch.dtype = torch.float64,
) -> AnalyticLandscape:
    """Wrap a user function ``f(x: Tensor[..., d]) -> Tensor[...]`` with its box.

    Examples
    --------
    >>> import torch
    >>> land = from_function(lambda x: (x**2 - 1).pow(2).sum(-1), [(-2, 2)])
    >>> land.dim
    1
    """
    return AnalyticLandscape(f, bounds, name=name, dtype=dtype)
