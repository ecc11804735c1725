"""The differentiable mini-batch objective of a :class:`~topoloss.ModelLandscape` (a mixin).

:class:`MiniBatchObjective` gives the landscape its training side, always in train mode
(BatchNorm on batch statistics): three entry points to the same loss, at flat points
(:meth:`~MiniBatchObjective.objective`), at parameter dicts
(:meth:`~MiniBatchObjective.objective_of`, for the blockwise curve step) and at a group of
pairs with one batch each (:meth:`~MiniBatchObjective.objective_grouped`, vectorized),
and the shuffled mini-batches they are evaluated on
(:meth:`~MiniBatchObjective.batches`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from topoloss.errors import InputError

__all__ = ["MiniBatchObjective"]


class MiniBatchObjective:
    """Mini-batch losses in train mode and the mini-batches (a mixin).

    :class:`~topoloss.ModelLandscape` sets the attributes below and provides ``params``,
    ``_set_mode`` and ``_forward``; ``objective_grouped`` falls back on
    :meth:`topoloss.landscapes.base.Landscape.objective_grouped` (next in the MRO).
    """

    dim: int
    seed: int
    n_train: int
    batch_size: int
    device: torch.device
    loss_fn: Callable[[Tensor, Tensor], Tensor]
    _x: Tensor
    _y: Tensor
    _tied: tuple[tuple[str, str], ...]
    _buffers: dict[str, Tensor]

    if TYPE_CHECKING:  # provided by ModelLandscape (declared here, not shadowed)
        def params(self, theta: Tensor) -> dict[str, Tensor]: ...

        def _set_mode(self, train: bool) -> None: ...

        def _forward(self, params: dict[str, Tensor], x: Tensor) -> Tensor: ...

    def objective(self, points: Tensor, batch: Any = None) -> Tensor:
        """Differentiable mini-batch loss at ``(B, P)`` points, train mode, ``-> (B,)``.

        ``batch`` is an ``(x, y)`` item of :meth:`batches`; ``None`` means the whole
        training set as one batch (a full-batch gradient; memory grows with it).
        """
        if points.ndim == 1:
            points = points.unsqueeze(0)
        if points.ndim != 2 or points.shape[1] != self.dim:
            raise InputError(f"points must have shape (batch, {self.dim}), got {tuple(points.shape)}")
        # one point: a reshape (its backward is free); several: one unbind. Indexing
        # or iterating would add a zero-fill or a stack of size P to the backward.
        rows = (points.reshape(-1),) if len(points) == 1 else points.unbind(0)
        return self.objective_of([self.params(theta) for theta in rows], batch)

    def objective_of(self, params: Sequence[Mapping[str, Tensor]], batch: Any = None) -> Tensor:
        """:meth:`objective` at points given as parameter dicts, ``-> (len(params),)``.

        Each dict maps every name of :attr:`names` to a tensor of its shape (tied
        aliases are added here); gradients flow into those tensors, so a caller that
        builds each parameter's point itself (:mod:`topoloss.paths._curve_step`) never
        needs the flat vector.
        """
        x, y = (self._x, self._y) if batch is None else batch
        x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
        self._set_mode(True)
        values = []
        for point in params:
            state = dict(point)
            for alias, name in self._tied:
                state[alias] = state[name]
            values.append(self.loss_fn(self._forward(state, x), y))
        return values[0].reshape(1) if len(values) == 1 else torch.stack(values)

    def objective_grouped(self, points: Tensor, batches: Sequence[Any]) -> Tensor:
        """Mini-batch losses of a group of pairs, ``(G, T, P)`` points and one ``(x, y)``
        batch per pair, ``-> (G, T)``: one vectorized forward and backward
        (``torch.func.vmap`` over :meth:`params` and ``functional_call``) instead of a loop.

        Models with buffers (BatchNorm updates its running statistics in train mode) and
        groups of one take the loop of :meth:`Landscape.objective_grouped`.
        """
        g = points.shape[0]
        if g == 1 or self._buffers or any(batch is None for batch in batches):
            return super().objective_grouped(points, batches)  # type: ignore[misc] # Landscape's, by the MRO
        xs = torch.stack([batch[0] for batch in batches]).to(self.device, non_blocking=True)
        ys = torch.stack([batch[1] for batch in batches]).to(self.device, non_blocking=True)
        self._set_mode(True)

        def one(theta: Tensor, x: Tensor, y: Tensor) -> Tensor:
            return self.loss_fn(self._forward(self.params(theta), x), y)

        per_point = torch.func.vmap(one, in_dims=(0, None, None))
        return torch.func.vmap(per_point, in_dims=(0, 0, 0))(points, xs, ys)

    def batches(self, *, generator: torch.Generator | None = None) -> Iterator[tuple[Tensor, Tensor]]:
        """Endless shuffled ``(x, y)`` mini-batches of ``batch_size`` on ``device``.

        Each epoch is a permutation drawn from ``generator`` (a CPU generator; default
        one seeded with ``seed``); the last incomplete batch is dropped unless the set
        is smaller than one batch.
        """
        gen = generator if generator is not None else torch.Generator().manual_seed(self.seed)
        n, b = self.n_train, min(self.batch_size, self.n_train)
        while True:
            perm = torch.randperm(n, generator=gen).to(self._x.device)
            for start in range(0, n - b + 1, b):
                idx = perm[start:start + b]
                yield (self._x[idx].to(self.device, non_blocking=True),
                       self._y[idx].to(self.device, non_blocking=True))

    @property
    def batches_per_epoch(self) -> int:
        """Number of mini-batches in one epoch, ``n_train // batch_size`` (at least 1)."""
        return max(1, self.n_train // self.batch_size)
