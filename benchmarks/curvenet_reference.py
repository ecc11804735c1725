"""A per-layer curve network in the style of the public mode-connectivity code.

The reference :mod:`benchmarks.bench_curve_step` compares topoloss's curve step
against: every ``Conv2d``, ``Linear`` and ``BatchNorm`` layer of a network is replaced by
a layer that holds its own control points ``θ_0 .. θ_{k+1}`` (one tensor per control
point and per parameter, the endpoints frozen) and combines them with the curve's
coefficients right before its convolution (``weight = Σ_i c_i θ_i``, accumulated term by
term as in that code), while the weights are hot in cache. Nothing here is used by
topoloss itself.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["CurveNet"]


class _Coefficients:
    """The coefficients of the current ``t``, shared by all layers of one network."""

    value: Tensor | None = None


class _CurveLayer(nn.Module):
    """One layer whose parameters are combinations of their own control points."""

    def __init__(self, base: nn.Module, controls: dict[str, Sequence[Tensor]], coeffs: _Coefficients) -> None:
        super().__init__()
        self.base = base
        self.coeffs = coeffs
        self.names = tuple(controls)
        for name in self.names:
            delattr(base, name)
            last = len(controls[name]) - 1
            for i, value in enumerate(controls[name]):
                fixed = i in (0, last)
                self.register_parameter(f"{name}_{i}", nn.Parameter(value.clone(), requires_grad=not fixed))
        self.n_controls = len(next(iter(controls.values())))

    def weights_t(self) -> dict[str, Tensor]:
        coeffs = self.coeffs.value
        assert coeffs is not None
        out: dict[str, Tensor] = {}
        for name in self.names:
            w: Tensor | None = None
            for i in range(self.n_controls):
                term = getattr(self, f"{name}_{i}") * coeffs[i]
                w = term if w is None else w + term
            assert w is not None
            out[name] = w
        return out

    def forward(self, x: Tensor) -> Tensor:
        w = self.weights_t()
        base = self.base
        if isinstance(base, nn.Conv2d):
            return base._conv_forward(x, w["weight"], w.get("bias"))
        if isinstance(base, nn.Linear):
            return F.linear(x, w["weight"], w.get("bias"))
        assert isinstance(base, nn.modules.batchnorm._BatchNorm)
        factor = 0.0
        if base.training and base.track_running_stats:
            assert base.num_batches_tracked is not None
            base.num_batches_tracked.add_(1)
            factor = 1.0 / float(base.num_batches_tracked) if base.momentum is None else base.momentum
        use_batch = base.training or base.running_mean is None
        return F.batch_norm(x, base.running_mean if not base.training or base.track_running_stats else None,
                            base.running_var if not base.training or base.track_running_stats else None,
                            w.get("weight"), w.get("bias"), use_batch, factor, base.eps)


class CurveNet(nn.Module):
    """A network as a curve: ``forward(x, coeffs)`` runs it at the point ``Σ_i c_i θ_i``.

    Parameters
    ----------
    model : nn.Module
        The architecture (copied; only ``Conv2d``, ``Linear`` and ``BatchNorm`` layers may
        hold parameters).
    controls : sequence of dict
        The control points ``θ_0 .. θ_{k+1}``, each a parameter dict of ``model``
        (``named_parameters`` names); the first and the last are frozen.
    """

    def __init__(self, model: nn.Module, controls: Sequence[dict[str, Tensor]]) -> None:
        super().__init__()
        self.net = copy.deepcopy(model)
        self.coeffs = _Coefficients()
        swaps: list[tuple[nn.Module, str, nn.Module]] = []
        for prefix, module in self.net.named_modules():
            own = dict(module.named_parameters(recurse=False))
            if not own:
                continue
            if not isinstance(module, (nn.Conv2d, nn.Linear, nn.modules.batchnorm._BatchNorm)):
                raise TypeError(f"{prefix}: {type(module).__name__} holds parameters; not supported")
            per_name = {n: [c[f"{prefix}.{n}" if prefix else n].detach() for c in controls] for n in own}
            swaps.append((module, prefix, _CurveLayer(module, per_name, self.coeffs)))
        for module, prefix, layer in swaps:
            parent_name, _, child = prefix.rpartition(".")
            parent = self.net.get_submodule(parent_name) if parent_name else self.net
            if not prefix:
                raise TypeError("the model itself holds parameters; wrap it in a container")
            setattr(parent, child, layer)
            del module

    def forward(self, x: Tensor, coeffs: Tensor) -> Tensor:
        self.coeffs.value = coeffs
        return self.net(x)

    def bends(self) -> list[Tensor]:
        """The movable control points (the parameters that require grad)."""
        return [p for p in self.parameters() if p.requires_grad]
