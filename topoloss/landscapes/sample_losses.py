"""Per-sample training losses of a :class:`~topoloss.ModelLandscape` (for barrier screening).

:class:`SampleLosses` gives :class:`~topoloss.ModelLandscape` its
:meth:`~SampleLosses.sample_losses`: the loss of every requested training sample at every
point, the raw material of the bound in :mod:`topoloss.paths.screen`. BatchNorm statistics
are recomputed from the requested samples themselves (one extra pass over them), so a
screening subsample never touches the rest of the training set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from topoloss.errors import InputError

__all__ = ["SampleLosses", "per_sample"]


def per_sample(loss_fn: Callable[[Tensor, Tensor], Tensor], out: Tensor, y: Tensor) -> Tensor:
    """``loss_fn`` (a batch mean) of each sample on its own, ``-> (len(out),)``.

    One :func:`torch.func.vmap` over samples, each seen as a batch of one; a loop when
    ``vmap`` cannot trace the loss. For a loss that is a mean over samples the mean of the
    result is ``loss_fn(out, y)`` (for sequences: the mean over sequences of the per-token
    mean, the same when all sequences have one length).

    Examples
    --------
    >>> import torch, torch.nn.functional as F
    >>> out, y = torch.randn(5, 3), torch.tensor([0, 1, 2, 1, 0])
    >>> bool(torch.allclose(per_sample(F.cross_entropy, out, y).mean(), F.cross_entropy(out, y)))
    True
    """
    if _plain_cross_entropy(loss_fn, out, y):
        # the same numbers as the vmap below, bit for bit (log-softmax is row by row), without
        # its tracing, which costs ~13x the arithmetic at screening sizes (44 samples, 10 classes)
        return F.cross_entropy(out, y, reduction="none")

    def one(o: Tensor, t: Tensor) -> Tensor:
        return loss_fn(o.unsqueeze(0), t.unsqueeze(0))

    try:
        return torch.func.vmap(one)(out, y)
    except (RuntimeError, NotImplementedError, ValueError):  # a loss vmap cannot trace
        return torch.stack([one(o, t) for o, t in zip(out, y)])


def _plain_cross_entropy(loss_fn: Callable[[Tensor, Tensor], Tensor], out: Tensor, y: Tensor) -> bool:
    """Whether ``loss_fn`` is :func:`torch.nn.functional.cross_entropy` on ``(n, C)`` logits and
    class indices none of which is its ``ignore_index`` (-100): then ``reduction="none"`` gives
    each sample's loss as a batch of one would."""
    return (loss_fn is F.cross_entropy and out.ndim == 2 and y.ndim == 1
            and not y.is_floating_point() and not bool((y == -100).any()))


class SampleLosses:
    """Mixin of :class:`~topoloss.ModelLandscape`: per-sample losses on chosen training rows."""

    n_train: int
    eval_batch_size: int
    loss_fn: Callable[[Tensor, Tensor], Tensor]
    device: torch.device
    _x: Tensor
    _y: Tensor

    # provided by ModelLandscape
    as_points: Callable[..., Tensor]
    params: Callable[[Tensor], dict[str, Tensor]]
    _statistics: Callable[..., dict[str, Tensor]]
    _set_mode: Callable[[bool], None]
    _forward: Callable[[dict[str, Tensor], Tensor], Tensor]

    @property
    def n_samples(self) -> int:
        """Training samples the loss is the mean over (``n_train``)."""
        return int(self.n_train)

    def sample_losses(self, points: Any, indices: Any) -> Tensor:
        """Loss of each training sample ``indices`` at each of ``(B, P)`` points, ``-> (B, n)``
        float64 on the CPU.

        BatchNorm statistics are recomputed at each point from the samples ``indices``
        (in their order, full batches of ``bn_batch_size``; all of them when there are
        fewer), not from the whole training set; the samples are then evaluated in eval
        mode. With all indices and no BatchNorm the row means are :meth:`loss`.
        """
        pts = self.as_points(points)
        idx = torch.as_tensor(indices, dtype=torch.long).reshape(-1)
        if idx.numel() == 0 or int(idx.min()) < 0 or int(idx.max()) >= self.n_train:
            raise InputError(f"indices must be non-empty and within 0..{self.n_train - 1}")
        idx = idx.to(self._x.device)
        out = torch.empty(len(pts), idx.numel(), dtype=torch.float64)
        size = self.eval_batch_size
        with torch.no_grad():
            for k, theta in enumerate(pts):
                state = {**self.params(theta), **self._statistics(theta, idx)}
                self._set_mode(False)
                parts = []
                for start in range(0, idx.numel(), size):
                    rows = idx[start:start + size]
                    xb = self._x[rows].to(self.device, non_blocking=True)
                    yb = self._y[rows].to(self.device, non_blocking=True)
                    parts.append(per_sample(self.loss_fn, self._forward(state, xb), yb).double())
                out[k] = torch.cat(parts).cpu()
        return out
