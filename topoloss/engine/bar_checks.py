"""How far each bar of a barcode can be trusted when not every pair was connected (SPEC §11).

Every evaluated path bounds its pair's true barrier from above, so every death of the
barcode is an upper bound of the true death, and an unconnected pair can only *lower*
deaths. For the bar of a minimum ``m`` that dies at ``d``, let ``C`` be the minima joined
to ``m`` below ``d`` (through edges of barrier ``< d``). An unconnected pair can lower
that death only if it joins ``C`` to a minimum outside ``C`` with a barrier below ``d``,
and its barrier is at least ``max(L(a), L(b))``; so the pairs ``(a, b)``, ``a`` in ``C``,
``b`` outside, not connected, with ``max(L(a), L(b)) < d`` are the only ones that could
(a count that over- rather than under-states). A bar with none is *certified*: no
further path can change it. An essential bar (``d = inf``) counts every unconnected pair
that leaves its component.

With ``pairs="all"`` every bar is certified. :func:`check_bars` also says whether the
killing path fell back to the straight segment (its optimization failed).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np

from topoloss.topology.barcode import Barcode
from topoloss.topology.graph import LandscapeGraph

__all__ = ["BarCheck", "check_bars", "summarize_checks"]


@dataclass(frozen=True)
class BarCheck:
    """The check of one bar.

    Attributes
    ----------
    name : hashable
        The minimum.
    death : float
        Its death (``inf`` for an essential bar).
    saddle : tuple or None
        The killing edge, ``None`` for an essential bar.
    fallback : bool
        Whether the killing path is the straight segment after a failed optimization.
    open_pairs : int
        Unconnected pairs that could still lower the death (0: certified).
    """

    name: Hashable
    death: float
    saddle: tuple[Hashable, Hashable] | None
    fallback: bool
    open_pairs: int

    @property
    def certified(self) -> bool:
        """No unconnected pair can lower this bar's death."""
        return self.open_pairs == 0


def check_bars(
    graph: LandscapeGraph, barcode: Barcode, fallbacks: Iterable[tuple[Hashable, Hashable]] = ()
) -> tuple[BarCheck, ...]:
    """Check every bar of ``barcode``, the loss barcode of ``graph``.

    Parameters
    ----------
    graph : LandscapeGraph
        The graph the barcode was computed from.
    barcode : Barcode
        Its barcode.
    fallbacks : iterable of (u, v)
        Pairs whose path fell back to the straight segment.

    Returns
    -------
    tuple of BarCheck
        In the barcode's order. Costs ``O(N^2)`` per bar.

    Examples
    --------
    >>> from topoloss import LandscapeGraph, loss_barcode
    >>> inf = float("inf")
    >>> g = LandscapeGraph.from_barriers([0.0, 0.5, 0.2], [[0, 1.0, inf], [1.0, 0, 0.7], [inf, 0.7, 0]])
    >>> [(c.name, c.open_pairs) for c in check_bars(g, loss_barcode(g))]
    [(0, 0), (1, 0), (2, 1)]
    """
    names = list(graph.nodes)
    index = {name: k for k, name in enumerate(names)}
    n = len(names)
    losses = np.array([graph.loss(name) for name in names], dtype=float)
    weight = np.full((n, n), np.inf)
    for u, v in graph.edges:
        weight[index[u], index[v]] = weight[index[v], index[u]] = graph.barrier(u, v)
    linked = np.isfinite(weight)
    np.fill_diagonal(linked, True)
    low = np.maximum(losses[:, None], losses[None, :])
    failed = {frozenset(p) for p in fallbacks}
    out = []
    for name, (_, death), saddle in zip(barcode.names, barcode.intervals, barcode.saddles):
        inside = _reached(weight < death, index[name])
        cross = inside[:, None] & ~inside[None, :] & ~linked & (low < death)
        out.append(BarCheck(name=name, death=float(death), saddle=saddle,
                            fallback=saddle is not None and frozenset(saddle) in failed,
                            open_pairs=int(cross.sum())))
    return tuple(out)


def _reached(adjacent: np.ndarray, start: int) -> np.ndarray:
    """Nodes reachable from ``start`` in the graph of the boolean matrix ``adjacent``."""
    seen = np.zeros(adjacent.shape[0], dtype=bool)
    seen[start] = True
    frontier = seen.copy()
    while frontier.any():
        frontier = adjacent[frontier].any(axis=0) & ~seen
        seen |= frontier
    return seen


def summarize_checks(checks: Iterable[BarCheck]) -> str:
    """One line: how many bars are certified, how many pairs could still lower the rest."""
    checks = list(checks)
    open_bars = [c for c in checks if not c.certified]
    fallback = sum(c.fallback for c in checks)
    text = (f"bars certified: {len(checks) - len(open_bars)} of {len(checks)}"
            + (f"; the other {len(open_bars)} could in principle be lowered by pairs left out "
               f"(up to {max(c.open_pairs for c in open_bars)} for one bar)" if open_bars else ""))
    return text + (f"; {fallback} killed by a straight-segment fallback" if fallback else "")
