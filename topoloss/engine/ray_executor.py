"""The Ray executor (``executor="ray"``, ``pip install topoloss[ray]``): pairs on a cluster.

Each group of pairs that the serial executor would optimize together is one Ray task
with its own resources (``num_gpus`` for a CUDA landscape, a fraction of a CPU for small
ones): one pair per task, except on small full-batch landscapes, where the pairs of a
planning round are trained together (``group``; set ``group = 1`` to spread every pair).
So each task runs the very computation the serial executor runs, and the paths are
bit-identical to serial ones (on CPU, with the same number of torch threads). The
study's landscape and minima go to the object store once (:func:`ray.put`); every task
optimizes its pairs with the same
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

from topoloss._progress import progress_bar
from topoloss.config import ExecutionConfig
from topoloss.errors import InputError
from topoloss.paths.record import PathRecord

__all__ = ["RayExecutor"]


#: Seconds to wait for a head node at ``HOST:PORT`` to accept a connection before giving up
#: (Ray itself keeps retrying an address where nothing answers for minutes).
_CONNECT_TIMEOUT_S = 10.0


def _check_reachable(address: str | None, timeout: float = _CONNECT_TIMEOUT_S) -> None:
    """Raise :class:`~topoloss.errors.InputError` within ``timeout`` seconds if nothing accepts
    connections at a ``HOST:PORT`` (or ``ray://HOST:PORT``) address; other addresses pass."""
    import socket

    if address is None or address == "auto" or address == "local":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"address={address!r}; expected auto or HOST:PORT (--address)")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        why = f"no answer within {timeout:g} s" if isinstance(exc, TimeoutError) else (
            (exc.strerror or type(exc).__name__).lower())
        raise InputError(f"address={address!r} (--address): no Ray head node there ({why}); "
                         f"start one with `ray start --head` and give the address it prints, or omit --address "
                         f"for a local cluster") from None


def _optimize_group(task: Any, pairs: list[tuple[int, int]], group: int, threads: int) -> list[PathRecord]:
    """The body of one Ray task: one group of pairs, exactly as the serial executor optimizes it."""
    import torch

    from topoloss.paths.optimize import optimize_pairs

    if threads > 0:
        torch.set_num_threads(threads)
    return optimize_pairs(task.landscape, task.minima, pairs, paths=task.paths.replace(group=group),
                          evaluation=task.evaluation, seed=task.seed, progress=False)


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
            _check_reachable(self.execution.address)
            ray.init(address=self.execution.address, log_to_driver=False, include_dashboard=False)
        resources = self._resources(task)
        threads = max(1, int(resources["num_cpus"])) if resources["num_cpus"] >= 1 else 1
        from topoloss.paths.optimize import resolve_options

        # the serial executor's groups (its curve step and its batches depend on them): one task each
        group = resolve_options(task.landscape, task.minima, task.paths, len(pairs)).group
        listed = [(int(i), int(j)) for i, j in pairs]
        chunks = [listed[k:k + group] for k in range(0, len(listed), group)]
        remote = ray.remote(_optimize_group).options(max_retries=self.execution.max_retries, **resources)
        shared = ray.put(task)
        refs = [remote.remote(shared, chunk, group, threads) for chunk in chunks]
        index = {ref: k for k, ref in enumerate(refs)}
        results: list[list[PathRecord] | None] = [None] * len(refs)
        pending = list(refs)
        with progress_bar(total=len(listed), desc="paths (ray)", unit="path", disable=not progress) as bar:
            while pending:
                stopping = stop is not None and stop()
                # on a stop, collect what has finished and cancel the rest; else wait for the next result
                done, pending = (ray.wait(pending, num_returns=len(pending), timeout=0) if stopping
                                 else ray.wait(pending, num_returns=1, timeout=None if stop is None else 1.0))
                for ref in done:
                    paths = ray.get(ref)
                    results[index[ref]] = paths
                    for path in paths:
                        on_path(path)
                        bar.update(1)
                if stopping:
                    for ref in pending:
                        ray.cancel(ref, force=True)
                    break
        return [p for chunk in results if chunk is not None for p in chunk]
