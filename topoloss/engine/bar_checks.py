"""How far each bar of a barcode can be trusted when not every pair was connected (SPEC §11).

Every evaluated path bounds its pair's true barrier from above, so every death of the
barcode is an upper bound of the true death, and an unconnected pair can only *lower*
deaths. For the bar of a minimum ``m`` that dies at ``d``, let ``C`` be the minima joined
to ``m`` below ``d`` (through edges of barrier ``< d``). An unconnected pair can lower
that death only if it joins ``C`` to a minimum outside ``C`` with a barrier below ``d``.
Given a lower bound ``ℓ(a, b)`` of an unconnected pair's barrier, the pairs ``(a, b)``,
``a`` in ``C``, ``b`` outside, not connected, with ``ℓ(a, b) < d`` are the only ones that
could (a count that over- rather than under-states). An essential bar (``d = inf``)
counts every unconnected pair that leaves its component.

Two kinds of ``ℓ`` (docs/spec.md, "Bar checks: certified and estimated"):

- **sound**: ``max(L(a), L(b))``, true of every landscape. A bar with no pair below it
  is *certified* (:attr:`BarCheck.certified`): no further path can change it. On a
  network this bound is far below every barrier, so few bars are certified there; and
  no sound bound can be tighter without knowing the loss everywhere (a thin tunnel at
  height ``max(L(a), L(b))`` may pass between the points any finite computation saw).
- **estimated** (``estimate=``): a rule that extrapolates from the paths already
  evaluated, under an assumption stated with it (:data:`ESTIMATES`). A bar with no pair
  below it is *estimated final* (``status == "estimated"``), never called certified:
  replays on stored all-pairs runs found bars that ``"ratio"`` called final lowered by a
  pair left out, and ``"excess"`` rests on an assumption too
  (``benchmarks/replay_planner.py --checks``, docs/many-minima.md).
  ``"excess"`` needs only the graph; ``"ratio"`` also the straight-segment bounds of
  every pair (the adaptive planner's, kept in ``Analysis.straight_bounds`` and
  ``plan.json``), and is the one used where they exist (``estimate="auto"``).

With ``pairs="all"`` every bar is certified. :func:`check_bars` also says whether the
killing path fell back to the straight segment (its optimization failed).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from topoloss._validate import check_choice, finite_or_none
from topoloss.errors import InputError
from topoloss.topology.barcode import Barcode
from topoloss.topology.graph import LandscapeGraph

__all__ = ["ESTIMATES", "STATUSES", "BarCheck", "check_bars", "estimated_lower_bounds", "summarize_checks"]

#: Estimate rules for unconnected pairs and the assumption each makes (docs/spec.md).
ESTIMATES: dict[str, str] = {
    "excess": "no pair left out has a barrier closer above max(L(a), L(b)) than the smallest such "
              "excess among the paths evaluated",
    "ratio": "no pair left out has an optimized barrier lower, relative to its straight segment "
             "(B - max(L)) / (U - max(L)), than the smallest such ratio among the paths evaluated",
}

#: The values of :attr:`BarCheck.status`.
STATUSES = ("certified", "estimated", "open")

Estimate = Literal["excess", "ratio"]


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
        Unconnected pairs that could still lower the death under the sound bound
        ``max(L(a), L(b))`` (0: certified).
    estimated_open_pairs : int or None
        Unconnected pairs that could still lower the death under the estimate rule
        :attr:`rule` (never more than ``open_pairs``); ``None`` without an estimate.
    rule : str or None
        The estimate rule (a key of :data:`ESTIMATES`), ``None`` without one.
    """

    name: Hashable
    death: float
    saddle: tuple[Hashable, Hashable] | None
    fallback: bool
    open_pairs: int
    estimated_open_pairs: int | None = None
    rule: str | None = None

    @property
    def certified(self) -> bool:
        """No unconnected pair can lower this bar's death (a proof, not an estimate)."""
        return self.open_pairs == 0

    @property
    def status(self) -> str:
        """``"certified"`` (proved final), ``"estimated"`` (final under the estimate rule
        only, which can be wrong) or ``"open"``."""
        if self.certified:
            return "certified"
        return "estimated" if self.estimated_open_pairs == 0 else "open"

    def label(self) -> str:
        """The status for a table: ``certified``, ``estimate (excess)`` or ``open``."""
        return f"estimate ({self.rule})" if self.status == "estimated" else self.status

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every field, ``death`` ``None`` when infinite, plus ``status`` and ``certified``."""
        return {"name": self.name, "death": finite_or_none(self.death),
                "saddle": None if self.saddle is None else list(self.saddle), "fallback": self.fallback,
                "open_pairs": self.open_pairs, "estimated_open_pairs": self.estimated_open_pairs,
                "rule": self.rule, "status": self.status, "certified": self.certified}


def estimated_lower_bounds(
    graph: LandscapeGraph, rule: Estimate = "excess", *, straight: np.ndarray | None = None
) -> np.ndarray:
    """The estimate rule's lower bound of every pair's barrier, an ``(N, N)`` matrix in node order.

    Parameters
    ----------
    graph : LandscapeGraph
        The evaluated paths (its edges) and the minima's losses.
    rule : {"excess", "ratio"}
        ``"excess"``: ``max(L(a), L(b)) + e``, ``e`` the smallest ``B - max(L(u), L(v))``
        over the graph's edges. ``"ratio"``: ``max(L(a), L(b)) + r (U(a, b) - max(L(a), L(b)))``,
        ``r`` the smallest ``(B - max(L)) / (U - max(L))`` over the edges, ``U`` the
        straight-segment bounds.
    straight : ndarray of shape (N, N), optional
        Straight-segment barriers of every pair in node order (needed by ``"ratio"``):
        e.g. ``AdaptivePlanner.bounds()``.

    Returns
    -------
    ndarray
        Never below ``max(L(a), L(b))``; equal to it where the graph has no edge to learn from.

    Examples
    --------
    >>> from topoloss import LandscapeGraph
    >>> inf = float("inf")
    >>> g = LandscapeGraph.from_barriers([0.0, 0.5, 0.2], [[0, 1.0, inf], [1.0, 0, 0.7], [inf, 0.7, 0]])
    >>> round(float(estimated_lower_bounds(g)[0, 2]), 6)  # max(0, 0.2) + the smallest excess, 0.7 - 0.5
    0.4
    """
    check_choice(rule, "estimate", tuple(ESTIMATES))
    losses = graph.losses()
    n = len(losses)
    low = np.maximum(losses[:, None], losses[None, :])
    edges, w = graph.edge_arrays()
    i, j = (edges[:, 0], edges[:, 1]) if len(edges) else (np.zeros(0, int), np.zeros(0, int))
    excess = np.maximum(w - low[i, j], 0.0)
    if rule == "excess":
        out = low + (float(excess.min()) if len(excess) else 0.0)
    else:
        if straight is None:
            raise InputError("estimate='ratio' needs straight=, the straight-segment bounds of every pair "
                             "(the adaptive planner's bounds())")
        u = np.asarray(straight, dtype=float)
        if u.shape != (n, n) or np.isnan(u).any():
            raise InputError(f"straight: expected an ({n}, {n}) matrix without NaN, got shape {u.shape}")
        span = u[i, j] - low[i, j]
        ratios = excess[span > 0] / span[span > 0]
        r = min(1.0, float(ratios.min())) if len(ratios) else 0.0
        out = low + r * np.maximum(u - low, 0.0)
    np.fill_diagonal(out, losses)
    return out


def check_bars(
    graph: LandscapeGraph, barcode: Barcode, fallbacks: Iterable[tuple[Hashable, Hashable]] = (),
    *, estimate: Literal["auto", "excess", "ratio"] | None = "auto", straight: np.ndarray | None = None,
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
    estimate : {"auto", "excess", "ratio"} or None
        The estimate rule for :attr:`BarCheck.estimated_open_pairs` (see
        :func:`estimated_lower_bounds`); ``"auto"``: ``"ratio"`` when ``straight`` is
        given, else ``"excess"``; ``None``: certification only.
    straight : ndarray of shape (N, N), optional
        Straight-segment bounds in node order, for ``estimate="ratio"``.

    Returns
    -------
    tuple of BarCheck
        In the barcode's order. Costs ``O(N^2)`` per bar.

    Examples
    --------
    >>> from topoloss import LandscapeGraph, loss_barcode
    >>> inf = float("inf")
    >>> g = LandscapeGraph.from_barriers([0.0, 0.5, 0.2], [[0, 1.0, inf], [1.0, 0, 0.7], [inf, 0.7, 0]])
    >>> [(c.name, c.open_pairs, c.status) for c in check_bars(g, loss_barcode(g))]
    [(0, 0, 'certified'), (1, 0, 'certified'), (2, 1, 'open')]
    """
    names = list(graph.nodes)
    index = {name: k for k, name in enumerate(names)}
    losses = graph.losses()
    weight = graph.barrier_matrix()
    np.fill_diagonal(weight, np.inf)
    linked = np.isfinite(weight)
    np.fill_diagonal(linked, True)
    low = np.maximum(losses[:, None], losses[None, :])
    if estimate == "auto":
        estimate = "excess" if straight is None else "ratio"
    guess = None
    if estimate is not None:
        guess = np.maximum(estimated_lower_bounds(graph, estimate, straight=straight), low)
    failed = {frozenset(p) for p in fallbacks}
    out = []
    for name, (_, death), saddle in zip(barcode.names, barcode.intervals, barcode.saddles):
        inside = _reached(weight < death, index[name])
        cross = inside[:, None] & ~inside[None, :] & ~linked
        out.append(BarCheck(name=name, death=float(death), saddle=saddle,
                            fallback=saddle is not None and frozenset(saddle) in failed,
                            open_pairs=int((cross & (low < death)).sum()),
                            estimated_open_pairs=None if guess is None else int((cross & (guess < death)).sum()),
                            rule=estimate))
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
    """One line: how many bars are certified, how many are final by estimate only, how many
    pairs could still lower the rest.

    Examples
    --------
    >>> inf = float("inf")
    >>> checks = [BarCheck(0, inf, None, False, 0, 0, "excess"), BarCheck(1, 0.7, (1, 0), False, 3, 0, "excess"),
    ...           BarCheck(2, 0.9, (2, 0), False, 4, 1, "excess")]
    >>> print(*summarize_checks(checks).split("; "), sep="\\n")
    bars certified: 1 of 3
    1 more final by estimate only (rule 'excess', not certified)
    the other 1 could in principle be lowered by pairs left out (up to 4 for one bar)
    """
    checks = list(checks)
    certified = sum(c.certified for c in checks)
    estimated = [c for c in checks if c.status == "estimated"]
    open_bars = [c for c in checks if c.status == "open"]
    fallback = sum(c.fallback for c in checks)
    rules = sorted({str(c.rule) for c in estimated})
    text = (f"bars certified: {certified} of {len(checks)}"
            + (f"; {len(estimated)} more final by estimate only (rule {', '.join(map(repr, rules))}, "
               "not certified)" if estimated else "")
            + (f"; the other {len(open_bars)} could in principle be lowered by pairs left out "
               f"(up to {max(c.open_pairs for c in open_bars)} for one bar)" if open_bars else ""))
    return text + (f"; {fallback} killed by a straight-segment fallback" if fallback else "")
