"""Contour map of a two-dimensional analytic landscape with minima and optimized paths."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from topoloss.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from topoloss.engine.analysis import Analysis

__all__ = ["plot_landscape_2d"]


def plot_landscape_2d(
    landscape: Any,
    analysis: Analysis | None = None,
    ax: Axes | None = None,
    *,
    resolution: int = 200,
    levels: int = 30,
    linear: bool = False,
    cmap: str = "viridis",
    title: str | None = None,
) -> Axes:
    """Draw the landscape on its box, and the minima and paths of ``analysis``.

    Contour levels are quantiles of the sampled values, so that both deep valleys and
    steep walls stay readable. Paths are white; the paths whose barrier kills a bar of
    the loss barcode (the saddles) are drawn thicker in red, with a cross at their
    highest point.

    Parameters
    ----------
    landscape : AnalyticLandscape
        A landscape with two coordinates and a ``grid`` method (its box).
    analysis : Analysis, optional
        Result of :func:`topoloss.analyze` on this landscape.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if omitted.
    resolution : int
        Grid points per axis for the contour map.
    levels : int
        Number of contour levels.
    linear : bool
        Also draw the straight segments between connected minima (dashed).
    cmap : str
        Matplotlib colormap.
    title : str, optional
        Axes title; default the landscape's name.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If the landscape is not two-dimensional or has no grid/box.
    """
    if getattr(landscape, "dim", None) != 2 or not callable(getattr(landscape, "grid", None)):
        raise InputError(
            f"plot_landscape_2d needs a two-dimensional analytic landscape, got "
            f"{type(landscape).__name__} with dim={getattr(landscape, 'dim', None)!r}"
        )
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 5))
    (xs, ys), values = landscape.grid(int(resolution))
    z = values.T  # grid is indexed (x, y); contourf wants rows along y
    bounds = np.unique(np.quantile(z, np.linspace(0, 1, max(int(levels), 2))))
    if bounds.size < 2:
        bounds = np.array([z.min(), z.min() + 1.0])
    cs = ax.contourf(xs, ys, z, levels=bounds, cmap=cmap)
    ax.contour(xs, ys, z, levels=bounds, colors="k", linewidths=0.2, alpha=0.4)
    ax.figure.colorbar(cs, ax=ax, label="loss")
    if analysis is not None:
        import torch

        saddles = {frozenset(s) for s in analysis.barcode.saddles if s is not None}
        t = torch.linspace(0, 1, 201, dtype=torch.float64)
        for path in analysis.paths:
            xy = path.points(t.to(path.start.dtype)).cpu().numpy()
            key = frozenset((path.u, path.v))
            if key in saddles:
                ax.plot(xy[:, 0], xy[:, 1], color="tab:red", lw=2.0, zorder=3)
                top = path.points([path.t_max]).cpu().numpy()[0]
                ax.plot(top[0], top[1], "x", color="tab:red", ms=8, mew=2, zorder=4)
            else:
                ax.plot(xy[:, 0], xy[:, 1], color="w", lw=0.8, alpha=0.8, zorder=2)
            if linear:
                ends = torch.stack([path.start, path.end]).cpu().numpy()
                ax.plot(ends[:, 0], ends[:, 1], color="w", lw=0.6, ls="--", alpha=0.6)
        pts = analysis.minima.points.cpu().numpy()
        ax.scatter(pts[:, 0], pts[:, 1], color="tab:orange", edgecolor="k", s=40, zorder=5)
        for (x, y), name in zip(pts, analysis.minima.names):
            ax.annotate(str(name), (x, y), textcoords="offset points", xytext=(4, 4),
                        color="w", fontsize=8, zorder=6)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title if title is not None else str(getattr(landscape, "name", "")))
    return ax
