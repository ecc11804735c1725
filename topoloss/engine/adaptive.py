"""The adaptive pair planner (``pairs="adaptive"``, SPEC §11): a barcode with O(N) paths.

The barcode depends only on a minimum spanning tree of the true barriers ``B*``. Every
evaluated path is an upper bound of its pair's ``B*`` (the straight segment too) and
``max(L(a), L(b))`` a lower bound. The planner

1. measures a cheap upper bound for *every* pair: the straight segment's loss at
   ``points`` evenly spaced parameters (``landscape.loss`` only, no optimization);
2. **tree rounds**: takes a minimum spanning tree of the current best values (the
   optimized barrier where the pair has a path, else the straight bound) and asks for
   the tree's edges that are not optimized yet; repeats until the tree is made only of
   optimized edges;
3. **verification rounds**: spends the rest of the budget on the pairs most likely to
   change the tree. It predicts each remaining pair's optimized barrier from its
   straight bound, ``lo + r (U - lo)`` with ``lo = max(L(a), L(b))`` and ``r`` the
   smallest ratio ``(B̂ - lo) / (U - lo)`` seen on optimized pairs, and asks for the
   pairs whose prediction falls furthest below the current graph minimax ``M̂(a, b)``
   (or least above it); a pair with ``lo >= M̂(a, b)`` provably cannot change the
   barcode and is never asked for. After each round the tree rounds resume if the tree
   changed;

until no candidate is left or ``budget × N`` paths are planned.

The budget is spent even when every prediction lies above ``M̂``: on networks the
straight segment predicts an optimized barrier poorly (barriers of 0.6-1.2 against
about 0.06 optimized on digits), and stopping there left 8 digits minima 14 % of the
span away from the all-pairs barcode with 11 paths, where spending the budget (24
paths) gave it exactly (``benchmarks/bench_planner.py``, docs/performance.md). Every planned pair goes
through the executor like any other (stored, resumable, seeded per pair); a resumed run
makes the same decisions, because the planner only looks at paths it planned itself.
:meth:`AdaptivePlanner.reasons` says why each pair was planned.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from topoloss._validate import check_int, check_number, check_optional_int
from topoloss.engine.planner_base import BasePlanner, Known
from topoloss.engine.planners import register_planner
from topoloss.errors import InputError

if TYPE_CHECKING:
    from topoloss.engine.executors import PairTask
    from topoloss.minima.find import Minima

__all__ = ["AdaptivePlanner", "minimax_matrix", "straight_bounds"]


def straight_bounds(task: PairTask, *, points: int = 11) -> np.ndarray:
    """Straight-segment barriers of every pair: an ``(N, N)`` upper bound of ``B*``.

    The same evaluation as a record's ``linear_barrier``
    (:func:`topoloss.paths.straight.straight_barriers`), at cheap settings: ``points``
    parameters evenly spaced in arc length, no refinement, no screening.

    Parameters
    ----------
    task : PairTask
        The landscape and the minima.
    points : int
        Parameters on each segment, endpoints included (``>= 2``).

    Returns
    -------
    ndarray, shape (N, N)
        ``max_t L((1 - t) a + t b)`` over the grid, at least ``max(L(a), L(b))``; the
        diagonal holds the minima's losses.
    """
    from topoloss.paths.straight import straight_barriers

    land, minima = task.landscape, task.minima
    n = len(minima)
    out = np.diag(np.asarray(minima.losses, dtype=float)).astype(float)
    iu, ju = np.triu_indices(n, k=1)
    if not len(iu):
        return out
    x = minima.points.to(land.device, land.dtype)
    values = straight_barriers(land, [x[i] for i in iu], [x[j] for j in ju], n_eval=points)
    lo = np.maximum(minima.losses[iu], minima.losses[ju])
    values = np.maximum(values, lo)  # the minima's own losses bound it from below too
    out[iu, ju] = out[ju, iu] = values
    return out


def minimax_matrix(n: int, edges: dict[tuple[int, int], float]) -> np.ndarray:
    """Minimax (bottleneck) distance between all nodes of a weighted graph.

    ``M[a, b]`` is the smallest, over graph paths from ``a`` to ``b``, of the largest
    edge weight (``inf`` between components, ``-inf`` on the diagonal).
    """
    out = np.full((n, n), np.inf)
    np.fill_diagonal(out, -np.inf)
    parts = [[k] for k in range(n)]
    owner = list(range(n))
    for (i, j), w in sorted(edges.items(), key=lambda e: (e[1], e[0])):
        a, b = owner[i], owner[j]
        if a == b:
            continue
        if len(parts[a]) < len(parts[b]):
            a, b = b, a
        pa, pb = parts[a], parts[b]
        out[np.ix_(pa, pb)] = w
        out[np.ix_(pb, pa)] = w
        for k in pb:
            owner[k] = a
        pa.extend(pb)
        parts[b] = []
    return out


def _spanning_tree(weights: np.ndarray) -> list[tuple[int, int]]:
    """Edges ``(i, j)``, ``i < j``, of a minimum spanning tree of the complete graph.

    The weights go to scipy as ranks 1, 2, ... so that zero or tied weights neither read
    as "no edge" nor sum; ties are broken by the pair's index order.
    """
    from scipy.sparse.csgraph import minimum_spanning_tree

    n = weights.shape[0]
    iu, ju = np.triu_indices(n, k=1)
    order = np.lexsort((ju, iu, weights[iu, ju]))
    ranks = np.zeros((n, n))
    ranks[iu[order], ju[order]] = np.arange(1, len(order) + 1)
    tree = minimum_spanning_tree(ranks).tocoo()
    return sorted((int(min(i, j)), int(max(i, j))) for i, j in zip(tree.row, tree.col))


class AdaptivePlanner(BasePlanner):
    """Plans the pairs of a barcode adaptively (SPEC §11); see :mod:`topoloss.engine.adaptive`.

    Parameters
    ----------
    budget : float
        Plan at most ``ceil(budget × N)`` paths (at least one spanning tree, at most all pairs).
    points : int
        Points of each straight segment for the cheap bounds (endpoints included).
    samples : int, optional
        Training samples the cheap bounds are measured on, for landscapes that can
        ``subsample`` (networks); default all. They only rank pairs, so a subsample may
        do: on the digits ``fcn`` (1437 samples, N = 32) 512 gave the planner's exact
        choices, 128 and 256 a barcode 6.5–7 % of the span off instead of 4.7 %.
    batch : int, optional
        Pairs per verification round (default ``max(1, N // 4)``): larger rounds keep
        a parallel executor busy, smaller ones adapt sooner.

    Notes
    -----
    It meets the planner contract (:mod:`topoloss.engine.planner_base`) with every member:
    it needs the landscape (``needs_landscape``), and the engine calls :meth:`bind` with
    the study's :class:`~topoloss.engine.executors.PairTask` before the first
    :meth:`next_pairs`: the cheap bounds need the landscape.

    Examples
    --------
    >>> import topoloss as tl
    >>> land = tl.analytic.get_landscape("gaussian-wells")
    >>> result = tl.analyze(land, pairs="adaptive", steps=40, n_minima=8, progress=False)
    >>> len(result.paths) <= 3 * len(result.minima)
    True
    """

    #: The cheap bounds are measured on the landscape: :meth:`bind` must give it.
    needs_landscape = True

    def __init__(self, *, budget: float = 3.0, points: int = 11, batch: int | None = None,
                 samples: int | None = None) -> None:
        self.budget = check_number(budget, "budget", low=0, strict=True)
        self.points = check_int(points, "points", low=2)
        self.samples = check_optional_int(samples, "samples", low=1)
        self.batch = check_optional_int(batch, "batch", low=1)
        self._task: PairTask | None = None
        self._bounds: np.ndarray | None = None
        self._planned: list[tuple[int, int]] = []
        self._reasons: dict[tuple[int, int], str] = {}
        self._tree_round = self._verify_round = 0

    # -- the engine's interface
    def bind(self, task: PairTask) -> None:
        """Give the planner the landscape and minima it plans for."""
        self._task = task

    def planned(self) -> list[tuple[int, int]]:
        return list(self._planned)

    def capacity(self, n: int) -> int:
        """The most paths planned for ``n`` minima: ``ceil(budget × n)``, at least a spanning
        tree (``n - 1``), at most every pair."""
        return min(n * (n - 1) // 2, max(n - 1, math.ceil(self.budget * n)))

    def reasons(self) -> dict[tuple[int, int], str]:
        """Why each planned pair was planned, e.g. ``"tree round 1 (straight bound 0.53)"``."""
        return dict(self._reasons)

    def bounds(self) -> np.ndarray:
        """The straight-segment bounds measured at the first round (``(N, N)``, read-only)."""
        if self._bounds is None:
            raise InputError("no bounds yet: the planner has not planned a round")
        out = self._bounds.view()
        out.flags.writeable = False
        return out

    def next_pairs(self, minima: Minima, known: Known) -> list[tuple[int, int]]:
        n = len(minima)
        if n < 2:
            return []
        if self._bounds is None:
            if self._task is None:
                raise InputError("pairs='adaptive' needs the landscape: the engine binds it "
                                 "(tl.analyze, tl.connect, topoloss run); call planner.bind(task) first")
            if len(self._task.minima) != n:
                raise InputError("the planner was bound to other minima")
            task = self._task
            if self.samples is not None and hasattr(task.landscape, "subsample"):
                task = replace(task, landscape=task.landscape.subsample(self.samples, seed=task.seed))
            self._bounds = straight_bounds(task, points=self.points)
        room = self.capacity(n) - len(self._planned)
        if room <= 0:
            return []
        done = self._optimized(known)
        if len(done) < len(self._planned):
            raise InputError("the engine must run every planned pair before asking again")
        current = self._bounds.copy()
        for (i, j), b in done.items():
            current[i, j] = current[j, i] = b
        tree = [e for e in _spanning_tree(current) if e not in done]
        if tree:
            self._tree_round += 1
            tree.sort(key=lambda e: (current[e], e))
            new = tree[:room]
            for e in new:
                self._reasons[e] = f"tree round {self._tree_round} (straight bound {current[e]:.6g})"
        else:
            new = self._verification(minima, done, room)
        self._planned += new
        return list(new)

    # -- internals
    def _optimized(self, known: Known) -> dict[tuple[int, int], float]:
        out = {}
        for i, j in self._planned:
            path = known.get(frozenset((i, j)))
            if path is not None:
                out[(i, j)] = float(path.barrier)
        return out

    def _verification(self, minima: Minima, done: dict[tuple[int, int], float], room: int) -> list[tuple[int, int]]:
        assert self._bounds is not None
        n = len(minima)
        losses = np.asarray(minima.losses, dtype=float)
        lo = np.maximum(losses[:, None], losses[None, :])
        excess = self._bounds - lo
        ratios = [max(0.0, b - lo[e]) / excess[e] for e, b in done.items() if excess[e] > 0]
        r = min(ratios) if ratios else 0.0
        predicted = lo + r * np.maximum(excess, 0.0)
        m_hat = minimax_matrix(n, done)
        planned = set(self._planned)
        candidates = []
        for i, j in zip(*np.triu_indices(n, k=1)):
            e = (int(i), int(j))
            if e in planned or lo[e] >= m_hat[e]:
                continue
            candidates.append((-(m_hat[e] - predicted[e]), e))
        if not candidates:
            return []
        self._verify_round += 1
        size = min(room, self.batch if self.batch is not None else max(1, n // 4))
        new = [e for _, e in sorted(candidates)[:size]]
        for e in new:
            self._reasons[e] = (f"verification round {self._verify_round} (predicted {predicted[e]:.6g} "
                                f"{'<' if predicted[e] < m_hat[e] else '>='} minimax {m_hat[e]:.6g}, ratio {r:.3g})")
        return new

    def __repr__(self) -> str:
        return (f"AdaptivePlanner(budget={self.budget}, points={self.points}, batch={self.batch}"
                + (f", samples={self.samples})" if self.samples is not None else ")"))


register_planner("adaptive", AdaptivePlanner)
