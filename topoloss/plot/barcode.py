"""Pictures of barcodes: the loss barcode, the persistence diagram, comparisons."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes

from topoloss.errors import InputError
from topoloss.topology.barcode import Barcode

__all__ = ["plot_barcode", "plot_barcodes", "plot_comparison", "plot_diagram"]


def _axes(ax: Axes | None) -> Axes:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 4))
    return ax


def _top(intervals: np.ndarray) -> float:
    """A level above every finite value, where infinite bars are cut."""
    finite = intervals[np.isfinite(intervals)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return hi + 0.15 * max(hi - lo, 1e-12 if hi == lo else 0.0, abs(hi) * 1e-3, 1e-12)


def plot_barcode(
    barcode: Barcode,
    *,
    groups: Mapping[Hashable, str] | None = None,
    ax: Axes | None = None,
    labels: bool = False,
    score: bool = True,
    title: str | None = "loss barcode",
) -> Axes:
    """Draw the loss barcode in the paper's style: a vertical bar per minimum.

    Bars run from the minimum's loss (birth) up to the saddle that merges it (death),
    sorted by birth; infinite bars are dashed and end in a triangle above the highest
    saddle. With ``score`` the TO-score is written in the corner and the longest finite
    bar (which sets it: TO = its length / 2) is outlined.

    Parameters
    ----------
    barcode : Barcode
        From :func:`topoloss.loss_barcode`.
    groups : mapping, optional
        Minimum name -> group label; bars are coloured by group, with a legend.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if omitted.
    labels : bool
        Write each minimum's name under its bar.
    score : bool
        Show the TO-score (bottleneck) and outline the longest finite bar.
    title : str or None
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    bc = barcode.sorted()
    top = _top(bc.intervals)
    group_names = sorted({str(groups[n]) for n in bc.names if n in groups}) if groups else []
    cmap = {g: f"C{i % 10}" for i, g in enumerate(group_names)}
    seen: set[str] = set()
    width = max(2.0, min(14.0, 160.0 / max(len(bc), 1)))
    for x, (name, (b, d)) in enumerate(zip(bc.names, bc.intervals)):
        g = str(groups[name]) if groups and name in groups else None
        color = cmap.get(g, "C0") if g else "C0"
        label = g if g is not None and g not in seen else None
        if g is not None:
            seen.add(g)
        end = d if math.isfinite(d) else top
        ax.plot([x, x], [b, end], color=color, lw=width, solid_capstyle="butt", label=label,
                ls="-" if math.isfinite(d) else (0, (2, 1)))
        ax.plot([x], [b], marker="_", color="k", ms=1.5 * width + 4)
        if not math.isfinite(d):  # an essential bar: it never dies
            ax.plot([x], [top], marker="^", color=color, ms=width + 4)
    if score:
        from topoloss.topology.score import to_score

        value = to_score(bc)
        lengths = np.where(np.isfinite(bc.intervals[:, 1]), bc.lengths, -np.inf)
        if len(bc) and np.isfinite(lengths).any() and lengths.max() > 0:
            k = int(np.argmax(lengths))
            b, d = bc.intervals[k]
            ax.plot([k, k], [b, d], color="k", lw=width + 2.5, solid_capstyle="butt", zorder=0)
        text = "TO-score = ∞ (disconnected)" if not math.isfinite(value) else \
            f"TO-score = {value:.4g}\n(longest finite bar / 2)"
        ax.text(0.98, 0.98, text, transform=ax.transAxes, va="top", ha="right", fontsize="small",
                bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.7", "alpha": 0.9})
    ax.set_xticks(range(len(bc)))
    ax.set_xticklabels([str(n) for n in bc.names] if labels else [""] * len(bc), rotation=90)
    ax.set_xlabel("minima (sorted by loss)")
    ax.set_ylabel("loss")
    ax.set_xlim(-0.8, len(bc) - 0.2)
    low = float(bc.intervals[:, 0].min())
    pad = 0.06 * (top - low or 1.0)
    ax.set_ylim(low - pad, top + pad)
    if group_names:
        ax.legend(title="group", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def plot_diagram(barcode: Barcode, *, ax: Axes | None = None, title: str | None = "persistence diagram") -> Axes:
    """Draw the persistence diagram (birth vs death); infinite deaths sit on a top line."""
    ax = _axes(ax)
    iv = barcode.intervals
    top = _top(iv)
    lo = float(np.nanmin(iv[:, 0]))
    fin = np.isfinite(iv[:, 1])
    ax.plot([lo, top], [lo, top], color="0.6", lw=1)
    ax.axhline(top, color="0.6", lw=1, ls="--")
    ax.scatter(iv[fin, 0], iv[fin, 1], s=20, label="finite")
    ax.scatter(iv[~fin, 0], np.full((~fin).sum(), top), marker="^", s=40, color="C3", label="infinite")
    ax.set_xlabel("birth (loss at minimum)")
    ax.set_ylabel("death (saddle loss)")
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def plot_comparison(
    scores: Mapping[str, Sequence[float]],
    *,
    ax: Axes | None = None,
    ylabel: str = "TO-score",
    title: str | None = None,
) -> Axes:
    """Compare a number across runs (e.g. depth 2, 3, 4, 6, 8): mean ± std over repeats.

    Each repeat is a grey dot; the mean is a circle with the sample standard deviation
    as error bar (none for a single repeat). Infinite values (a disconnected run's
    TO-score) are drawn as red triangles on a line above the finite ones, and a group
    with one is marked ``∞`` instead of a mean.

    Parameters
    ----------
    scores : mapping
        Run label -> the values of its repeats (e.g. TO-scores over seeds).
    """
    ax = _axes(ax)
    if not scores:
        raise InputError("scores is empty: nothing to compare")
    labels = list(scores)
    vals = [np.asarray(scores[k], dtype=float) for k in labels]
    for k, v in zip(labels, vals):
        if v.size == 0:
            raise InputError(f"run {k!r} has no values")
    x = np.arange(len(labels))
    every = np.concatenate(vals)
    finite = every[np.isfinite(every)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    top = hi + 0.15 * (hi - lo or max(abs(hi), 1.0))
    ok = [bool(np.isfinite(v).all()) for v in vals]
    means = np.array([float(np.mean(v)) if good else np.nan for v, good in zip(vals, ok)])
    errs = np.array([float(np.std(v, ddof=1)) if good and v.size > 1 else 0.0 for v, good in zip(vals, ok)])
    ax.errorbar(x, means, yerr=errs, fmt="o-", capsize=4)
    marked = False
    for xi, v in zip(x, vals):
        fin = np.isfinite(v)
        ax.scatter(np.full(int(fin.sum()), xi), v[fin], s=8, color="0.5", zorder=0)
        if (~fin).any():
            ax.scatter(np.full(int((~fin).sum()), xi), np.full(int((~fin).sum()), top), marker="^", s=40,
                       color="C3", label=None if marked else "∞ (disconnected)")
            marked = True
    if marked:
        ax.axhline(top, color="0.6", lw=0.8, ls="--")
        ax.legend(fontsize="small")
    ax.set_xticks(x)
    ax.set_xticklabels(labels)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax


def plot_barcodes(
    barcodes: Mapping[str, Barcode | Sequence[Barcode]],
    *,
    ax: Axes | None = None,
    title: str | None = "loss barcodes",
) -> Axes:
    """Several barcodes side by side (e.g. one per depth), one colour per label.

    Infinite bars are dashed and end in a triangle above every finite value, as in
    :func:`plot_barcode`.

    Parameters
    ----------
    barcodes : mapping
        Label -> a barcode, or several (repeats), drawn one after the other.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    if not barcodes:
        raise InputError("barcodes is empty: nothing to compare")
    groups = {k: [v] if isinstance(v, Barcode) else list(v) for k, v in barcodes.items()}
    for label, bcs in groups.items():
        if not bcs:
            raise InputError(f"label {label!r} has no barcode")
    every = np.concatenate([bc.intervals for bcs in groups.values() for bc in bcs])
    top = _top(every)
    x = 0.0
    centers: list[float] = []
    for g, bcs in enumerate(groups.values()):
        first = x
        for bc in bcs:
            for b, d in bc.sorted().intervals:
                ax.plot([x, x], [b, d if math.isfinite(d) else top], color=f"C{g % 10}", lw=3,
                        solid_capstyle="butt", ls="-" if math.isfinite(d) else (0, (2, 1)))
                if not math.isfinite(d):
                    ax.plot([x], [top], marker="^", color=f"C{g % 10}", ms=6)
                x += 1
            x += 0.5
        centers.append((first + x - 1.5) / 2)
        x += 1.5
    ax.plot([], [], color="0.4", ls=(0, (2, 1)), marker="^", label="infinite bar (never merges)")
    ax.legend(fontsize="small", loc="lower right")
    ax.set_xticks(centers)
    ax.set_xticklabels(list(groups))
    ax.set_ylabel("loss")
    if title:
        ax.set_title(title)
    return ax
