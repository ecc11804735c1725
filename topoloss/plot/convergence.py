"""How a barcode settles: the TO-score and every death against the paths computed."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from topoloss.engine.progress import ProgressPoint

__all__ = ["certified_since", "plot_convergence"]


def certified_since(history: Sequence[ProgressPoint]) -> dict[Hashable, int]:
    """For each bar certified at the end, the index of the point from which it stayed certified.

    Examples
    --------
    >>> from types import SimpleNamespace as P
    >>> certified_since([P(certified=("a",)), P(certified=()), P(certified=("a", "b")), P(certified=("a", "b"))])
    {'a': 2, 'b': 2}
    """
    if not history:
        return {}
    out: dict[Hashable, int] = {}
    for name in history[-1].certified:
        k = len(history) - 1
        while k > 0 and name in history[k - 1].certified:
            k -= 1
        out[name] = k
    return dict(sorted(out.items(), key=lambda kv: (kv[1], str(kv[0]))))


def plot_convergence(history: Sequence[ProgressPoint] | Any, *, ax: Axes | None = None, to_score: bool = True,
                     labels: bool | None = None, title: str | None = None) -> Axes:
    """Each bar's death and the TO-score against the paths done, certification marked.

    Parameters
    ----------
    history : sequence of ProgressPoint, or Analysis
        :attr:`Analysis.history <topoloss.engine.pipeline.Analysis>` or
        :func:`~topoloss.engine.progress.read_history` of a run directory.
    ax : Axes, optional
        Where to draw (a new figure if omitted).
    to_score : bool
        Draw the TO-score too, on a second y axis on the right (black).
    labels : bool, optional
        Name each bar in the legend (default: up to 10 bars).
    title : str, optional
        The Axes title.

    Returns
    -------
    Axes
        The Axes of the deaths (the TO-score's twin is ``ax.right_ax`` when drawn).

    Notes
    -----
    A death is drawn once it is finite (a bar is essential, ``inf``, while its minimum
    is not joined to a lower one). A filled star marks the path after which the bar was
    certified and stayed so: no pair left out could lower it any more. Reused paths (read
    back from a run directory) are drawn like the others.
    """
    import matplotlib.pyplot as plt

    points = list(getattr(history, "history", history))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    assert ax is not None
    if not points:
        ax.text(0.5, 0.5, "no paths yet", ha="center", va="center", transform=ax.transAxes)
        return ax
    x = [p.paths_done for p in points]
    names = [n for n, _ in points[-1].deaths]
    labels = len(names) <= 10 if labels is None else labels
    since = certified_since(points)
    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "viridis")
    for k, name in enumerate(names):
        color = cmap(k % 10) if len(names) <= 10 else cmap(k / max(1, len(names) - 1))
        y = [_death(p, name) for p in points]
        if all(math.isnan(v) for v in y):
            continue
        ax.plot(x, y, drawstyle="steps-post", color=color, lw=1.3, label=str(name) if labels else None)
        if name in since and not math.isnan(y[since[name]]):
            ax.plot([x[since[name]]], [y[since[name]]], marker="*", ms=11, color=color, mec="k", mew=0.6,
                    ls="none", zorder=5)
    ax.plot([], [], marker="*", ms=11, color="w", mec="k", mew=0.6, ls="none", label="certified from here")
    ax.set_xlabel("paths done")
    ax.set_ylabel("death of each bar (saddle loss)")
    ax.set_xlim(0.5, max(x) + 0.5)
    handles, names_ = ax.get_legend_handles_labels()
    if to_score:
        right = ax.twinx()
        score = [p.to_score if math.isfinite(p.to_score) else math.nan for p in points]
        (line,) = right.plot(x, score, color="k", lw=2.2, ls="--", drawstyle="steps-post", label="TO-score")
        right.set_ylabel("TO-score (dashed)")
        finite = [v for v in score if not math.isnan(v)]
        if finite:  # from zero: small moves of a settled score stay small
            right.set_ylim(0, 1.15 * max(finite) if max(finite) > 0 else 1.0)
        ax.right_ax = right  # type: ignore[attr-defined]
        handles, names_ = [*handles, line], [*names_, "TO-score"]
    ax.legend(handles, names_, fontsize=7, loc="upper left", bbox_to_anchor=(1.13 if to_score else 1.01, 1.0),
              borderaxespad=0.0, ncol=2 if len(handles) > 12 else 1)
    if title is not None:
        ax.set_title(title)
    return ax


def _death(point: Any, name: Hashable) -> float:
    for n, d in point.deaths:
        if n == name:
            return float(d) if math.isfinite(d) else math.nan
    return math.nan
