"""Loss-preserving embeddings of a network into a wider or deeper one (SPEC §9).

* :func:`widen` -- every extra neuron or channel of the larger network gets zero
  incoming and zero outgoing weights (and bias 0; new BatchNorm channels get weight 1,
  bias 0, running mean 0, running variance 1), so the outputs are unchanged.
* :func:`deepen` -- after a ReLU of width ``n`` insert a layer with weight ``I_n``,
  bias 0, followed by ReLU: ``relu(I relu(h)) = relu(h)``.
* :func:`embed_params` -- the same maps on flat parameter vectors ``θ`` (the order of
  ``model.named_parameters()``, as in :func:`torch.nn.utils.parameters_to_vector`),
  so a minimum of a small network becomes a point of a larger one with the same loss
  (the setting of the paper's Theorem 2).

Buffers (BatchNorm running statistics) are carried over by :func:`widen` and
:func:`deepen` but are not part of ``θ``; a landscape recomputes them (SPEC §5).
"""

from __future__ import annotations

import copy
import operator
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn.utils import vector_to_parameters

from topoloss.errors import InputError

__all__ = ["deepen", "embed_params", "widen"]

_WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def _own_tensors(module: nn.Module) -> bool:
    return bool(dict(module.named_parameters(recurse=False))) or bool(
        dict(module.named_buffers(recurse=False))
    )


def _in_out(module: nn.Module) -> tuple[int, int]:
    if isinstance(module, nn.Linear):
        return module.in_features, module.out_features
    return module.in_channels, module.out_channels  # type: ignore[return-value]


def _check_pair(name: str, s: nn.Module, big: nn.Module) -> None:
    where = f"module {name or '<root>'!r}"
    if type(s) is not type(big):
        raise InputError(
            f"{where} is {type(s).__name__} in small but {type(big).__name__} in large"
        )
    if _own_tensors(s) and not isinstance(s, _WEIGHTED + _NORMS):
        raise InputError(
            f"{where} ({type(s).__name__}) cannot be widened; widen supports Linear, "
            "Conv1d/2d/3d, BatchNorm1d/2d/3d and parameter-free modules"
        )
    if isinstance(s, _WEIGHTED[1:]):
        for attr in ("kernel_size", "stride", "padding", "dilation", "groups"):
            if getattr(s, attr) != getattr(big, attr):
                raise InputError(
                    f"{where}: {attr} is {getattr(s, attr)} in small, {getattr(big, attr)} in large"
                )
        if s.groups != 1:
            raise InputError(f"{where}: grouped convolutions cannot be widened")
    if isinstance(s, _NORMS) and (s.affine, s.track_running_stats) != (
        big.affine,
        big.track_running_stats,
    ):
        raise InputError(f"{where}: affine/track_running_stats differ between small and large")


def _check_structure(small: nn.Module, large: nn.Module) -> None:
    s_mods = dict(small.named_modules())
    l_mods = dict(large.named_modules())
    if list(s_mods) != list(l_mods):
        extra = sorted(set(s_mods) ^ set(l_mods))
        raise InputError(
            "small and large must have the same module layout (use deepen first to add "
            f"layers); modules present in only one of them: {extra}"
        )
    weighted: list[tuple[str, nn.Module, nn.Module]] = []
    for name, s in s_mods.items():
        _check_pair(name, s, l_mods[name])
        if isinstance(s, _WEIGHTED):
            weighted.append((name, s, l_mods[name]))
    if not weighted:
        return
    first_name, first_s, first_l = weighted[0]
    if _in_out(first_s)[0] != _in_out(first_l)[0]:
        raise InputError(f"the input size of {first_name!r} differs between small and large")
    last_name, last_s, last_l = weighted[-1]
    if _in_out(last_s)[1] != _in_out(last_l)[1]:
        raise InputError(f"the output size of {last_name!r} differs between small and large")
    # A Linear after (flattened) conv features: each channel must keep its block of
    # spatial positions, i.e. in_features / channels must agree (cross-multiplied).
    for (_, prev_s, prev_l), (name, s, big) in zip(weighted, weighted[1:]):
        if (isinstance(s, nn.Linear) and not isinstance(prev_s, nn.Linear)
                and s.in_features * _in_out(prev_l)[1] != _in_out(big)[0] * _in_out(prev_s)[1]):
            raise InputError(
                f"{name!r}: the flattened features per channel differ between small "
                "and large (different image size?)"
            )


