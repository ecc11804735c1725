"""The objective of one curve-training step and its gradient with respect to the bends.

:func:`curve_objective` gives the trainer (:func:`topoloss.paths.optimize._train_sampled`)
one interface — "the mean objective at these curve parameters ``t``, with the gradient
stored for the optimizer" — and picks the implementation by landscape, device and group:

:class:`FlatCurveObjective`
    All points ``φ(t)`` of a group of pairs as one fused combination
    (:meth:`~topoloss.paths.curves.Curve.at`, shape ``(J, T, P)``), one
    ``landscape.objective_grouped`` call, ``backward`` into the ``(J, k, P)`` bends.
    Any landscape, any group (the vectorized pairs of a small network), and an
    accelerator, where a few large kernels beat many small ones.
:class:`ParameterwiseCurveObjective`
    A :class:`~topoloss.ModelLandscape` on the CPU, one pair at a time. Each parameter
    tensor's point ``Σ_i w_i(t) θ_i`` is written into its slice of a buffer that lives
    as long as the training, from the matching slices of ``a``, the bends and ``b``
    (small tensors stay in cache); the network runs on those slices
    (:meth:`~topoloss.ModelLandscape.objective_of`), ``torch.autograd.grad`` returns the
    gradient of each parameter tensor, and ``Σ_t w_j(t) g(t)`` is written once into the
    bend gradient's slice, a second persistent buffer. The optimizer steps one leaf per
    parameter tensor (views of the flat bends, so the stored ``(k, P)`` bends and every
    record keep their format), so its temporaries are per tensor too.

Why the second one exists: on a CPU a fresh tensor of ``P`` floats (61 MB for
VGG-16) is mapped from the operating system at every allocation and its first
touch costs page faults — more time than the arithmetic on it. The flat design
allocates three such tensors per step (the point, the concatenated point gradient, the
bend gradient); the parameterwise one none.

Both give the same points and gradients up to float rounding (the combination is
summed term by term instead of by one matrix product); results for landscapes other
than :class:`~topoloss.ModelLandscape` never take the parameterwise path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import Tensor

from topoloss.landscapes.base import Landscape
from topoloss.landscapes.model import ModelLandscape
from topoloss.paths.curves import Curve, _Polyline

__all__ = ["FlatCurveObjective", "ParameterwiseCurveObjective", "curve_objective"]

Method = Literal["auto", "flat", "parameterwise"]


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


class ParameterwiseCurveObjective:
    """One pair on a network, each parameter's point built in place (see the module doc).

    Parameters
    ----------
    landscape : ModelLandscape
        The network.
    curve : Curve
        A family whose points are ``curve.weights(t) @ [a; bends; b]``
        (see :func:`parameterwise_applies`).
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
        numels = [math.prod(s) for s in self.shapes]
        self._k = bends.shape[1]
        self._a = a[0].detach().split(numels)
        self._b = b[0].detach().split(numels)
        # bend j of parameter tensor i: row j of _bends[i]; the same storage as ``bends``
        self._bends = bends[0].detach().split(numels, dim=1)
        self._grad = torch.zeros_like(bends[0])
        self._grads = self._grad.split(numels, dim=1)
        self._params = [p.detach().requires_grad_(bends.requires_grad) for p in self._bends]
        for param, grad in zip(self._params, self._grads):
            param.grad = grad
        self._numels = numels
        self._points: Tensor | None = None
        self._leaves: list[list[Tensor]] = []

    def parameters(self) -> list[Tensor]:
        """The tensors the optimizer steps: one ``(k, n_i)`` view of the bends per
        parameter tensor, each with its slice of the persistent gradient as ``grad``."""
        return self._params

    def _buffers(self, n_points: int) -> tuple[Tensor, list[list[Tensor]]]:
        """The point buffer ``(T, P)`` and its per-parameter leaves (made once per ``T``)."""
        if self._points is None or self._points.shape[0] != n_points:
            self._points = self._grad.new_empty(n_points, self._grad.shape[1])
            self._leaves = [[part.detach().view(shape).requires_grad_(True)
                             for part, shape in zip(row.split(self._numels), self.shapes)]
                            for row in self._points]
        return self._points, self._leaves

    def __call__(self, t: Tensor, batches: Sequence[Any]) -> Tensor:
        """Mean objective of the pair, ``(1,)`` (detached), at parameters ``t`` ``(1, T)``;
        the gradient (plus weight decay) is written into the grad of :meth:`parameters`."""
        weights = self.curve.weights(t[0], self._k).to(self._grad.dtype).tolist()
        points, leaves = self._buffers(len(weights))
        with torch.no_grad():
            for w, row in zip(weights, points):
                for i, out in enumerate(row.split(self._numels)):
                    # the order of Curve.at: b, a, then the bends
                    terms = [(w[-1], self._b[i]), (w[0], self._a[i])]
                    terms += [(w[j + 1], self._bends[i][j]) for j in range(self._k)]
                    _combine(out, terms)
        with torch.enable_grad():
            params = [dict(zip(self.names, row)) for row in leaves]
            values = self.landscape.objective_of(params, batches[0])
            total = values.mean()
            if self.weight_decay:
                sq = torch.stack([sum(p.pow(2).sum() for p in row) for row in leaves])  # type: ignore[misc]
                total = total + self.weight_decay * sq.mean()
            flat = [p for row in leaves for p in row]
            grads = torch.autograd.grad(total, flat, allow_unused=True)
        n = len(self.names)
        with torch.no_grad():
            for i, out in enumerate(self._grads):
                for j in range(self._k):
                    _combine(out[j], [(w[j + 1], grads[r * n + i]) for r, w in enumerate(weights)])
            for param, grad in zip(self._params, self._grads):
                param.grad = grad
        return values.detach().mean().reshape(1)


