"""Timing helpers shared by the benchmark scripts (imported as a sibling module)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: The clocks a benchmark may time with: wall time, or the CPU time of this process (on a
#: CPU shared with other jobs it counts only the work done, not the waits for a core).
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


def best_of(fn: Callable[[], T], repeat: int = 3) -> tuple[float, T]:
    """The fastest of ``repeat`` calls of ``fn`` (seconds), and the last call's result."""
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out  # type: ignore[return-value]


def sync(device: Any) -> None:
    """Wait for the work queued on ``device`` (a no-op except on CUDA)."""
    if getattr(device, "type", str(device)).startswith("cuda"):
        import torch

        torch.cuda.synchronize(device)


def per_call(fn: Callable[[], object], n: int, device: Any, clock: str = "wall") -> float:
    """Seconds per call of ``fn`` over ``n`` calls in a row, on ``clock``.

    On CUDA the device is synchronized before the first and after the last call (so the
    time is that of the queued kernels, not of queueing them) and the clock must be
    ``"wall"``: the CPU time of this process does not count the device's work.
    """
    if clock != "wall" and getattr(device, "type", str(device)) != "cpu":
        raise ValueError(f"clock={clock!r} times CPU work only; use clock='wall' on {device}")
    now = CLOCKS[clock]
    sync(device)
    start = now()
    for _ in range(n):
        fn()
    sync(device)
    return (now() - start) / n