def widen(small: nn.Module, large: nn.Module) -> dict[str, Tensor]:
    """Embed the parameters and buffers of ``small`` into the wider ``large``.

    ``small`` and ``large`` must have the same module layout (same names and types,
    e.g. two :func:`~topoloss.models.fcn` of equal depth, two
    :func:`~topoloss.models.cnn` or two :func:`~topoloss.models.resnet` that
    differ only in width) and the same input and output sizes; every tensor of
    ``small`` must fit in the corresponding one of ``large``. The old units are the
    first ones of each layer of ``large``; the new ones get zero incoming and
    outgoing weights and zero bias, so the network computes the same function
    (in eval mode; in train mode too, up to the running-statistics updates).

    Parameters
    ----------
    small : torch.nn.Module
        The trained smaller network (Linear, Conv, BatchNorm and parameter-free
        modules only, e.g. no LayerNorm or attention).
    large : torch.nn.Module
        A network of the wider architecture; only its shapes are read.

    Returns
    -------
    dict of str to Tensor
        A state dict for ``large`` (``large.load_state_dict(widen(small, large))``),
        with the dtype and device of ``small``.

    Raises
    ------
    ValueError
        If the layouts differ, a module type is unsupported, or a tensor of ``small``
        is larger than its counterpart in ``large``.
    """
    _check_structure(small, large)
    norms = {name for name, m in small.named_modules() if isinstance(m, _NORMS)}
    big = large.state_dict()
    out: dict[str, Tensor] = {}
    for key, s in small.state_dict().items():
        l_shape = big[key].shape
        if s.dim() != len(l_shape) or any(a > b for a, b in zip(s.shape, l_shape)):
            raise InputError(
                f"{key!r} has shape {tuple(s.shape)} in small, which does not fit "
                f"{tuple(l_shape)} in large"
            )
        owner, _, leaf = key.rpartition(".")
        if owner in norms and leaf in ("weight", "running_var"):
            t = torch.ones(l_shape, dtype=s.dtype, device=s.device)
        else:
            t = torch.zeros(l_shape, dtype=s.dtype, device=s.device)
        t[tuple(slice(0, n) for n in s.shape)] = s.detach()
        out[key] = t
    return out


def _identity_layer(before: nn.Linear | nn.Conv1d | nn.Conv2d | nn.Conv3d) -> nn.Module:
    n = _in_out(before)[1]
    ref = before.weight
    layer: nn.Linear | nn.Conv1d | nn.Conv2d | nn.Conv3d
    if isinstance(before, nn.Linear):
        layer = nn.Linear(n, n, device=ref.device, dtype=ref.dtype)
    else:
        layer = type(before)(n, n, kernel_size=1, device=ref.device, dtype=ref.dtype)
    with torch.no_grad():
        layer.weight.zero_()
        layer.weight.view(n, n, -1)[:, :, 0] = torch.eye(n, dtype=ref.dtype, device=ref.device)
        if layer.bias is not None:
            layer.bias.zero_()
    return layer


def _check_at(small: nn.Sequential, at: int | Sequence[int]) -> list[int]:
    raw = [at] if isinstance(at, int) else list(at)
    if not raw:
        raise InputError(f"{at=} names no layer")
    n = len(small)
    positions: set[int] = set()
    for i in raw:
        try:
            i = operator.index(i)
        except TypeError:
            raise InputError(f"{at=} must hold integer layer indices, got {i!r}") from None
        if not -n <= i < n:
            raise InputError(f"index {i} in {at=} is out of range for {n} layers")
        i %= n
        if not isinstance(small[i], nn.ReLU):
            raise InputError(
                f"layer {i} in {at=} is {type(small[i]).__name__}; deepen inserts after a ReLU"
            )
        positions.add(i)
    return sorted(positions)


