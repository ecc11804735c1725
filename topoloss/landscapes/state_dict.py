"""State dicts and checkpoints of a :class:`~topoloss.ModelLandscape`'s network as flat points.

:class:`StateDictConversions` holds the conversions ``module / state dict <-> θ`` with
their validation; :class:`~topoloss.ModelLandscape` inherits them. They read only the
layout the landscape computed from its model (``names``, ``shapes``, aliases of tied
weights, state-dict shapes, buffers).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from topoloss.errors import InputError

__all__ = ["StateDictConversions"]

#: Mapping keys under which checkpoints commonly wrap their state dict.
_WRAPPER_KEYS = ("state_dict", "model_state", "model_state_dict", "model")


class StateDictConversions:
    """``module / state dict <-> θ`` for a landscape with a model's layout (a mixin)."""

    names: tuple[str, ...]
    dim: int
    dtype: torch.dtype
    device: torch.device
    model: nn.Module
    _alias: dict[str, str]
    _state_shapes: dict[str, tuple[int, ...]]
    _buffers: dict[str, Tensor]

    def _point_tensor(self, point: Any, name: str = "point") -> Tensor:
        raise NotImplementedError

    def params(self, theta: Tensor) -> dict[str, Tensor]:
        raise NotImplementedError

    def _statistics(self, theta: Tensor) -> dict[str, Tensor]:
        raise NotImplementedError

    def _unwrap(self, state: Any, source: str) -> Mapping[str, Any]:
        if isinstance(state, nn.Module):
            return state.state_dict()
        if not isinstance(state, Mapping):
            raise InputError(  # noqa: TRY004 - bad file content, reported with the file
                f"{source}: expected a module or a state dict, got {type(state).__name__}")
        for key in _WRAPPER_KEYS:
            inner = state.get(key)
            if isinstance(inner, Mapping) and not isinstance(state.get(self.names[0]), Tensor):
                return self._unwrap(inner, source)
        keys = list(state)
        if keys and all(isinstance(k, str) and k.startswith("module.") for k in keys):
            state = {k[len("module."):]: v for k, v in state.items()}  # (Distributed)DataParallel
        return state

    def check_state_dict(self, state: Any, *, source: str = "state dict") -> dict[str, Tensor]:
        """Validate a state dict (or module, or wrapped checkpoint) against the model.

        Every key must be one of the model's state-dict keys with the same shape;
        every trainable parameter must be present (under its name or a tied alias).
        Buffers may be missing (they are not coordinates of ``θ``).

        Returns
        -------
        dict of str to Tensor
            The (unwrapped) state dict.

        Raises
        ------
        ValueError
            Naming ``source`` and the missing, unexpected or mis-shaped key.
        """
        sd = self._unwrap(state, source)
        for key, value in sd.items():
            if key not in self._state_shapes:
                raise InputError(f"{source}: unexpected key {key!r} (not in the model's state dict)")
            if not isinstance(value, Tensor):
                raise InputError(  # noqa: TRY004 - bad file content, reported with the file
                    f"{source}: key {key!r} holds {type(value).__name__}, not a tensor")
            if value.is_meta:
                raise InputError(f"{source}: key {key!r} is a meta-device tensor (shape only, no values)")
            if key in self._alias and not value.is_floating_point():
                raise InputError(f"{source}: parameter {key!r} has dtype {str(value.dtype).removeprefix('torch.')}; "
                                 f"expected a real floating-point tensor")
            want = self._state_shapes[key]
            if tuple(value.shape) != want:
                kind = "buffer" if key in self._buffers else "parameter"
                raise InputError(f"{source}: {kind} {key!r} has shape {tuple(value.shape)}, "
                                 f"the model expects {want}")
        present = {self._alias[k] for k in sd if k in self._alias}
        for name in self.names:
            if name not in present:
                raise InputError(f"{source}: missing key {name!r}")
        return dict(sd)

    def flatten(self, state: nn.Module | Mapping[str, Tensor], *, source: str = "state dict") -> Tensor:
        """The point ``θ`` of a module or state dict (validated, see :meth:`check_state_dict`)."""
        sd = self.check_state_dict(state, source=source)
        by_name = {self._alias[k]: v for k, v in sd.items() if k in self._alias}
        flat = torch.cat([by_name[n].detach().reshape(-1).to(self.device, self.dtype) for n in self.names])
        if not torch.isfinite(flat).all():
            raise InputError(f"{source}: parameters contain NaN or infinite values")
        return flat

    def point_from_module(self, module: nn.Module) -> Tensor:
        """The point ``θ`` of a module with this landscape's architecture."""
        return self.flatten(module, source=type(module).__name__)

    def unflatten(self, point: Any) -> dict[str, Tensor]:
        """A full state dict for ``model.load_state_dict`` at ``point``.

        Parameters are copied out of ``point`` (each tied alias gets its own copy);
        frozen parameters come from the model; buffers are the statistics recomputed
        at ``point`` (or the model's own with ``bn_recompute=False``).
        """
        theta = self._point_tensor(point)
        params = self.params(theta)
        buffers = self._statistics(theta)
        out: dict[str, Tensor] = {}
        for key, value in self.model.state_dict().items():
            if key in self._alias:
                value = params[self._alias[key]]
            elif key in buffers:
                value = buffers[key]
            out[key] = value.detach().clone().contiguous()
        return out
