"""Loss profiles along optimized paths, beside the straight segment, and the metrics along them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes

from topoloss.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from topoloss.paths.record import PathRecord

__all__ = ["plot_path_metrics", "plot_profiles"]


def plot_profiles(
    paths: Sequence[PathRecord],
    *,
    ax: Axes | None = None,
    linear: bool = True,
    legend: bool | None = None,
    excess: bool = False,
    title: str | None = "loss along paths",
) -> Axes:
    """Draw the loss along every path against ``t``, optimized (solid) vs linear (dashed).

    Straight segments often climb far higher than optimized paths (on networks about 1
    against 0.06), which squashes the optimized curves flat: pass ``linear=False`` for
    a panel of the optimized paths alone, or ``excess=True`` to draw each profile minus
    the chord between its endpoints' losses (``L(t) - ((1 - t) L(0) + t L(1))``), the
    height a path climbs above its ends.

    Parameters
    ----------
    paths : sequence of PathRecord
        From :func:`topoloss.connect`.
    ax : matplotlib Axes, optional
    linear : bool
        Also draw each straight segment's profile, where it was evaluated.
    legend : bool, optional
        Label each pair; default only for up to 10 paths.
    excess : bool
        Draw the excess over the chord between the endpoints' losses instead of the loss.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 4))
    if len(paths) == 0:
        raise InputError("no paths to plot")
    legend = len(paths) <= 10 if legend is None else legend
    ys: list[np.ndarray] = []
    for k, p in enumerate(paths):
        color = f"C{k % 10}"
        t, y = np.asarray(p.t, dtype=float), np.asarray(p.losses, dtype=float)
        y0, y1 = (float(y[0]), float(y[-1])) if excess and y.size else (0.0, 0.0)

        def chord(tt: np.ndarray, y0: float = y0, y1: float = y1) -> np.ndarray:
            return (1 - tt) * y0 + tt * y1
        ax.plot(t, y - chord(t), color=color, lw=1.5, label=f"{p.u}–{p.v}")
        ax.plot([p.t_max], [p.barrier - float(chord(np.array(p.t_max))[()])], "o", color=color, ms=4)
        ys.append(y - chord(t))
        if linear and p.linear_losses.size and not math.isnan(p.linear_barrier):
            lt = np.asarray(p.linear_t, dtype=float)
            ly = np.asarray(p.linear_losses, dtype=float) - chord(lt)
            ax.plot(lt, ly, color=color, lw=1, ls="--", alpha=0.7)
            ys.append(ly)
    if excess:
        ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel("t")
    ax.set_ylabel("loss above the endpoints' chord" if excess else "loss")
    ax.set_xlim(0, 1)
    if linear:
        ax.plot([], [], color="0.4", ls="--", label="straight segment")
    if legend:
        ax.legend(fontsize="x-small", ncol=2)
    if title:
        ax.set_title(title)
    finite = [y[np.isfinite(y)] for y in ys if np.isfinite(y).any()]
    lo = min(float(y.min()) for y in finite) if finite else 0.0
    hi = max(float(y.max()) for y in finite) if finite else 1.0
    pad = 0.05 * (hi - lo or 1.0)
    ax.set_ylim(lo - pad, hi + pad)
    return ax


def plot_path_metrics(
    paths: Sequence[PathRecord],
    metric: str,
    *,
    ax: Axes | None = None,
    legend: bool | None = None,
    title: str | None = None,
) -> Axes:
    """Draw one metric along every path against ``t`` (``PathRecord.metrics[metric]``).

    A dot marks the value at the barrier point ``t_max`` (none after a fallback to the
    straight segment, where nothing was measured). Paths without that metric (analytic
    landscapes, records stored before metrics existed) are left out.

    Parameters
    ----------
    paths : sequence of PathRecord
        From :func:`topoloss.connect`.
    metric : str
        e.g. ``"test_loss"``, ``"test_accuracy"``, ``"train_accuracy"``.
    ax : matplotlib Axes, optional
    legend : bool, optional
        Label each pair; default only for up to 10 paths.
    title : str, optional
        Default: the metric's name.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        No path has ``metric``.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 4))
    drawn = [(k, p) for k, p in enumerate(paths) if metric in p.metrics]
    if not drawn:
        have = sorted({name for p in paths for name in p.metrics})
        raise InputError(f"metric={metric!r}: no path measured it (measured: {', '.join(have) or 'none'})")
    legend = len(drawn) <= 10 if legend is None else legend
    for k, p in drawn:
        color = f"C{k % 10}"  # the colour plot_profiles gives the same path
        ax.plot(p.t, p.metrics[metric], color=color, lw=1.5, label=f"{p.u}–{p.v}")
        at = p.barrier_metrics().get(metric, math.nan)
        if not math.isnan(at):
            ax.plot([p.t_max], [at], "o", color=color, ms=4)
    ax.set_xlabel("t")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_xlim(0, 1)
    if legend:
        ax.legend(fontsize="x-small", ncol=2)
    ax.set_title(metric.replace("_", " ") + " along paths" if title is None else title)
    return ax