def _combine(out: Tensor, terms: list[tuple[float, Tensor | None]]) -> None:
    """``out = Σ w · x`` over the terms with ``w != 0`` and ``x`` given, written in place."""
    first = True
    for w, x in terms:
        if w == 0 or x is None:
            continue
        x = x.reshape(-1)
        if first:
            torch.mul(x, w, out=out)
            first = False
        else:
            out.add_(x, alpha=w)
    if first:
        out.zero_()


def parameterwise_applies(landscape: Landscape, curve: Curve, n_pairs: int) -> bool:
    """Whether :class:`ParameterwiseCurveObjective` can serve this training: a
    :class:`~topoloss.ModelLandscape`, one pair, and a curve whose points are the
    combination of :meth:`Curve.weights` (its ``at`` is one of the library's own)."""
    return (isinstance(landscape, ModelLandscape) and n_pairs == 1
            and type(curve).at in (Curve.at, _Polyline.at))


def curve_objective(
    landscape: Landscape, curve: Curve, a: Tensor, b: Tensor, bends: Tensor, weight_decay: float,
    *, method: Method = "auto",
) -> FlatCurveObjective | ParameterwiseCurveObjective:
    """The objective of one training step of the curves ``(a, b, bends)``.

    Parameters
    ----------
    landscape, curve, a, b, bends, weight_decay
        See :class:`FlatCurveObjective`.
    method : {"auto", "flat", "parameterwise"}
        ``"auto"`` takes :class:`ParameterwiseCurveObjective` where it applies
        (:func:`parameterwise_applies`) on a CPU — measured faster there
        (``docs/performance.md``) — and :class:`FlatCurveObjective` otherwise.
    """
    if method not in ("auto", "flat", "parameterwise"):
        raise ValueError(f"method={method!r}; expected 'auto', 'flat' or 'parameterwise'")
    fits = parameterwise_applies(landscape, curve, a.shape[0])
    if method == "parameterwise" and not fits:
        raise ValueError("the parameterwise objective needs a ModelLandscape, one pair and a "
                         "curve given by its weights")
    if method == "parameterwise" or (method == "auto" and fits and a.device.type == "cpu"):
        assert isinstance(landscape, ModelLandscape)
        return ParameterwiseCurveObjective(landscape, curve, a, b, bends, weight_decay)
    return FlatCurveObjective(landscape, curve, a, b, bends, weight_decay)
