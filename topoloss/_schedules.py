"""Learning-rate schedules shared by minima search and path optimization."""

from __future__ import annotations

import math

import torch

__all__ = ["cosine_decay", "cosine_factor", "cosine_scheduler"]


def cosine_decay(start: float, end: float, done: float, total: float = 1.0) -> float:
    """The cosine schedule: ``start`` when ``done = 0``, ``end`` when ``done = total``.

    The one formula behind :func:`cosine_factor` (path optimization, minima search) and
    the ``"cosine"`` schedule of :func:`topoloss.minima.learning_rate` (training).

    >>> cosine_decay(0.1, 0.001, 0.0), cosine_decay(0.1, 0.001, 1.0)
    (0.1, 0.001)
    """
    return end + (start - end) * 0.5 * (1 + math.cos(math.pi * done / total))


def cosine_factor(step: int, steps: int, final: float) -> float:
    """Cosine decay of the learning rate from factor 1 at step 0 to ``final`` at ``steps``.

    >>> cosine_factor(0, 10, 0.01), cosine_factor(10, 10, 0.01)
    (1.0, 0.01)
    """
    return cosine_decay(1, final, step, steps)


def cosine_scheduler(
    optimizer: torch.optim.Optimizer, steps: int, final: float, *, constant: bool = False
) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` following :func:`cosine_factor` (or a constant rate); call ``step()``
    after each optimizer step."""
    if constant:
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: cosine_factor(step, steps, final))