def deepen(small: nn.Sequential, *, at: int | Sequence[int]) -> nn.Sequential:
    """Return a deeper copy of ``small`` with identity layers after the given ReLUs.

    After ``small[i]`` (a ReLU whose input has width ``n``) the layers
    ``Linear(n, n)`` with weight ``I_n`` and bias 0, then ``ReLU`` are inserted; if
    the ReLU follows a convolution, a 1x1 convolution with identity weight is
    inserted instead. As ``ReLU(h) >= 0``, ``ReLU(I ReLU(h) + 0) = ReLU(h)``: the
    outputs, hence the loss, are unchanged. ``deepen(fcn(depth=d), at=...)`` has the
    layout of ``fcn(depth=d + 1)`` (without BatchNorm in the new layer).

    Parameters
    ----------
    small : torch.nn.Sequential
        The network; it is not modified.
    at : int or sequence of int
        Indices into ``small`` of ReLU modules after which to insert (negative
        indices count from the end).

    Returns
    -------
    torch.nn.Sequential
        A new network with ``2 len(at)`` more modules, in the train/eval mode of
        ``small``.

    Raises
    ------
    ValueError
        If ``small`` is not a Sequential, an index is out of range, does not point
        at a ReLU, or no Linear/Conv precedes it.

    Examples
    --------
    >>> import torch
    >>> from topoloss.models import fcn
    >>> small = fcn(4, 2, depth=1, width=3)
    >>> deep = deepen(small, at=2)
    >>> x = torch.randn(5, 4)
    >>> torch.allclose(small(x), deep(x))
    True
    """
    if not isinstance(small, nn.Sequential):
        raise InputError(f"deepen needs an nn.Sequential, got {type(small).__name__}")
    positions = _check_at(small, at)
    layers = [copy.deepcopy(m) for m in small]
    for i in reversed(positions):
        before = next((m for m in reversed(layers[:i]) if isinstance(m, _WEIGHTED)), None)
        if before is None:
            raise InputError(f"no Linear or Conv layer precedes the ReLU at index {i}")
        layers[i + 1 : i + 1] = [_identity_layer(before), nn.ReLU()]
    deep = nn.Sequential(*layers)
    return deep.train(small.training)


def embed_params(
    small: nn.Module,
    theta: Tensor,
    large: nn.Module,
    *,
    at: int | Sequence[int] | None = None,
) -> Tensor:
    """Map a flat parameter vector of ``small`` to one of ``large`` with the same outputs.

    The map is ``deepen`` at ``at`` (if given) followed by :func:`widen` into the
    layout of ``large``. Flat vectors follow ``model.named_parameters()`` order.

    Parameters
    ----------
    small : torch.nn.Module
        The smaller architecture (its own parameter values are ignored).
    theta : Tensor
        Flat trainable parameters of ``small``, shape ``(P_small,)``.
    large : torch.nn.Module
        The larger architecture (its parameter values are ignored).
    at : int or sequence of int, optional
        ReLU indices of ``small`` (an ``nn.Sequential``) after which ``large`` has an
        extra layer; see :func:`deepen`.

    Returns
    -------
    Tensor
        Flat parameters ``(P_large,)`` of ``large``, dtype and device of ``theta``.

    Raises
    ------
    ValueError
        If ``theta`` has the wrong shape, or the architectures do not embed.

    Examples
    --------
    >>> import torch
    >>> from torch.nn.utils import parameters_to_vector
    >>> from topoloss.models import fcn
    >>> small, large = fcn(4, 2, depth=1, width=3), fcn(4, 2, depth=2, width=5)
    >>> theta = embed_params(small, parameters_to_vector(small.parameters()), large, at=2)
    >>> theta.shape
    torch.Size([67])
    """
    n_small = sum(p.numel() for p in small.parameters())
    if not isinstance(theta, Tensor) or theta.shape != (n_small,):
        shape = tuple(theta.shape) if isinstance(theta, Tensor) else type(theta).__name__
        raise InputError(f"theta must be a 1-D tensor of {n_small} parameters, got {shape}")
    model = copy.deepcopy(small)
    if theta.is_floating_point():
        model = model.to(dtype=theta.dtype, device=theta.device)
    vector_to_parameters(theta.detach(), model.parameters())
    if at is not None:
        model = deepen(model, at=at)  # type: ignore[arg-type]
    state = widen(model, large)
    return torch.cat([state[name].reshape(-1) for name, _ in large.named_parameters()])
