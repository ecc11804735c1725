"""The disconnectivity graph (merge tree) of the minima, in the style of pele."""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np
from matplotlib.axes import Axes

from topoloss.errors import InputError
from topoloss.topology.barcode import Barcode

__all__ = ["MergeNode", "merge_tree", "plot_disconnectivity"]


@dataclass
class MergeNode:
    """A node of the merge tree: a minimum (leaf) or the saddle where basins join.

    Attributes
    ----------
    level : float
        The loss of the minimum (leaf) or of the saddle (inner node).
    minimum : hashable or None
        The minimum of a leaf; ``None`` for an inner node.
    children : list of MergeNode
        The basins that join here (empty for a leaf).
    """

    level: float
    minimum: Hashable | None = None
    children: list[MergeNode] = field(default_factory=list)

    def leaves(self) -> list[MergeNode]:
        """Leaves below this node, left to right."""
        if not self.children:
            return [self]
        return [leaf for c in self.children for leaf in c.leaves()]

    @property
    def lowest(self) -> float:
        """Lowest minimum below this node."""
        return min(leaf.level for leaf in self.leaves())


def merge_tree(barcode: Barcode) -> list[MergeNode]:
    """The merge tree of a barcode: one root per connected component.

    Built from what the barcode records, with no union-find of its own: every finite bar
    ends where its minimum's basin (of which it is the elder) joins the basin of the
    minimum it ``merges_into`` (the elder of the component formed at that level). Bars
    are replayed in order of death (ties in node order); each merge makes a node at the
    death level whose children are the tree of the dying basin, then the tree of the
    basin it joins. Merges at one level stay binary nodes, one per bar.

    Parameters
    ----------
    barcode : Barcode
        From :func:`topoloss.loss_barcode` (it needs ``merges_into``), or a copy with
        short bars dropped (:meth:`Barcode.drop_short` keeps every bar another one
        merges into).

    Returns
    -------
    list of MergeNode
        One root per essential bar, sorted by the lowest minimum below it.

    Raises
    ------
    InputError
        If a finite bar merges into no minimum, or into one that is not in the barcode
        or has already merged away.

    Examples
    --------
    >>> from topoloss import LandscapeGraph, loss_barcode
    >>> g = LandscapeGraph.from_barriers([0.0, 1.0], [[0, 3], [3, 0]], names="ab")
    >>> root, = merge_tree(loss_barcode(g))
    >>> root.level, [leaf.minimum for leaf in root.leaves()]
    (3.0, ['b', 'a'])
    """
    top: dict[Hashable, MergeNode] = {
        n: MergeNode(float(b), n) for n, b in zip(barcode.names, barcode.intervals[:, 0])
    }
    finite = [bar for bar in barcode.bars() if math.isfinite(bar.death)]
    for bar in sorted(finite, key=lambda b: b.death):
        if bar.merges_into not in top or bar.merges_into == bar.name:
            raise InputError(
                f"bar of {bar.name!r} merges into {bar.merges_into!r} at {bar.death}, which is "
                "not a minimum of this barcode that is still alive at that level"
            )
        top[bar.merges_into] = MergeNode(bar.death, None, [top.pop(bar.name), top[bar.merges_into]])
    return sorted(top.values(), key=lambda r: r.lowest)


def plot_disconnectivity(
    barcode: Barcode,
    *,
    ax: Axes | None = None,
    labels: bool = True,
    title: str | None = "disconnectivity graph",
) -> Axes:
    """Draw the disconnectivity graph: minima at the bottom, basins joining at saddles.

    Each minimum is a vertical line rising from its loss; two lines join at the loss
    of the saddle (barrier) that connects their basins. Disconnected components are
    drawn side by side, each topped by an arrow.

    Parameters
    ----------
    barcode : Barcode
        From :func:`topoloss.loss_barcode` (needs ``merges_into``).
    ax : matplotlib Axes, optional
    labels : bool
        Name each minimum under its leaf.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 4))
    roots = merge_tree(barcode)
    finite = barcode.intervals[np.isfinite(barcode.intervals)]
    span = float(finite.max() - finite.min()) if finite.size else 1.0
    top = float(finite.max()) + 0.1 * (span or 1.0)
    xs: dict[int, float] = {}
    next_x = [0.0]

    def place(node: MergeNode) -> float:
        if not node.children:
            xs[id(node)] = next_x[0]
            next_x[0] += 1.0
        else:
            node.children.sort(key=lambda c: c.lowest)
            xs[id(node)] = float(np.mean([place(c) for c in node.children]))
        return xs[id(node)]

    def draw(node: MergeNode, parent_level: float) -> None:
        x = xs[id(node)]
        ax.plot([x, x], [node.level, parent_level], color="k", lw=1)
        for c in node.children:
            ax.plot([xs[id(c)], x], [node.level, node.level], color="k", lw=1)
            draw(c, node.level)
        if not node.children:
            ax.plot([x], [node.level], "o", color="C0", ms=4)
            if labels:
                ax.annotate(str(node.minimum), (x, node.level), textcoords="offset points",
                            xytext=(0, -10), ha="center", va="top", fontsize="x-small")

    for r in roots:
        place(r)
        next_x[0] += 0.5
        draw(r, top)
        ax.annotate("", xy=(xs[id(r)], top + 0.03 * (span or 1.0)), xytext=(xs[id(r)], top),
                    arrowprops={"arrowstyle": "-|>", "color": "k"})
    ax.set_xticks([])
    ax.set_ylabel("loss")
    ax.set_xlim(-0.8, next_x[0] - 0.2)
    if title:
        ax.set_title(title)
    return ax
