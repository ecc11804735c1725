"""The planner contract: what the engine asks of a pair planner, and its defaults.

What the engine (:mod:`topoloss.engine.pipeline`, :mod:`topoloss.engine.progress`) asks
of a planner, in the order it asks it (:class:`Planner` declares each member):

1. ``factory(**options)`` makes a fresh planner per run (``options`` from a spec such as
   ``adaptive:budget=2``); :func:`~topoloss.engine.planners.make_planner` turns it into a complete :class:`Planner`.
2. ``needs_landscape`` (bool) is read first: a planner that measures the landscape is
   refused by :func:`~topoloss.engine.planners.select_pairs` without one.
3. ``bind(task)`` is called once, before the first ``next_pairs``, with the study's
   :class:`~topoloss.engine.executors.PairTask` (landscape, minima, options, seed).
4. ``next_pairs(minima, known)`` is called once per round, with every path known so far;
   it returns the index pairs to optimize now, and ``[]`` ends the planning. The engine
   runs every pair it returns (reading known ones back) before it asks again.
5. ``planned()`` gives every pair planned so far, in order: the edges of the graph; read
   after every path and at the end.
6. ``reasons()`` says why each planned pair was planned (``{(i, j): text}``), for
   ``progress.json`` and ``plan.json``; read after every path and at the end.
7. ``capacity(n)`` is the most paths the planner will plan for ``n`` minima, or ``None``
   when it does not know in advance (the engine then counts what it planned).
8. ``bounds()`` is read once at the end: the straight-segment bounds of every pair it
   measured (an ``(N, N)`` array), or ``None`` for a planner that measures none.

Only ``next_pairs`` and ``planned`` are required: :class:`BasePlanner` holds the
defaults of the others (no landscape, nothing to bind, reasons ``{}``, capacity
``None``, no bounds), and :func:`~topoloss.engine.planners.make_planner` completes a planner that defines only
the two required methods with those defaults, so the engine calls every member
unconditionally. The adaptive planner registers itself from
:mod:`topoloss.engine.adaptive` (imported with :mod:`topoloss.engine`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from topoloss.engine.executors import PairTask
    from topoloss.minima.find import Minima
    from topoloss.paths.record import PathRecord

__all__ = ["BasePlanner", "Known", "Planner", "as_planner"]

#: Known paths by unordered index pair.
Known = Mapping[frozenset[int], "PathRecord"]


class Planner(Protocol):
    """What the engine calls on a planner (the planner contract in :mod:`topoloss.engine.planners`).

    Attributes
    ----------
    needs_landscape : bool
        Whether the planner measures the landscape (its :meth:`bind` must come before
        :meth:`next_pairs`); read by :func:`~topoloss.engine.planners.select_pairs`, which refuses such a planner
        without a landscape.
    """

    needs_landscape: bool

    def bind(self, task: PairTask) -> None:
        """Receive the study before the first :meth:`next_pairs`.

        Parameters
        ----------
        task : PairTask
            The landscape, minima, path and evaluation options and root seed.

        The engine calls it once per run, always; :func:`~topoloss.engine.planners.select_pairs` calls it when it
        is given a landscape.
        """
        ...  # pragma: no cover

    def next_pairs(self, minima: Minima, known: Known) -> list[tuple[int, int]]:
        """The index pairs to optimize now.

        Parameters
        ----------
        minima : Minima
            The minima (the nodes).
        known : mapping
            Every path known so far, by ``frozenset({i, j})``.

        Returns
        -------
        list of (int, int)
            Pairs to optimize in this round (pairs already known are read back by the
            engine, not optimized again); an empty list ends the planning. The engine
            runs every returned pair before it calls again.
        """
        ...  # pragma: no cover

    def planned(self) -> list[tuple[int, int]]:
        """Every pair planned so far, in order: the edges of the graph.

        Read after each path (the progress record) and at the end (the result's paths).
        """
        ...  # pragma: no cover

    def reasons(self) -> dict[tuple[int, int], str]:
        """Why each planned pair was planned, by pair (a pair left out gets ``""``).

        Read after each path (``progress.json``) and at the end (``plan.json``).
        """
        ...  # pragma: no cover

    def capacity(self, n: int) -> int | None:
        """The most paths this planner plans for ``n`` minima, or ``None`` if it does not
        know in advance (the engine then counts the pairs :meth:`planned` gives).

        Read after each path, for ``paths_planned`` and the end of the plan.
        """
        ...  # pragma: no cover

    def bounds(self) -> np.ndarray | None:
        """The straight-segment bounds of every pair (``(N, N)``, minima order), or ``None``
        for a planner that measures none.

        Read once at the end (through :func:`~topoloss.engine.planners.planner_bounds`, which also reads an
        :class:`~topoloss.errors.InputError`, raised before a first round, as ``None``)
        for the bar checks' ``"ratio"`` estimate and ``plan.json``.
        """
        ...  # pragma: no cover


class BasePlanner:
    """The defaults of the optional members of the planner contract (:class:`Planner`).

    A subclass implements :meth:`next_pairs` and :meth:`planned`; it needs no landscape,
    binds nothing, gives no reasons, no capacity and no bounds unless it overrides them.
    """

    #: Whether :meth:`bind` must give the planner a landscape before it plans.
    needs_landscape: bool = False

    def bind(self, task: PairTask) -> None:
        """Nothing to bind: a planner that needs no landscape ignores the study."""

    def next_pairs(self, minima: Minima, known: Known) -> list[tuple[int, int]]:  # pragma: no cover
        raise NotImplementedError

    def planned(self) -> list[tuple[int, int]]:  # pragma: no cover
        raise NotImplementedError

    def reasons(self) -> dict[tuple[int, int], str]:
        """No reasons: ``{}``."""
        return {}

    def capacity(self, n: int) -> int | None:
        """Not known in advance: ``None`` (the engine counts the pairs planned)."""
        return None

    def bounds(self) -> np.ndarray | None:
        """No straight-segment bounds: ``None``."""
        return None


class _Completed(BasePlanner):
    """A planner that defines only some optional members, completed with the defaults of
    :class:`BasePlanner` (made by :func:`as_planner`; other attributes are the planner's)."""

    def __init__(self, planner: Any) -> None:
        self.planner = planner
        # a planner written before ``needs_landscape`` said so by having ``bind``
        self.needs_landscape = bool(getattr(planner, "needs_landscape", hasattr(planner, "bind")))
        for name in ("bind", "reasons", "capacity", "bounds"):
            own = getattr(planner, name, None)
            if callable(own):
                setattr(self, name, own)

    def next_pairs(self, minima: Minima, known: Known) -> list[tuple[int, int]]:
        return self.planner.next_pairs(minima, known)  # type: ignore[no-any-return]

    def planned(self) -> list[tuple[int, int]]:
        return self.planner.planned()  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        if name == "planner":  # not set yet (e.g. while unpickling)
            raise AttributeError(name)
        return getattr(self.planner, name)

    def __repr__(self) -> str:
        return repr(self.planner)


_MEMBERS = ("needs_landscape", "bind", "next_pairs", "planned", "reasons", "capacity", "bounds")


def as_planner(planner: Any) -> Planner:
    """``planner`` as a complete :class:`Planner`: itself if it has every member, else
    wrapped with the defaults of :class:`BasePlanner` for the members it lacks.

    Examples
    --------
    >>> class Once:
    ...     def next_pairs(self, minima, known):
    ...         return []
    ...     def planned(self):
    ...         return []
    >>> p = as_planner(Once())
    >>> p.needs_landscape, p.reasons(), p.capacity(4), p.bounds()
    (False, {}, None, None)
    """
    if isinstance(planner, BasePlanner) or all(hasattr(planner, name) for name in _MEMBERS):
        return planner  # type: ignore[no-any-return]
    return _Completed(planner)
