"""The disconnectivity graph (merge tree) of the minima, in the style of pele."""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np
from matplotlib.axes import Axes

from topoloss.topology.barcode import Barcode

__all__ = ["MergeNode", "merge_tree", "plot_disconnectivity"]


@dataclass
class MergeNode:
    """A node of the merge tree: a minimum (leaf) or the saddle where basins join."""

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

    Bars are merged in order of death: at level ``d`` the basin of a minimum joins the
    basin of the minimum it ``merges_into``.
    """
    root: dict[Hashable, MergeNode] = {n: MergeNode(float(b), n) for n, b in zip(barcode.names, barcode.intervals[:, 0])}
    owner: dict[Hashable, Hashable] = {n: n for n in barcode.names}  # name -> representative

    def find(n: Hashable) -> Hashable:
        while owner[n] != n:
            owner[n] = owner[owner[n]]
            n = owner[n]
        return n

    finite = [bar for bar in barcode.bars() if math.isfinite(bar.death)]
    for bar in sorted(finite, key=lambda b: b.death):
        a, b = find(bar.name), find(bar.merges_into)
        if a == b:
            continue
        node = MergeNode(bar.death, None, [root[a], root[b]])
        owner[a] = b
        root[b] = node
        del root[a]
    return sorted(root.values(), key=lambda r: r.lowest)


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
