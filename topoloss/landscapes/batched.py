"""Exact losses of several points of one network in one vectorized pass.

:meth:`ModelLandscape.loss <topoloss.landscapes.model.ModelLandscape.loss>` evaluates
the mean training loss at each of ``K`` points. For a network without buffers, the
``K`` forward passes over an evaluation batch are one :func:`torch.func.vmap` over
:func:`torch.func.functional_call` (one batched matrix product per layer instead of
``K`` small ones), as long as the activations of the ``K`` passes fit in a budget of
floats. Networks with buffers (BatchNorm, whose statistics are recomputed at every
point) and models that ``vmap`` cannot trace are evaluated one point at a time.

The batched losses equal the one-point ones to float rounding (a batched product adds
in another order), not bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor, nn

__all__ = ["VMAP_FLOATS", "activation_floats", "points_per_pass", "vmapped_losses"]

#: Activation floats one vectorized evaluation may hold at once (1 GiB of float32).
VMAP_FLOATS = 2**28
#: At most this many points share one vectorized pass.
_MAX_POINTS = 64


def activation_floats(model: nn.Module, forward: Callable[[Tensor], object], x: Tensor) -> int:
    """Floats written per sample by the leaf modules of ``model`` in ``forward(x)``.

    Counted with forward hooks on a no-grad pass over the (small) batch ``x``; an
    upper bound on what one evaluation holds per sample at a time.
    """
    total = 0

    def count(_m: nn.Module, _i: object, out: object) -> None:
        nonlocal total
        outs = out if isinstance(out, (tuple, list)) else (out,)
        total += sum(o.numel() for o in outs if isinstance(o, Tensor))

    leaves = [m for m in model.modules() if not list(m.children())] or [model]
    handles = [m.register_forward_hook(count) for m in leaves]
    try:
        with torch.no_grad():
            forward(x)
    finally:
        for h in handles:
            h.remove()
    return max(1, -(-total // max(1, len(x))))


def points_per_pass(per_sample: int, rows: int, budget: int = VMAP_FLOATS) -> int:
    """How many points one vectorized pass over ``rows`` samples may take (``>= 1``)."""
    return int(max(1, min(_MAX_POINTS, budget // max(1, per_sample * rows))))


def vmapped_losses(
    one: Callable[[Tensor, Tensor, Tensor], Tensor],
    points: Tensor,
    batches: Callable[[], Iterable[tuple[Tensor, Tensor]]],
    n: int,
    per_pass: int,
) -> Tensor:
    """Mean losses at ``(K, P)`` points, ``-> (K,)`` float64 on the points' device.

    Parameters
    ----------
    one : callable
        ``one(theta, x, y)``: the batch-mean loss of one point on one batch.
    points : Tensor
        The points, ``(K, P)``.
    batches : callable
        Returns an iterable of ``(x, y)`` evaluation batches covering the ``n`` samples.
    n : int
        Number of samples (the mean's denominator).
    per_pass : int
        Points per vectorized pass.
    """
    f = torch.func.vmap(one, in_dims=(0, None, None))
    out = []
    with torch.no_grad():
        for start in range(0, len(points), per_pass):
            chunk = points[start:start + per_pass]
            total = torch.zeros(len(chunk), dtype=torch.float64, device=points.device)
            for x, y in batches():
                total += f(chunk, x, y).double() * len(x)
            out.append(total / n)
    return torch.cat(out)
