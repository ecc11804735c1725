"""The loss on the plane through three minima (for model landscapes)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes

from topoloss.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from topoloss.landscapes.base import Landscape
    from topoloss.paths.record import PathRecord

__all__ = ["PlaneSlice", "plane_slice", "plot_plane"]


@dataclass(frozen=True, eq=False)
class PlaneSlice:
    """Loss values on a grid of the plane through three points.

    A point with plane coordinates ``(x, y)`` is ``origin + x * e1 + y * e2``, with
    ``e1, e2`` orthonormal; the three anchor points sit at ``anchors`` (shape (3, 2)).
    """

    xs: np.ndarray
    ys: np.ndarray
    values: np.ndarray  # (len(ys), len(xs))
    anchors: np.ndarray
    names: tuple[Hashable, ...]
    origin: torch.Tensor
    basis: torch.Tensor  # (2, P)

    def coordinates(self, points: torch.Tensor) -> np.ndarray:
        """Plane coordinates of ``(B, P)`` points (their orthogonal projection)."""
        d = points.to(self.origin) - self.origin
        return (d @ self.basis.T).cpu().numpy()


def plane_slice(
    landscape: Landscape,
    points: torch.Tensor,
    *,
    names: Sequence[Hashable] = ("a", "b", "c"),
    resolution: int = 21,
    margin: float = 0.25,
) -> PlaneSlice:
    """Evaluate ``landscape.loss`` on a grid of the plane through three points.

    Parameters
    ----------
    landscape : Landscape
    points : Tensor, shape (3, P)
        The three points (e.g. minima); they must not be collinear.
    resolution : int
        Grid points per axis.
    margin : float
        Extra room around the three points, as a fraction of the plane extent.
    """
    import torch

    pts = landscape.as_points(points, name="points")
    if pts.shape[0] != 3:
        raise InputError(f"need exactly 3 points for a plane, got {pts.shape[0]}")
    if resolution < 3:
        raise InputError(f"resolution must be >= 3, got {resolution}")
    origin = pts[0]
    e1 = pts[1] - origin
    n1 = e1.norm()
    if n1 == 0:
        raise InputError("points 0 and 1 coincide")
    e1 = e1 / n1
    w = pts[2] - origin
    e2 = w - (w @ e1) * e1
    n2 = e2.norm()
    if n2 <= 1e-9 * max(float(w.norm()), 1.0):
        raise InputError("the three points are collinear: they span no plane")
    e2 = e2 / n2
    basis = torch.stack([e1, e2])
    anchors = ((pts - origin) @ basis.T).cpu().numpy()
    lo, hi = anchors.min(0), anchors.max(0)
    pad = margin * (hi - lo).max()
    xs = np.linspace(lo[0] - pad, hi[0] + pad, resolution)
    ys = np.linspace(lo[1] - pad, hi[1] + pad, resolution)
    gx, gy = np.meshgrid(xs, ys)
    coords = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=pts.dtype, device=pts.device)
    grid = origin + coords @ basis
    values = np.concatenate([landscape.loss(chunk).cpu().numpy() for chunk in grid.split(64)])
    return PlaneSlice(xs, ys, values.reshape(gy.shape), anchors, tuple(names), origin, basis)


def plot_plane(
    plane: PlaneSlice,
    *,
    paths: Sequence[PathRecord] = (),
    ax: Axes | None = None,
    levels: int = 30,
    log: bool = True,
    title: str | None = "loss on the plane through three minima",
) -> Axes:
    """Contour map of a :class:`PlaneSlice`, with the minima and paths projected on it."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 4.5))
    z = plane.values
    if log:
        z = np.log10(np.maximum(z - z.min(), 0) + max(1e-8, 1e-3 * (z.max() - z.min())))
    cs = ax.contourf(plane.xs, plane.ys, z, levels=levels, cmap="viridis")
    ax.figure.colorbar(cs, ax=ax, label="log10(loss - min)" if log else "loss")
    if paths:
        import torch

        for p in paths:
            xy = plane.coordinates(p.points(torch.linspace(0, 1, 101)))
            ax.plot(xy[:, 0], xy[:, 1], color="w", lw=1)
    ax.scatter(plane.anchors[:, 0], plane.anchors[:, 1], color="r", s=30, zorder=3)
    for (x, y), name in zip(plane.anchors, plane.names):
        ax.annotate(str(name), (x, y), textcoords="offset points", xytext=(4, 4), color="w")
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return ax
