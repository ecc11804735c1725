"""Exact losses and metrics of a :class:`~topoloss.ModelLandscape` (a mixin).

:class:`ExactEvaluation` gives the landscape its exact side: the BatchNorm statistics
recomputed at a point (``_statistics``, cached for the last point; :meth:`prepare`), the
splits (:meth:`tensors`), :meth:`loss` (one point at a time, or several per vectorized
pass through :mod:`topoloss.landscapes.batched`), :meth:`metrics` and
:meth:`point_metrics`. Every evaluation passes freshly computed buffers to
:func:`torch.func.functional_call` in eval mode (see the Notes of
:class:`~topoloss.ModelLandscape`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal

import torch
from torch import Tensor, nn

from topoloss.errors import Diverged, InputError
from topoloss.landscapes.batched import activation_floats, points_per_pass, vmapped_losses

__all__ = ["ExactEvaluation", "Split"]

Split = Literal["train", "test"]


class ExactEvaluation:
    """Exact losses, metrics and BatchNorm statistics for a model's landscape (a mixin).

    :class:`~topoloss.ModelLandscape` sets the attributes below and provides
    ``as_points``, ``params``, ``_point_tensor``, ``_set_mode`` and ``_forward``.
    """

    model: nn.Module
    loss_fn: Callable[[Tensor, Tensor], Tensor]
    device: torch.device
    seed: int
    n_train: int
    n_test: int
    eval_batch_size: int
    bn_batch_size: int
    bn_recompute: bool
    vmap_evaluation: bool
    _x: Tensor
    _y: Tensor
    _test: tuple[Tensor, Tensor] | None
    _bn_order: Tensor
    _buffers: dict[str, Tensor]
    _norm_buffers: list[tuple[str, str, str]]
    _cache: tuple[Tensor, dict[str, Tensor]] | None
    _per_pass: int | None

    if TYPE_CHECKING:  # provided by ModelLandscape (declared here, not shadowed)
        def as_points(self, points: Any, *, name: str = "points") -> Tensor: ...

        def params(self, theta: Tensor) -> dict[str, Tensor]: ...

        def _point_tensor(self, point: Any, name: str = "point") -> Tensor: ...

        def _set_mode(self, train: bool) -> None: ...

        def _forward(self, params: dict[str, Tensor], x: Tensor) -> Tensor: ...

    def _statistics(self, theta: Tensor, rows: Tensor | None = None) -> dict[str, Tensor]:
        """Buffers for an exact evaluation at ``theta`` (BatchNorm recomputed, cached); with
        ``rows``, recomputed from those training rows only, in their order (not cached)."""
        if not (self.bn_recompute and self._norm_buffers):
            return self._buffers
        if rows is None and self._cache is not None and torch.equal(self._cache[0], theta):
            return self._cache[1]
        buffers = {k: v.clone() for k, v in self._buffers.items()}
        for mean, var, count in self._norm_buffers:
            buffers[mean].zero_()
            buffers[var].fill_(1.0)
            buffers[count].zero_()
        state = {**self.params(theta), **buffers}
        order = self._bn_order if rows is None else rows.to(self._x.device)
        n, b = len(order), min(self.bn_batch_size, len(order))
        cuda = [self.device.index or 0] if self.device.type == "cuda" else []
        self._set_mode(True)
        with torch.no_grad(), torch.random.fork_rng(devices=cuda):
            torch.manual_seed(self.seed)
            for start in range(0, n - b + 1, b):
                idx = order[start:start + b]
                self._forward(state, self._x[idx].to(self.device, non_blocking=True))
        if rows is None:
            self._cache = (theta.detach().clone(), buffers)
        return buffers

    def prepare(self, point: Tensor) -> None:
        """Recompute (and cache) the BatchNorm statistics at ``point``."""
        self._statistics(self._point_tensor(point))

    def tensors(self, split: Split = "train") -> tuple[Tensor, Tensor]:
        """The materialized ``(inputs, targets)`` of a split (not copies: do not modify)."""
        if split == "train":
            return self._x, self._y
        if split == "test":
            if self._test is None:
                raise InputError("split='test' needs test_data, which this landscape was built without")
            return self._test
        raise InputError(f"split must be 'train' or 'test', got {split!r}")

    def _evaluate(self, theta: Tensor, split: Split) -> tuple[float, float]:
        x, y = self.tensors(split)
        state = {**self.params(theta), **self._statistics(theta)}
        self._set_mode(False)
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        correct = torch.zeros((), dtype=torch.float64, device=self.device)
        counted = 0
        with torch.no_grad():
            for start in range(0, len(x), self.eval_batch_size):
                xb = x[start:start + self.eval_batch_size].to(self.device, non_blocking=True)
                yb = y[start:start + self.eval_batch_size].to(self.device, non_blocking=True)
                out = self._forward(state, xb)
                total += self.loss_fn(out, yb).double() * len(xb)
                if not (yb.is_floating_point() or yb.is_complex()) and out.shape[:-1] == yb.shape:
                    correct += (out.argmax(-1) == yb).sum().double()
                    counted += yb.numel()
        loss = float(total) / len(x)
        return loss, (float(correct) / counted if counted else math.nan)

    def loss(self, points: Tensor) -> Tensor:
        """Exact mean training loss at ``(B, P)`` points, ``-> (B,)`` float64 on the CPU.

        Raises
        ------
        InputError
            If the points are mis-shaped or not finite.
        Diverged
            If the loss at one of them is not finite (e.g. a point an optimizer with too
            large an lr produced).
        """
        pts = self.as_points(points)
        per_pass = self._points_per_pass() if len(pts) > 1 else 1
        values = None
        if per_pass > 1:
            try:
                values = self._losses_vmapped(pts, per_pass)
            except (RuntimeError, NotImplementedError):  # vmap cannot trace this model
                self._per_pass = 1
        if values is None:
            values = torch.tensor([self._evaluate(p, "train")[0] for p in pts], dtype=torch.float64)
        bad = torch.nonzero(~torch.isfinite(values)).flatten()
        if len(bad):
            i = int(bad[0])
            raise Diverged(f"the loss at points[{i}] is {values[i].item()} (not finite); if an optimizer "
                           "made these points, try a smaller lr")
        return values

    def _points_per_pass(self) -> int:
        """Points per vectorized exact evaluation: 1 without :attr:`vmap_evaluation` or
        for models with buffers, else what :data:`~topoloss.landscapes.batched.VMAP_FLOATS`
        allows (measured once)."""
        if self._per_pass is None:
            self._per_pass = 1
            if self.vmap_evaluation and not self._buffers:
                self._set_mode(False)
                x = self._x[:2].to(self.device)
                per_sample = activation_floats(self.model, self.model, x)
                self._per_pass = points_per_pass(per_sample, min(self.eval_batch_size, self.n_train))
        return self._per_pass

    def _losses_vmapped(self, pts: Tensor, per_pass: int) -> Tensor:
        """:meth:`loss` for models without buffers, ``per_pass`` points at a time."""
        x, y = self.tensors("train")
        size = self.eval_batch_size

        def batches() -> Iterator[tuple[Tensor, Tensor]]:
            for start in range(0, len(x), size):
                yield (x[start:start + size].to(self.device, non_blocking=True),
                       y[start:start + size].to(self.device, non_blocking=True))

        def one(theta: Tensor, xb: Tensor, yb: Tensor) -> Tensor:
            return self.loss_fn(self._forward(self.params(theta), xb), yb)

        self._set_mode(False)
        return vmapped_losses(one, pts, batches, len(x), per_pass).cpu()

    def metrics(self, point: Any, split: Split = "train") -> dict[str, float]:
        """Exact ``{"loss": ..., "accuracy": ...}`` at one point on a split.

        Accuracy is the fraction of ``argmax(output, -1) == target`` (per token for
        sequences), NaN when targets are not class labels.
        """
        loss, acc = self._evaluate(self._point_tensor(point), split)
        return {"loss": loss, "accuracy": acc}

    def point_metrics(self, point: Tensor) -> dict[str, float]:
        """``train_loss`` and ``train_accuracy``, plus ``test_loss`` and ``test_accuracy``
        when the landscape has test data."""
        train = self.metrics(point, "train")
        out = {"train_loss": train["loss"], "train_accuracy": train["accuracy"]}
        if self.n_test:
            test = self.metrics(point, "test")
            out.update(test_loss=test["loss"], test_accuracy=test["accuracy"])
        return out
