"""The memory estimate of a path request: refuse before allocating what cannot fit."""

from __future__ import annotations

import os

import torch

from topoloss.errors import InputError
from topoloss.landscapes.base import Landscape
from topoloss.paths.evaluate import _ARC_POINTS_PER_EVAL
from topoloss.paths.options import EvaluationSettings, PathSettings

__all__ = ["check_memory", "memory_limit"]

#: Tensors of the size of the bends an optimizer holds: the bends, their gradient, and
#: Adam's two moments (SGD with momentum: one), plus one for the curve points of a step.
_OPTIMIZER_COPIES = {"adam": 5, "sgd": 4}


def memory_limit(device: torch.device | str = "cpu") -> int:
    """Bytes a single request may use: the device's total memory (physical RAM on CPU).

    Requests estimated above this are refused before anything is allocated
    (:func:`check_memory`). ``0`` when the size cannot be found (then nothing is refused).
    """
    dev = torch.device(device)
    if dev.type == "cuda" and torch.cuda.is_available():
        return int(torch.cuda.get_device_properties(dev.index or 0).total_memory)
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 0


def _gb(n: float) -> str:
    return f"{n / 2**30:.3g} GiB"


def check_memory(landscape: Landscape, paths: PathSettings, evaluation: EvaluationSettings, group: int) -> None:
    """Refuse a request whose main tensors alone would not fit in memory (one line naming the option).

    The estimate counts 8 bytes per float64 (4 for float32) and:

    - optimization: ``group × n_bends × P`` floats, times :data:`_OPTIMIZER_COPIES`
      (bends, gradient, optimizer state, curve points);
    - evaluation: ``8 × n_eval`` arc-length parameters and positions, and the
      ``n_eval`` points of one curve, ``P`` floats each, evaluated in chunks.

    Raises
    ------
    InputError
        Naming ``curve`` or ``n_eval`` with the estimate and the limit
        (:func:`memory_limit`).
    """
    limit = memory_limit(landscape.device)
    if limit <= 0:
        return
    item = torch.empty(0, dtype=landscape.dtype).element_size()
    dim = int(landscape.dim)
    factor = _OPTIMIZER_COPIES.get(paths.optimizer, 5)
    need = float(group) * int(paths.curve.n_bends) * dim * item * factor
    if need > limit:
        raise InputError(
            f"curve={paths.curve.spec()} (--curve) needs about {_gb(need)} to optimize {group} pair(s) of "
            f"{dim} parameters ({paths.curve.n_bends} bends x {dim} x {item} bytes x {factor}), more than "
            f"the {_gb(limit)} of memory here; use fewer bends"
        )
    n_eval = int(evaluation.n_eval)
    need = float(n_eval) * (_ARC_POINTS_PER_EVAL * 3 * 8 + 4 * 8)
    if need > limit:
        raise InputError(
            f"n_eval={n_eval} (--n-eval) needs about {_gb(need)} for the evaluation grid, more than the "
            f"{_gb(limit)} of memory here; use a smaller n_eval"
        )
