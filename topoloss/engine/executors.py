"""Executors: where the optimization of planned pairs runs.

An executor turns index pairs into :class:`~topoloss.paths.record.PathRecord` records and
hands each one to ``on_path`` as soon as it is finished. It never writes a run
directory: the engine (the driver) stores each result, so resuming works the same
whatever the executor. Pairs are seeded per pair, so every executor gives the same
paths.

Built in: ``serial`` (this process, one group of pairs after another) and ``ray``
(each pair a Ray task on a local or remote cluster, :mod:`topoloss.engine.ray_executor`;
needs ``pip install topoloss[ray]``). Register more with :func:`register_executor`.

The executor contract
---------------------
What the engine (:mod:`topoloss.engine.pipeline`) asks of an executor, and nothing else:

1. ``factory()`` makes a fresh executor per run; a factory that takes an ``execution``
   argument is called as ``factory(execution=...)`` with the study's
   :class:`~topoloss.config.ExecutionConfig` (:func:`make_executor`).
2. ``run(task, pairs, *, progress, on_path)`` optimizes the index ``pairs`` of the
   :class:`PairTask`, calls ``on_path`` with each :class:`~topoloss.paths.record.PathRecord`
   as soon as it is finished, and returns them all (the engine ignores a path handed
   over twice). It never writes the run directory, and gives the paths the ``serial``
   executor gives (each pair is seeded on its own). ``progress`` asks for progress bars.
3. Optionally ``run`` names a keyword ``stop`` (:class:`StoppableExecutor`): a function
   of no arguments; once it returns true the executor starts no new pair, hands every
   path already finished to ``on_path`` and returns those. The engine passes it only to
   an executor whose ``run`` names it (:func:`accepts_stop`; a wrapper taking
   ``**kwargs`` may not pass it on), for the stopping rules (``max_seconds``, ``until``);
   an executor without it is given one pair at a time while such a rule is active.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from topoloss._registry import Registry
from topoloss.config import EvaluationConfig, ExecutionConfig, PathConfig
from topoloss.landscapes.base import Landscape
from topoloss.minima.find import Minima
from topoloss.paths.optimize import optimize_pairs
from topoloss.paths.record import PathRecord

__all__ = ["EXECUTORS", "Executor", "PairTask", "SerialExecutor", "StoppableExecutor", "accepts_stop", "make_executor",
           "register_executor"]


@dataclass(frozen=True)
class PairTask:
    """Everything an executor needs to optimize pairs of one study."""

    landscape: Landscape
    minima: Minima
    paths: PathConfig
    evaluation: EvaluationConfig
    seed: int


class Executor(Protocol):
    """What the engine calls on an executor (the executor contract in :mod:`topoloss.engine.executors`)."""

    def run(
        self, task: PairTask, pairs: Sequence[tuple[int, int]], *,
        progress: bool, on_path: Callable[[PathRecord], object],
    ) -> list[PathRecord]:
        """Optimize ``pairs``; call ``on_path`` with each path as it finishes; return them.

        Parameters
        ----------
        task : PairTask
            The landscape, minima, options and root seed of the study.
        pairs : sequence of (int, int)
            Index pairs of minima, in the planner's order.
        progress : bool
            Show progress bars.
        on_path : callable
            Called with each :class:`~topoloss.paths.record.PathRecord` as soon as it is finished.

        Returns
        -------
        list of PathRecord
            Every path finished, those given to ``on_path`` included.
        """
        ...  # pragma: no cover


class StoppableExecutor(Protocol):
    """An executor whose ``run`` also takes ``stop`` (see :func:`accepts_stop`); it is an
    :class:`Executor` too, since ``stop`` has a default."""

    def run(
        self, task: PairTask, pairs: Sequence[tuple[int, int]], *,
        progress: bool, on_path: Callable[[PathRecord], object], stop: Callable[[], bool] | None = None,
    ) -> list[PathRecord]:
        """:meth:`Executor.run`; once ``stop()`` is true, start no new pair and return the
        paths finished (each also given to ``on_path``)."""
        ...  # pragma: no cover


def accepts_stop(executor: Executor) -> bool:
    """Whether ``executor.run`` names the keyword ``stop`` (a :class:`StoppableExecutor`);
    only then does the engine pass it (``**kwargs`` alone does not count).

    Examples
    --------
    >>> accepts_stop(SerialExecutor())
    True
    """
    from topoloss._specs import accepted_kwargs

    return "stop" in accepted_kwargs(executor.run)[0]


class SerialExecutor:
    """Every pair in this process, in order (pairs grouped where the landscape allows)."""

    def run(
        self, task: PairTask, pairs: Sequence[tuple[int, int]], *,
        progress: bool, on_path: Callable[[PathRecord], object], stop: Callable[[], bool] | None = None,
    ) -> list[PathRecord]:
        return optimize_pairs(task.landscape, task.minima, pairs, paths=task.paths,
                              evaluation=task.evaluation, seed=task.seed, progress=progress,
                              on_path=on_path, stop=stop)


#: Executor factories by name (``() -> Executor``).
EXECUTORS: Registry[Callable[[], Executor]] = Registry("executor")


def register_executor(name: str, factory: Callable[[], Executor], *, replace: bool = False) -> None:
    """Make ``executor=name`` (API, ``[execution]`` in config files, ``--executor``) use
    ``factory()``."""
    EXECUTORS.register(name, factory, replace=replace)


def _ray(execution: ExecutionConfig | None = None) -> Executor:
    from topoloss.engine.ray_executor import RayExecutor

    return RayExecutor(execution)


register_executor("serial", SerialExecutor)
register_executor("ray", _ray)


def make_executor(execution: str | ExecutionConfig) -> Executor:
    """A fresh executor by name, or the one an :class:`~topoloss.config.ExecutionConfig` names
    (passed on to factories that take an ``execution`` argument)."""
    from topoloss._specs import accepted_kwargs

    if isinstance(execution, str):
        execution = ExecutionConfig(executor=execution)
    factory = EXECUTORS.get(execution.executor)
    names, var_kw = accepted_kwargs(factory)
    if "execution" in names or var_kw:
        return factory(execution=execution)  # type: ignore[call-arg]
    return factory()
