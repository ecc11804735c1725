"""The Ray executor (``executor="ray"``, ``pip install topoloss[ray]``): pairs on a cluster.

Each pair is one Ray task with its own resources (``num_gpus`` for a CUDA landscape, a
fraction of a CPU for small ones). The study's landscape and minima go to the object
store once (:func:`ray.put`); every task optimizes its pair with the same
:func:`~topoloss.paths.optimize.optimize_pairs` as the serial executor and sends the
:class:`~topoloss.paths.record.PathRecord` back. Only the driver hands results to
``on_path``, so only the driver writes the run directory. On a ``stop`` (the engine's
stopping rules) the finished results are collected and the tasks still running cancelled. A task whose worker dies is
run again by Ray (``max_retries``); since each pair draws from its own seeded stream,
the retry gives the same path.

The landscape must be picklable: analytic landscapes and
:class:`~topoloss.landscapes.model.ModelLandscape` built from a picklable model factory
(a registered zoo model or a module-level function) are; a landscape holding a lambda
is not, and the executor says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from topoloss.config import ExecutionConfig
from topoloss.errors import InputError
from topoloss.paths.record import PathRecord

__all__ = ["RayExecutor"]


def _optimize_pair(task: Any, pair: tuple[int, int], threads: int) -> PathRecord:
    """The body of one Ray task: one pair, as the serial executor would optimize it."""
    import torch

    from topoloss.paths.optimize import optimize_pairs

    if threads > 0:
        torch.set_num_threads(threads)
    return optimize_pairs(task.landscape, task.minima, [pair], paths=task.paths, evaluation=task.evaluation,
                          seed=task.seed, progress=False)[0]


class RayExecutor:
    """Runs each pair as a Ray task and collects the paths on the driver.

    Parameters
    ----------
    execution : ExecutionConfig, optional
        ``address`` (``None``: the cluster this process is already connected to, else a
        new local one; ``"auto"``: the cluster started with ``ray start`` on this machine;
        ``"HOST:PORT"``: that head node), ``num_cpus`` and ``num_gpus`` per task
        (default: one GPU for a CUDA landscape, else one CPU) and ``max_retries``.

    Raises
    ------
    InputError
        If Ray is not installed or the landscape cannot be pickled.
    """

    def __init__(self, execution: ExecutionConfig | None = None) -> None:
        self.execution = execution if execution is not None else ExecutionConfig()

    def _resources(self, task: Any) -> dict[str, float]:
        ex = self.execution
        cuda = getattr(task.landscape.device, "type", str(task.landscape.device)) == "cuda"
        num_gpus = ex.num_gpus if ex.num_gpus is not None else (1.0 if cuda else 0.0)
        num_cpus = ex.num_cpus if ex.num_cpus is not None else (0.0 if num_gpus else 1.0)
        return {"num_cpus": float(num_cpus), "num_gpus": float(num_gpus)}

    def run(
        self, task: Any, pairs: Sequence[tuple[int, int]], *,
        progress: bool, on_path: Callable[[PathRecord], object], stop: Callable[[], bool] | None = None,
    ) -> list[PathRecord]:
        try:
            import ray
        except ImportError:
            raise InputError("executor='ray' needs Ray: pip install 'topoloss[ray]'") from None
        import pickle

        from tqdm.auto import tqdm

        if not pairs:
            return []
        try:
            from ray import cloudpickle

            cloudpickle.dumps(task.landscape)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise InputError(f"executor='ray' needs a picklable landscape; {type(task.landscape).__name__} "
                             f"is not ({exc}); build models from a registered name or a module-level "
                             "function, not a lambda") from None
        if not ray.is_initialized():
            ray.init(address=self.execution.address, log_to_driver=False, include_dashboard=False)
        resources = self._resources(task)
        threads = max(1, int(resources["num_cpus"])) if resources["num_cpus"] >= 1 else 1
        remote = ray.remote(_optimize_pair).options(max_retries=self.execution.max_retries, **resources)
        shared = ray.put(task)
        refs = [remote.remote(shared, (int(i), int(j)), threads) for i, j in pairs]
        index = {ref: k for k, ref in enumerate(refs)}
        results: list[PathRecord | None] = [None] * len(refs)
        pending = list(refs)
        with tqdm(total=len(refs), desc="paths (ray)", unit="path", disable=not progress) as bar:
            while pending:
                stopping = stop is not None and stop()
                # on a stop, collect what has finished and cancel the rest; else wait for the next result
                done, pending = (ray.wait(pending, num_returns=len(pending), timeout=0) if stopping
                                 else ray.wait(pending, num_returns=1, timeout=None if stop is None else 1.0))
                for ref in done:
                    path = ray.get(ref)
                    results[index[ref]] = path
                    on_path(path)
                    bar.update(1)
                if stopping:
                    for ref in pending:
                        ray.cancel(ref, force=True)
                    break
        return [p for p in results if p is not None]
