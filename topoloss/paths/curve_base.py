"""The curve interface, :class:`Curve`, and the polygonal machinery its families share.

A curve *specification* is a frozen dataclass subclass of :class:`Curve`; it holds no
tensors. A concrete curve is the triple ``(a, b, bends)`` and ``t -> φ(t)`` is
:meth:`Curve.at`, one fused combination of the ``k + 2`` control rows. The built-in
families live in :mod:`topoloss.paths.curves` (:class:`~topoloss.Bezier`,
:class:`~topoloss.PolyChain`, the registry) and :mod:`topoloss.paths.chain`
(:class:`~topoloss.Chain`); :class:`_Polyline` is the base of the polygonal ones.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, fields
from typing import Any, ClassVar

import torch

from topoloss.errors import InputError

__all__ = ["Curve"]


class Curve(ABC):
    """A family of curves ``φ: [0, 1] -> R^P`` with ``φ(0) = a`` and ``φ(1) = b``.

    Subclasses are frozen dataclasses (the specification); the control points live in
    a separate ``(k, P)`` tensor so that a curve is a stateless map. All methods also
    accept a leading batch of curves: ``a, b`` of shape ``(J, P)`` and ``bends`` of
    shape ``(J, k, P)``.
    """

    #: Name used in serialized records and on the command line.
    kind: ClassVar[str]
    #: How :func:`topoloss.connect` trains the family: ``"sampled"`` (a gradient step on
    #: ``L(φ(t))`` at sampled ``t``, as in mode-connectivity work) or ``"nudged"`` (every
    #: movable point moved by the projected gradient, :meth:`Chain.project`, with
    #: insertion, :meth:`Chain.insert`).
    training: ClassVar[str] = "sampled"

    @property
    @abstractmethod
    def n_bends(self) -> int:
        """Number of movable control points a fresh curve starts with."""

    @abstractmethod
    def weights(self, t: torch.Tensor, k: int) -> torch.Tensor:
        """Coefficients of the ``k + 2`` control rows ``[a; bends; b]`` at ``t``.

        Parameters
        ----------
        t : Tensor, shape (..., T)
            Curve parameters in ``[0, 1]``.
        k : int
            Number of bends.

        Returns
        -------
        Tensor, shape (..., T, k + 2)
            ``φ(t) = weights(t, k) @ [a; bends; b]``.
        """

    def knots(self, k: int) -> torch.Tensor:
        """Parameters ``t`` at which the curve may have a kink (none for smooth curves).

        Dense evaluation adds these to its grid so that a polygonal chain is evaluated
        at every vertex.
        """
        return torch.empty(0, dtype=torch.float64)

    def init_bends(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """``n_bends`` control points evenly spaced on the segment ``[a, b]``, ``(k, P)``.

        For every family this makes the curve the straight segment, with ``φ(t)`` the
        point at fraction ``t`` of the way from ``a`` to ``b``.
        """
        a, b = _check_endpoints(a, b)
        k = self.n_bends
        s = torch.arange(1, k + 1, dtype=a.dtype, device=a.device) / (k + 1)
        return torch.lerp(a.unsqueeze(-2), b.unsqueeze(-2), s.unsqueeze(-1)).contiguous()

    def at(
        self, a: torch.Tensor, b: torch.Tensor, bends: torch.Tensor, t: torch.Tensor | float
    ) -> torch.Tensor:
        """Points ``φ(t)``, shape ``(T, P)``, differentiable with respect to ``bends``.

        Parameters
        ----------
        a, b : Tensor, shape (P,) or (J, P)
            Endpoints (held exactly: ``φ(0) == a``, ``φ(1) == b``).
        bends : Tensor, shape (k, P) or (J, k, P)
            Movable control points; ``k`` may differ from :attr:`n_bends` (a
            :class:`Chain` grows by insertion).
        t : Tensor, shape (T,) or (J, T), or float
            Curve parameters in ``[0, 1]``.

        Returns
        -------
        Tensor, shape (T, P) or (J, T, P)
        """
        _check_bends(*_check_endpoints(a, b), bends)
        t = _as_t(t, a)
        w = self.weights(t, bends.shape[-2]).to(a.dtype)
        # One fused combination: the fixed endpoints enter elementwise, the bends through
        # one (batched) addmm, so backward computes a gradient for the bends alone.
        ends = torch.mul(b.unsqueeze(-2), w[..., -1:]).addcmul_(w[..., :1], a.unsqueeze(-2))
        if bends.shape[-2] == 0:
            return ends
        mid = w[..., 1:-1]
        if a.ndim == 1:
            return torch.addmm(ends, mid, bends)
        return torch.baddbmm(ends, mid.expand(a.shape[0], *mid.shape[-2:]), bends)

    def spec(self) -> str:
        """The specification as a spec string, options at their defaults left out
        (inverse: :func:`make_curve`).

        >>> from topoloss.paths.curves import Bezier, Chain
        >>> Bezier(bends=2).spec(), Chain().spec(), Chain(points=3, spring=0.5).spec()
        ('bezier:bends=2', 'chain', 'chain:points=3,spring=0.5')
        """
        options = ",".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self)  # type: ignore[arg-type]
                           if getattr(self, f.name) != f.default)
        return f"{self.kind}:{options}" if options else self.kind

    def to_dict(self) -> dict[str, Any]:
        """The specification as a JSON-ready dict (inverse: :func:`curve_from_dict`)."""
        return {"kind": self.kind, **asdict(self)}  # type: ignore[call-overload]


def _as_t(t: torch.Tensor | float, control: torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(t, dtype=control.dtype, device=control.device)
    return t.reshape(-1) if t.ndim == 0 else t


def _check_endpoints(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if a.ndim not in (1, 2) or a.shape != b.shape:
        raise InputError(
            f"endpoints must be two vectors of the same shape (P,) (or (J, P) for a batch), "
            f"got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    return a, b


def _check_bends(a: torch.Tensor, b: torch.Tensor, bends: torch.Tensor) -> None:
    if bends.ndim != a.ndim + 1 or bends.shape[-1] != a.shape[-1] or bends.shape[:-2] != a.shape[:-1]:
        want = f"(k, {a.shape[-1]})" if a.ndim == 1 else f"({a.shape[0]}, k, {a.shape[-1]})"
        raise InputError(
            f"bends must have shape {want} to match the endpoints, got {tuple(bends.shape)}"
        )


def _control(a: torch.Tensor, b: torch.Tensor, bends: torch.Tensor) -> torch.Tensor:
    """The control rows ``[a; bends; b]``, shape ``(..., k + 2, P)``."""
    _check_bends(*_check_endpoints(a, b), bends)
    return torch.cat([a.unsqueeze(-2), bends, b.unsqueeze(-2)], dim=-2)


def _polyline_at(control: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear curve through ``control`` rows (``(..., n, P)``) at equal ``t``."""
    segments = control.shape[-2] - 1
    t = t.expand(*control.shape[:-2], t.shape[-1])
    u = t.clamp(0, 1) * segments
    idx = u.floor().long().clamp_(max=segments - 1)
    s = (u - idx.to(u.dtype)).unsqueeze(-1)
    lo = torch.take_along_dim(control, idx.unsqueeze(-1), dim=-2)
    hi = torch.take_along_dim(control, (idx + 1).unsqueeze(-1), dim=-2)
    return torch.lerp(lo, hi, s)


def _polyline_weights(t: torch.Tensor, k: int) -> torch.Tensor:
    nodes = torch.linspace(0, 1, k + 2, dtype=t.dtype, device=t.device)
    return (1 - (t.unsqueeze(-1) - nodes).abs() * (k + 1)).clamp_(min=0)


class _Polyline(Curve):
    """Curves that are polygonal chains through their control points at equal ``t``."""

    def weights(self, t: torch.Tensor, k: int) -> torch.Tensor:
        return _polyline_weights(t, k)

    def knots(self, k: int) -> torch.Tensor:
        return torch.linspace(0, 1, k + 2, dtype=torch.float64)

    def at(
        self, a: torch.Tensor, b: torch.Tensor, bends: torch.Tensor, t: torch.Tensor | float
    ) -> torch.Tensor:
        control = _control(a, b, bends)
        return _polyline_at(control, _as_t(t, control))
