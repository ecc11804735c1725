"""A neural network + a dataset + a loss as a :class:`~topoloss.landscapes.base.Landscape` (SPEC §1, §5).

``θ`` is the flat vector of the model's trainable parameters, in the order of
``named_parameters()``. Every evaluation is *stateless*: a point's parameters are views
of the flat vector, handed to :func:`torch.func.functional_call` together with the
buffers that evaluation needs; the model's own layers are never re-implemented and
no attribute is set inside ``forward``.

This module holds the construction: the model's copy and parameter layout, the data,
:meth:`~ModelLandscape.subsample`, the flat-point conversions and the one forward pass
all evaluations share. The rest comes from mixins, one job each: exact losses and
metrics (:mod:`~topoloss.landscapes.exact_evaluation`), the mini-batch objective and its
batches (:mod:`~topoloss.landscapes.objective`), state dicts
(:mod:`~topoloss.landscapes.state_dict`), per-sample losses
(:mod:`~topoloss.landscapes.sample_losses`) and path metrics
(:mod:`~topoloss.landscapes._path_metrics`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call
from torch.utils.data import Dataset

from topoloss.data.core import materialize
from topoloss.errors import InputError, InputTypeError
from topoloss.landscapes._path_metrics import PathMetrics
from topoloss.landscapes.base import Landscape
from topoloss.landscapes.exact_evaluation import ExactEvaluation
from topoloss.landscapes.objective import MiniBatchObjective
from topoloss.landscapes.sample_losses import SampleLosses
from topoloss.landscapes.state_dict import StateDictConversions

__all__ = ["ModelLandscape"]

#: Data up to this size is moved to an accelerator once, at construction.
_DEVICE_DATA_BYTES = 2**31


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


class ModelLandscape(ExactEvaluation, MiniBatchObjective, PathMetrics, StateDictConversions, SampleLosses,
                     Landscape):
    """The training loss of a network as a function of its flat parameter vector.

    Parameters
    ----------
    model : torch.nn.Module or callable
        The network, or a factory ``() -> Module`` (called once under
        ``torch.manual_seed(seed)`` here, and again per seed by
        :func:`topoloss.train_minima`). The landscape works on its own deep copy;
        the module passed in is never modified.
    data : Dataset or (X, y)
        Training set of ``(input, target)`` pairs; it is materialized into tensors
        once (on ``device`` when it fits in 2 GiB).
    loss : callable, default=torch.nn.functional.cross_entropy
        ``loss(output, target) -> scalar``, the *mean* over the batch.
    batch_size : int, default=128
        Mini-batch size of :meth:`batches` (and of the BatchNorm recompute pass).
    eval_batch_size : int, optional
        Batch size of exact evaluations; default ``max(batch_size, 1024)``.
    bn_batch_size : int, optional
        Batch size of the BatchNorm recompute pass; default ``batch_size``.
    device : str or torch.device, default="cpu"
        Where the model, the points and (if small) the data live.
    test_data : Dataset or (X, y), optional
        Held-out set for :meth:`metrics` ``(split="test")``.
    bn_recompute : bool, default=True
        Recompute BatchNorm running statistics at every point before an exact
        evaluation (SPEC §5). With ``False`` the model's stored statistics are used.
    seed : int, default=0
        Seeds the factory call, the default mini-batch order and the (fixed) sample
        order of the recompute pass.

    Attributes
    ----------
    dim : int
        Number of trainable parameters ``P``.
    names, shapes : tuple
        Name and shape of each trainable parameter, in the order of ``θ``.
    n_train, n_test : int
        Dataset sizes (``n_test`` is 0 without ``test_data``).
    model : torch.nn.Module
        The landscape's private copy of the network (its parameter values are only a
        template; points are passed to it with ``functional_call``).
    loss_fn : callable
        The loss.
    vmap_evaluation : bool
        Whether :meth:`loss` evaluates several points in one vectorized pass
        (:mod:`topoloss.landscapes.batched`) when the model has no buffers. On by
        default on CUDA (one kernel launch per layer for all points); off on the CPU,
        where the evaluation is bound by arithmetic and the loop was as fast (digits
        ``fcn``) or 2.4x faster (a small CNN: vmapped convolutions are grouped ones).

    Notes
    -----
    *Exact loss* (:meth:`loss`, :meth:`metrics`): for every point, BatchNorm statistics
    are reset and re-estimated by one no-grad pass over the training set in train mode
    (cumulative average, ``momentum=None`` as in :func:`torch.optim.swa_utils.update_bn`,
    over full batches of ``bn_batch_size`` in a fixed order drawn from ``seed``,
    the remainder dropped, random modules such as dropout seeded by ``seed``); the mean
    loss is then computed in eval mode over the whole set. The statistics of the
    last point are cached, so ``prepare(p)``, ``loss(p)`` and ``metrics(p)`` cost
    one recompute. *Objective* (:meth:`objective`): train mode, BatchNorm uses batch
    statistics. Only the parameters are passed to ``functional_call``; the running
    statistics it updates are those of the landscape's private copy, a scratch space
    never read by an exact evaluation, which always passes freshly computed buffers.
    Calls are therefore not thread-safe. The objective does not check finiteness
    (that would synchronize a GPU every step).
    """

    def __init__(
        self,
        model: nn.Module | Callable[[], nn.Module],
        data: Dataset[Any] | Sequence[Any],
        *,
        loss: Callable[[Tensor, Tensor], Tensor] = F.cross_entropy,
        batch_size: int = 128,
        eval_batch_size: int | None = None,
        bn_batch_size: int | None = None,
        device: str | torch.device = "cpu",
        test_data: Dataset[Any] | Sequence[Any] | None = None,
        bn_recompute: bool = True,
        seed: int = 0,
    ) -> None:
        for key, value in (("batch_size", batch_size), ("eval_batch_size", eval_batch_size),
                           ("bn_batch_size", bn_batch_size)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise InputError(f"{key} must be a positive integer, got {key}={value!r}")
        if not callable(loss):
            raise InputTypeError(f"loss must be callable, got {type(loss).__name__}")
        self.seed = int(seed)
        try:
            self.device = torch.device(device)
        except RuntimeError:
            raise InputError(f"device={device!r} is not a torch device (e.g. 'cpu', 'cuda', 'cuda:1')") from None
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise InputError(f"device={device!r} was asked for, but this torch has no usable CUDA device")
        if isinstance(model, nn.Module):
            self._factory: Callable[[], nn.Module] | None = None
            module = copy.deepcopy(model)
        elif callable(model):
            self._factory = model
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                module = model()
            if not isinstance(module, nn.Module):
                raise InputTypeError(f"the model factory returned {type(module).__name__}, not a Module")
        else:
            raise InputTypeError(f"model must be a Module or a factory, got {type(model).__name__}")
        self.model = module.to(self.device)
        self.loss_fn = loss
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or max(batch_size, 1024)
        self.bn_batch_size = bn_batch_size or batch_size
        self.bn_recompute = bool(bn_recompute)
        self._init_layout()
        self._x, self._y = self._to_device(*materialize(data, "data", self.dtype))
        self.n_train = len(self._x)
        self._test = None if test_data is None else self._to_device(
            *materialize(test_data, "test_data", self.dtype))
        self.n_test = 0 if self._test is None else len(self._test[0])
        gen = torch.Generator().manual_seed(self.seed)
        self._bn_order = torch.randperm(self.n_train, generator=gen).to(self._x.device)
        self._mode: bool | None = None
        self._cache: tuple[Tensor, dict[str, Tensor]] | None = None
        self._per_pass: int | None = None
        self.vmap_evaluation = self.device.type == "cuda"
        self._probe()

    # ------------------------------------------------------------------ layout
    def _init_layout(self) -> None:
        model = self.model
        trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        if not trainable:
            raise InputError("the model has no trainable parameters")
        dtypes = {p.dtype for _, p in trainable}
        if len(dtypes) != 1:
            raise InputError(f"trainable parameters must share one dtype, got {sorted(map(str, dtypes))}")
        self.dtype = dtypes.pop()
        self.names = tuple(n for n, _ in trainable)
        self.shapes = tuple(tuple(p.shape) for _, p in trainable)
        self._numels = [p.numel() for _, p in trainable]
        self.dim = sum(self._numels)
        canonical = {id(p): n for n, p in trainable}
        # state-dict key -> canonical trainable name (aliases of tied weights included)
        self._alias = {k: canonical[id(v)] for k, v in model.state_dict(keep_vars=True).items()
                       if id(v) in canonical}
        self._tied = tuple((k, v) for k, v in self._alias.items() if k != v)
        self._state_shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        self._buffers = {k: v.detach() for k, v in model.named_buffers()}
        self._norm_buffers: list[tuple[str, str, str]] = []
        for prefix, mod in model.named_modules():
            if isinstance(mod, nn.modules.batchnorm._NormBase) and mod.track_running_stats:
                mod.momentum = None  # private copy: cumulative averages in train mode
                self._norm_buffers.append(tuple(  # type: ignore[arg-type]
                    _join(prefix, b) for b in ("running_mean", "running_var", "num_batches_tracked")))

    def subsample(self, n: int, *, seed: int = 0) -> ModelLandscape:
        """The same network on ``n`` training samples drawn without replacement by ``seed``
        (itself if ``n >= n_train``); shares the model, e.g. for cheap bounds
        (``pairs="adaptive:samples=512"``)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError(f"samples must be a positive integer, got {n!r}")
        if n >= self.n_train:
            return self
        out = copy.copy(self)
        idx = torch.randperm(self.n_train, generator=torch.Generator().manual_seed(seed))[:n].to(self._x.device)
        out._x, out._y, out.n_train = self._x[idx], self._y[idx], n
        out._bn_order = torch.randperm(n, generator=torch.Generator().manual_seed(self.seed)).to(self._x.device)
        out._cache, out._per_pass = None, None
        return out

    def _to_device(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        if self.device.type == "cpu" or x.nbytes + y.nbytes <= _DEVICE_DATA_BYTES:
            return x.to(self.device), y.to(self.device)
        return x, y

    def _probe(self) -> None:
        """One tiny forward pass, so that a model/data mismatch fails here."""
        x, y = self._x[:2].to(self.device), self._y[:2].to(self.device)
        self._set_mode(False)
        try:
            with torch.no_grad():
                value = self.loss_fn(self.model(x), y)
        except Exception as exc:  # noqa: BLE001 - report any shape/dtype failure as such
            raise InputError(
                f"the model {type(self.model).__name__} and its loss cannot be applied to the data (input shape "
                f"{tuple(x.shape[1:])}, target shape {tuple(y.shape[1:])}): {exc}"
            ) from None
        if not isinstance(value, Tensor) or value.numel() != 1:
            raise InputError(f"loss must return a scalar (the batch mean), got {value!r}")

    def __repr__(self) -> str:
        return (f"ModelLandscape({type(self.model).__name__}, dim={self.dim}, "
                f"n_train={self.n_train}, n_test={self.n_test}, device={str(self.device)!r})")

    # ------------------------------------------------------------- conversions
    def params(self, theta: Tensor) -> dict[str, Tensor]:
        """The parameter dict of one point ``(P,)``: views of ``theta``, no copies.

        One ``split`` (whose backward is a single concatenation) and one ``view``
        per parameter; gradients flow back into ``theta``. Tied weights appear under
        every name that shares them (so ``functional_call`` needs no untying pass).
        """
        chunks = theta.split(self._numels)
        params = {n: c.view(s) for n, c, s in zip(self.names, chunks, self.shapes)}
        for alias, name in self._tied:
            params[alias] = params[name]
        return params

    def as_points(self, points: Any, *, name: str = "points") -> Tensor:
        """Validate and convert to ``(B, P)`` on this landscape's device and dtype.

        Same contract as :meth:`Landscape.as_points`; finiteness is checked through
        the row sums first (a finite sum implies finite entries), which reads the
        points once instead of writing a mask as large as them.
        """
        p = torch.as_tensor(points)
        p = p.unsqueeze(0) if p.ndim == 1 else p
        if (p.ndim == 2 and p.shape[1] == self.dim and p.is_floating_point()
                and bool(torch.isfinite(p.sum(dim=1)).all())):
            return p.to(self.device, self.dtype)
        return super().as_points(points, name=name)

    def _point_tensor(self, point: Any, name: str = "point") -> Tensor:
        p = self.as_points(point, name=name)
        if len(p) != 1:
            raise InputError(f"{name} must be a single point of shape ({self.dim},), got {tuple(p.shape)}")
        return p[0].detach()

    def initial_point(self, seed: int) -> Tensor:
        """A freshly initialized point: the factory called, or ``reset_parameters()``
        run on every submodule, under ``torch.manual_seed(seed)`` (global RNG restored).
        """
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            if self._factory is not None:
                module = self._factory()
            else:
                module = copy.deepcopy(self.model)
                for mod in module.modules():
                    reset = getattr(mod, "reset_parameters", None)
                    if callable(reset):
                        reset()
        return self.point_from_module(module)

    # ------------------------------------------- shared by evaluation and objective
    def _set_mode(self, train: bool) -> None:
        # The network's own flag decides, not a copy of it: subsample() shares the network, so
        # another landscape may have switched it since this one last did. The first call sets
        # every submodule (the model passed in may have mixed modes); after that only
        # model.train() switches it, which keeps the submodules in step with the flag.
        if self._mode is None or self.model.training != train:
            self.model.train(train)
            self._mode = train

    def _forward(self, params: dict[str, Tensor], x: Tensor) -> Tensor:
        return functional_call(self.model, params, (x,), tie_weights=False)
