"""Pair planners: which pairs of minima the engine optimizes next.

A planner sees the minima and the paths known so far and returns the next index pairs
to optimize; the engine runs them and asks again until a planner returns nothing. The
static planners name every pair at once:

- ``all``: every pair (the barcode of the complete graph);
- ``mst``: the Euclidean minimum spanning tree of the minima (N−1 pairs);
- ``nearest``: each minimum with its nearest neighbour, plus the shortest Euclidean
  edges that join the components this leaves (a Euclidean minimum spanning tree of
  the components), so the graph is always connected;
- ``adaptive``: :class:`~topoloss.engine.adaptive.AdaptivePlanner`, a barcode-aware
  planner that reaches the all-pairs barcode with O(N) paths (SPEC §11); options as a
  spec, e.g. ``adaptive:budget=2,points=11``;
- an explicit list of pairs of minima names or indices.

Register a static strategy with :func:`register_pairs` (a function of the minima) or a
planner that adapts to what it learns with :func:`register_planner`.

The contract every planner meets is in :mod:`topoloss.engine.planner_base`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from topoloss._registry import Registry
from topoloss._specs import check_kwargs, parse_spec
from topoloss.engine.planner_base import BasePlanner, Known, Planner, as_planner
from topoloss.errors import InputError

if TYPE_CHECKING:
    from topoloss.minima.find import Minima

__all__ = [
    "PLANNERS",
    "BasePlanner",
    "Planner",
    "StaticPlanner",
    "as_planner",
    "make_planner",
    "planner_bounds",
    "register_pairs",
    "register_planner",
    "select_pairs",
]

#: A pair strategy maps the minima to index pairs ``(i, j)``, ``i != j``.
PairStrategy = Callable[["Minima"], Sequence[tuple[Hashable, Hashable]]]


class StaticPlanner(BasePlanner):
    """Plans a fixed set of pairs in one round (the built-in strategies and explicit pairs).

    It needs no landscape, binds nothing, gives no capacity (the engine counts the pairs
    it planned) and measures no bounds: the no-op members of :class:`BasePlanner`.

    Parameters
    ----------
    pairs : callable or sequence of pairs
        A strategy ``minima -> pairs`` or explicit pairs of names or indices.
    name : str, optional
        The strategy's registered name (for :meth:`reasons`).
    """

    def __init__(self, pairs: PairStrategy | Sequence[tuple[Hashable, Hashable]], *, name: str | None = None) -> None:
        self._pairs = pairs
        self._name = name
        self._planned: list[tuple[int, int]] | None = None

    def next_pairs(self, minima: Minima, known: Known) -> list[tuple[int, int]]:
        if self._planned is not None:
            return []
        raw = self._pairs(minima) if callable(self._pairs) else self._pairs
        self._planned = select_pairs(minima, raw)
        return list(self._planned)

    def planned(self) -> list[tuple[int, int]]:
        return list(self._planned or [])

    def reasons(self) -> dict[tuple[int, int], str]:
        """Why each pair was planned: the static strategy (or the explicit list) named it."""
        why = f"strategy {self._name!r}" if self._name else "listed explicitly"
        return {pair: why for pair in self.planned()}


#: Planner factories by name (``() -> Planner``): see :func:`register_planner`.
PLANNERS: Registry[Callable[[], Planner]] = Registry("pair strategy")


def register_planner(name: str, factory: Callable[[], Planner], *, replace: bool = False) -> None:
    """Make ``pairs=name`` (API, config files, ``--pairs``) use ``factory()``, a fresh
    :class:`Planner` per run."""
    if not callable(factory):
        raise InputError(f"planner {name!r} must be a callable returning a Planner, got {factory!r}")
    PLANNERS.register(name, factory, replace=replace)


def register_pairs(name: str, strategy: PairStrategy, *, replace: bool = False) -> None:
    """Make ``pairs=name`` use the static strategy ``strategy(minima) -> [(i, j), ...]``.

    Examples
    --------
    >>> register_pairs("chain", lambda m: [(i, i + 1) for i in range(len(m) - 1)])
    >>> PLANNERS.unregister("chain")
    """
    if not callable(strategy):
        raise InputError(f"pair strategy {name!r} must be callable, got {strategy!r}")
    register_planner(name, lambda: StaticPlanner(strategy, name=name), replace=replace)


def _all_pairs(minima: Minima) -> list[tuple[int, int]]:
    n = len(minima)
    return [(i, j) for i in range(n) for j in range(i + 1, n)]


def _mst_pairs(minima: Minima) -> list[tuple[int, int]]:
    from scipy.sparse.csgraph import minimum_spanning_tree

    d = minima.distances()
    # zero distances would read as "no edge"; duplicates are separated by a tiny weight
    tree = minimum_spanning_tree(np.where(d > 0, d, 1e-300)).tocoo()
    return sorted((int(min(i, j)), int(max(i, j))) for i, j in zip(tree.row, tree.col))


def _nearest_pairs(minima: Minima) -> list[tuple[int, int]]:
    """Each minimum with its nearest neighbour, then the shortest edges joining components.

    The nearest-neighbour graph alone can fall apart (three clusters of minima give three
    components and an infinite barcode); Kruskal's algorithm on the Euclidean distances,
    started from those components, adds the fewest and shortest edges that connect them.
    """
    d = minima.distances()
    np.fill_diagonal(d, np.inf)
    n = len(minima)
    if n < 2:
        return []
    near = np.argmin(d, axis=1)
    pairs = {(int(min(i, j)), int(max(i, j))) for i, j in enumerate(near)}
    owner = list(range(n))

    def root(k: int) -> int:
        while owner[k] != k:
            owner[k] = owner[owner[k]]
            k = owner[k]
        return k

    for i, j in pairs:
        owner[root(i)] = root(j)
    iu, ju = np.triu_indices(n, k=1)
    for k in np.lexsort((ju, iu, d[iu, ju])):
        i, j = int(iu[k]), int(ju[k])
        if root(i) != root(j):
            owner[root(i)] = root(j)
            pairs.add((i, j))
    return sorted(pairs)


register_pairs("all", _all_pairs)
register_pairs("mst", _mst_pairs)
register_pairs("nearest", _nearest_pairs)


def make_planner(pairs: str | Sequence[tuple[Hashable, Hashable]] | Planner) -> Planner:
    """A fresh planner for ``pairs``: a registered name (with options as a spec, e.g.
    ``adaptive:budget=2``), explicit pairs, or a planner.

    The planner comes back complete (:func:`~topoloss.engine.planner_base.as_planner`): one
    that defines only ``next_pairs`` and ``planned`` gets the defaults of the other members
    of the contract (:mod:`topoloss.engine.planner_base`).

    Examples
    --------
    >>> make_planner("adaptive:budget=2")
    AdaptivePlanner(budget=2.0, points=11, batch=None)
    """
    if isinstance(pairs, str):
        name, options = (pairs, {}) if pairs in PLANNERS else parse_spec(pairs, example="adaptive:budget=3")
        if name not in PLANNERS:
            raise InputError(f"pairs={pairs!r}: unknown pair strategy; expected one of "
                             f"{', '.join(PLANNERS.names())} or a list of pairs of minima")
        factory = PLANNERS.get(name)
        if options:
            check_kwargs(f"pair strategy {name!r}", factory, options)
        return as_planner(factory(**options))
    if hasattr(pairs, "next_pairs"):  # a planner object
        return as_planner(pairs)
    return StaticPlanner(list(pairs))  # type: ignore[arg-type]


def planner_bounds(planner: Planner) -> np.ndarray | None:
    """The straight-segment bounds of every pair that ``planner`` measured (an ``(N, N)``
    copy), or ``None`` for a planner that measures none (static ones, or before its first round).

    The bar checks' ``"ratio"`` estimate reads them (:mod:`topoloss.engine.bar_checks`).
    """
    try:
        bounds = planner.bounds()
    except InputError:  # no round planned yet (fewer than two minima)
        return None
    return None if bounds is None else np.array(bounds, dtype=float)


def select_pairs(minima: Minima, pairs: Any = "all", *, landscape: Any = None) -> list[tuple[int, int]]:
    """Resolve ``pairs`` (a strategy name or explicit pairs of names/indices) to indices.

    Explicit pairs keep their order and direction; repeated unordered pairs are dropped.
    A planner that measures the landscape (``"adaptive"``, the default strategy of a study)
    needs ``landscape``; it plans later rounds from the paths it has optimized, so what
    comes back is its *first* round (for ``"adaptive"``: a minimum spanning tree of the
    straight-segment bounds, SPEC §11). The whole adaptive plan is what
    :func:`topoloss.connect` or :func:`topoloss.analyze` with ``pairs="adaptive"`` optimize.

    Parameters
    ----------
    minima : Minima
        The minima to pair.
    pairs : str or sequence of pairs
        A strategy spec (``"all"``, ``"mst"``, ``"nearest"``, ``"adaptive:budget=2"``, ...)
        or explicit pairs of minima names or indices.
    landscape : Landscape, optional
        The loss, for planners that measure it (``"adaptive"``).

    Raises
    ------
    InputError
        For an unknown strategy or minimum, a pair of a minimum with itself, or a planner
        that needs the landscape when ``landscape`` is not given (the message says how).
    """
    if isinstance(pairs, str):
        planner = make_planner(pairs)
        if planner.needs_landscape and landscape is None:
            raise InputError(f"pairs={pairs!r} measures the landscape: call select_pairs(minima, {pairs!r}, "
                             f"landscape=...) for its first round, or tl.connect(landscape, minima, "
                             f"pairs={pairs!r}) for the whole adaptive plan")
        if landscape is not None:
            from topoloss.config import EvaluationConfig, PathConfig
            from topoloss.engine.executors import PairTask

            planner.bind(PairTask(landscape, minima, PathConfig(), EvaluationConfig(), 0))
        return planner.next_pairs(minima, {})
    out: list[tuple[int, int]] = []
    seen: set[frozenset[int]] = set()
    for pair in pairs:
        try:
            u, v = pair
        except (TypeError, ValueError):
            raise InputError(f"pair {pair!r} is not a pair of minima") from None
        i, j = minima.index(u), minima.index(v)
        if i == j:
            raise InputError(f"pair {pair!r} joins minimum {minima.names[i]!r} with itself")
        if frozenset((i, j)) not in seen:
            seen.add(frozenset((i, j)))
            out.append((i, j))
    return out
