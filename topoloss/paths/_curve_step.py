"""The objective of one curve-training step and its gradient with respect to the bends.

:func:`curve_objective` gives the trainer (:func:`topoloss.paths.optimize._train_sampled`)
one interface — "the mean objective at these curve parameters ``t``, with the gradient
stored where the optimizer reads it" — and picks the implementation by landscape,
device and group:

:class:`FlatCurveObjective`
    All points ``φ(t)`` of a group of pairs as one fused combination
    (:meth:`~topoloss.paths.curves.Curve.at`, shape ``(J, T, P)``), one
    ``landscape.objective_grouped`` call, ``backward`` into the ``(J, k, P)`` bends.
    Any landscape, any group (the vectorized pairs of a small network), and
    accelerators, where a few large kernels beat many small ones.
:class:`BlockwiseCurveObjective`
    A :class:`~topoloss.ModelLandscape` on the CPU, one pair at a time. The point
    ``Σ_i w_i(t) θ_i`` is written, block by cache-sized block, into a buffer that lives
    as long as the training; the network runs on one leaf per parameter tensor, each a
    view of that buffer (:meth:`~topoloss.ModelLandscape.objective_of`);
    ``backward`` into those leaves gives each parameter tensor's gradient, and
    ``Σ_t w_j(t) g(t)`` is written once, block by block, into a second persistent
    buffer. The optimizer steps one view of the bends per block, so the stored
    ``(k, P)`` bends and every record keep their format, and the optimizer's own
    temporaries are block-sized.

Why the second one exists: on a CPU a fresh tensor of ``P`` floats (61 MB for VGG-16)
is mapped from the operating system at every allocation and its first touch costs
page faults — more time than the arithmetic on it. The flat design allocates three
such tensors per step (the point, the concatenated point gradient, the bend
gradient); the blockwise one none, and its passes over a block run in cache.

Both give the same points and gradients up to float rounding (the combination is
summed term by term instead of by one matrix product); landscapes other than
:class:`~topoloss.ModelLandscape` always take the flat step, unchanged.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import Tensor

from topoloss.landscapes.base import Landscape
from topoloss.landscapes.model import ModelLandscape
from topoloss.paths.curves import Curve, _Polyline

__all__ = ["BlockwiseCurveObjective", "FlatCurveObjective", "curve_objective"]

Method = Literal["auto", "flat", "blockwise"]

#: Coordinates per block of the blockwise step (2^17 floats: 512 KiB in float32, so a
#: block of the point stays in cache while its control points are added to it).
BLOCK = 2**17


class FlatCurveObjective:
    """Points of all pairs built at once by :meth:`Curve.at`; ``backward`` into the bends.

    Parameters
    ----------
    landscape : Landscape
        The loss.
    curve : Curve
        The family.
    a, b : Tensor, shape (J, P)
        Endpoints of the ``J`` pairs.
    bends : Tensor, shape (J, k, P)
        The movable control points, a leaf that requires grad.
    weight_decay : float
        Coefficient of the mean squared norm of the points added to the objective.
    """

    def __init__(self, landscape: Landscape, curve: Curve, a: Tensor, b: Tensor, bends: Tensor,
                 weight_decay: float) -> None:
        self.landscape, self.curve = landscape, curve
        self.a, self.b, self.bends = a, b, bends
        self.weight_decay = float(weight_decay)

    def parameters(self) -> list[Tensor]:
        """The tensors the optimizer steps: the bends."""
        return [self.bends]

    def __call__(self, t: Tensor, batches: Sequence[Any]) -> Tensor:
        """Mean objective per pair, ``(J,)`` (detached), at parameters ``t`` ``(J, T)``;
        the gradient of its sum (plus weight decay) is accumulated into the bends."""
        with torch.enable_grad():
            points = self.curve.at(self.a, self.b, self.bends, t)
            values = self.landscape.objective_grouped(points, batches)
            per_job = values.mean(dim=1)
            total = per_job.sum()
            if self.weight_decay:
                total = total + self.weight_decay * points.pow(2).sum(dim=2).mean(dim=1).sum()
            total.backward()
        return per_job.detach()


class BlockwiseCurveObjective:
    """One pair on a network; points and gradients in persistent buffers (see the module doc).

    The flat vector is cut into blocks of :data:`BLOCK` coordinates (cache-sized, so the
    few passes that combine the control points run in cache, and few enough that a
    network of hundreds of small tensors costs few calls): the points are combined
    block by block, and so are the bend gradients (a block's parameter gradients are
    concatenated into a scratch row first when it spans several tensors). The network
    sees one leaf per parameter tensor, a view of the point buffer.

    Parameters
    ----------
    landscape : ModelLandscape
        The network.
    curve : Curve
        A family whose points are ``curve.weights(t) @ [a; bends; b]``
        (see :func:`blockwise_applies`).
    a, b : Tensor, shape (1, P)
        Endpoints of the one pair.
    bends : Tensor, shape (1, k, P)
        The movable control points; the optimizer steps views of it
        (:meth:`parameters`), so it is updated in place.
    weight_decay : float
        Coefficient of the mean squared norm of the points added to the objective.
    """

    def __init__(self, landscape: ModelLandscape, curve: Curve, a: Tensor, b: Tensor, bends: Tensor,
                 weight_decay: float) -> None:
        if a.shape[0] != 1 or bends.shape[0] != 1:
            raise ValueError(f"one pair at a time, got endpoints of shape {tuple(a.shape)}")
        self.landscape, self.curve = landscape, curve
        self.weight_decay = float(weight_decay)
        self.names, self.shapes = landscape.names, landscape.shapes
        self._numels = [math.prod(s) for s in self.shapes]
        dim, self._k = bends.shape[2], bends.shape[1]
        self._blocks = [(s, min(s + BLOCK, dim)) for s in range(0, dim, BLOCK)]
        # (parameter index, start inside it, length) of the pieces of each block
        offsets = [0, *itertools.accumulate(self._numels)]
        self._pieces = [[(i, max(s, offsets[i]) - offsets[i], min(e, offsets[i + 1]) - max(s, offsets[i]))
                         for i in range(len(self._numels)) if offsets[i] < e and offsets[i + 1] > s]
                        for s, e in self._blocks]
        self._a, self._b = a[0].detach(), b[0].detach()
        self._bends = bends[0].detach()  # the same storage as ``bends``
        self._grad = torch.zeros_like(self._bends)
        self._params = [self._bends[:, s:e].requires_grad_(bends.requires_grad) for s, e in self._blocks]
        self._points: Tensor | None = None
        self._scratch: Tensor | None = None
        self._leaves: list[list[Tensor]] = []
        self._set_grads()

    def _set_grads(self) -> None:
        for param, (s, e) in zip(self._params, self._blocks):
            param.grad = self._grad[:, s:e]

    def parameters(self) -> list[Tensor]:
        """The tensors the optimizer steps: one ``(k, n)`` view of the bends per block,
        each with its slice of the persistent gradient as ``grad``."""
        return self._params

    def _buffers(self, n_points: int) -> list[list[Tensor]]:
        """The point buffer ``(T, P)``, its per-parameter leaves and the scratch rows
        (made once per ``T``)."""
        if self._points is None or self._points.shape[0] != n_points:
            self._points = self._grad.new_empty(n_points, self._grad.shape[1])
            self._scratch = self._grad.new_empty(n_points, min(BLOCK, self._grad.shape[1]))
            self._leaves = [[part.view(shape).requires_grad_(True)
                             for part, shape in zip(row.split(self._numels), self.shapes)]
                            for row in self._points]
        return self._leaves

    def __call__(self, t: Tensor, batches: Sequence[Any]) -> Tensor:
        """Mean objective of the pair, ``(1,)`` (detached), at parameters ``t`` ``(1, T)``;
        the gradient (plus weight decay) is written into the grad of :meth:`parameters`."""
        weights = self.curve.weights(t[0], self._k).to(self._grad.dtype).tolist()
        leaves = self._buffers(len(weights))
        assert self._points is not None and self._scratch is not None
        with torch.no_grad():
            for w, row in zip(weights, self._points):
                for s, e in self._blocks:
                    # the order of Curve.at: b, a, then the bends
                    terms = [(w[-1], self._b[s:e]), (w[0], self._a[s:e])]
                    terms += [(w[j + 1], self._bends[j, s:e]) for j in range(self._k)]
                    _combine(row[s:e], terms)
        with torch.enable_grad():
            params = [dict(zip(self.names, row)) for row in leaves]
            values = self.landscape.objective_of(params, batches[0])
            total = values.mean()
            if self.weight_decay:
                sq = torch.stack([sum(p.pow(2).sum() for p in row) for row in leaves])  # type: ignore[misc]
                total = total + self.weight_decay * sq.mean()
            # backward into the leaves rather than autograd.grad: measured 10 % faster on
            # ResNet-110 (autograd.grad is slower when it returns hundreds of gradients)
            inputs = [p for row in leaves for p in row]
            total.backward(inputs=inputs)
        n = len(self.names)
        flat = [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in inputs]
        for p in inputs:
            p.grad = None
        with torch.no_grad():
            for (s, e), pieces in zip(self._blocks, self._pieces):
                per_point = []
                for r in range(len(weights)):
                    parts = [flat[r * n + i][o:o + m] for i, o, m in pieces]
                    per_point.append(parts[0] if len(parts) == 1 else
                                     torch.cat(parts, out=self._scratch[r, :e - s]))
                for j in range(self._k):
                    _combine(self._grad[j, s:e], [(w[j + 1], g) for w, g in zip(weights, per_point)])
            self._set_grads()
        return values.detach().mean().reshape(1)


def _combine(out: Tensor, terms: list[tuple[float, Tensor]]) -> None:
    """``out = Σ w · x`` over the terms with ``w != 0``, written in place."""
    first = True
    for w, x in terms:
        if w == 0:
            continue
        if first:
            torch.mul(x, w, out=out)
            first = False
        else:
            out.add_(x, alpha=w)
    if first:
        out.zero_()


def blockwise_applies(landscape: Landscape, curve: Curve, n_pairs: int) -> bool:
    """Whether :class:`BlockwiseCurveObjective` can serve this training: a
    :class:`~topoloss.ModelLandscape`, one pair, and a curve whose points are the
    combination of :meth:`Curve.weights` (its ``at`` is one of the library's own)."""
    return (isinstance(landscape, ModelLandscape) and n_pairs == 1
            and type(curve).at in (Curve.at, _Polyline.at))


def curve_objective(
    landscape: Landscape, curve: Curve, a: Tensor, b: Tensor, bends: Tensor, weight_decay: float,
    *, method: Method = "auto",
) -> FlatCurveObjective | BlockwiseCurveObjective:
    """The objective of one training step of the curves ``(a, b, bends)``.

    Parameters
    ----------
    landscape, curve, a, b, bends, weight_decay
        See :class:`FlatCurveObjective`.
    method : {"auto", "flat", "blockwise"}
        ``"auto"`` takes :class:`BlockwiseCurveObjective` where it applies
        (:func:`blockwise_applies`) on a CPU — measured faster there, from the
        digits ``fcn`` (3,466 parameters) to VGG-16 (15 million)
        (``docs/performance.md``) — and :class:`FlatCurveObjective` otherwise. On an
        accelerator the flat step is kept: its caching allocator reuses memory without
        page faults, and a few large kernels cost fewer launches than the blocks
        (not measured yet: no GPU was available when this was written).
    """
    if method not in ("auto", "flat", "blockwise"):
        raise ValueError(f"method={method!r}; expected 'auto', 'flat' or 'blockwise'")
    fits = blockwise_applies(landscape, curve, a.shape[0])
    if method == "blockwise" and not fits:
        raise ValueError("the blockwise objective needs a ModelLandscape, one pair and a "
                         "curve given by its weights")
    if method == "blockwise" or (method == "auto" and fits and a.device.type == "cpu"):
        assert isinstance(landscape, ModelLandscape)
        return BlockwiseCurveObjective(landscape, curve, a, b, bends, weight_decay)
    return FlatCurveObjective(landscape, curve, a, b, bends, weight_decay)
