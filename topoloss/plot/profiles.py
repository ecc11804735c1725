"""Loss profiles along optimized paths, beside the straight segment."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes

if TYPE_CHECKING:  # pragma: no cover
    from topoloss.paths.record import PathRecord

__all__ = ["plot_profiles"]


def plot_profiles(
    paths: Sequence[PathRecord],
    *,
    ax: Axes | None = None,
    linear: bool = True,
    legend: bool | None = None,
    title: str | None = "loss along paths",
) -> Axes:
    """Draw the loss along every path against ``t``, optimized (solid) vs linear (dashed).

    Parameters
    ----------
    paths : sequence of PathRecord
        From :func:`topoloss.connect`.
    ax : matplotlib Axes, optional
    linear : bool
        Also draw each straight segment's profile, where it was evaluated.
    legend : bool, optional
        Label each pair; default only for up to 10 paths.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 4))
    if len(paths) == 0:
        raise ValueError("no paths to plot")
    legend = len(paths) <= 10 if legend is None else legend
    for k, p in enumerate(paths):
        color = f"C{k % 10}"
        ax.plot(p.t, p.losses, color=color, lw=1.5, label=f"{p.u}–{p.v}")
        ax.plot([p.t_max], [p.barrier], "o", color=color, ms=4)
        if linear and p.linear_losses.size and not math.isnan(p.linear_barrier):
            ax.plot(p.linear_t, p.linear_losses, color=color, lw=1, ls="--", alpha=0.7)
    ax.set_xlabel("t")
    ax.set_ylabel("loss")
    ax.set_xlim(0, 1)
    if linear:
        ax.plot([], [], color="0.4", ls="--", label="straight segment")
    if legend:
        ax.legend(fontsize="x-small", ncol=2)
    if title:
        ax.set_title(title)
    lo = min(float(np.min(p.losses)) for p in paths)
    hi = max(float(np.max(p.losses)) for p in paths)
    if linear:
        hi = max([hi] + [float(np.max(p.linear_losses)) for p in paths if p.linear_losses.size])
    pad = 0.05 * (hi - lo or 1.0)
    ax.set_ylim(lo - pad, hi + pad)
    return ax
