"""Curves between two points of parameter space ``R^P`` (SPEC §3).

A curve *specification* (:class:`Bezier`, :class:`PolyChain`, :class:`Chain`) is a
frozen dataclass; it holds no tensors. A concrete curve is the triple
``(a, b, bends)``: the fixed endpoints ``a, b`` of shape ``(P,)`` and **one** flat
tensor ``bends`` of shape ``(k, P)`` with the movable control points. The map
``t -> φ(t)`` is :meth:`Curve.at`, a pure function differentiable with respect to
``bends``; it computes all requested points in one fused combination of the
``k + 2`` control rows (a matrix product for Bézier curves, one gather + ``lerp`` for
polygonal chains), never one small operation per parameter tensor, so it stays cheap
for networks with millions of parameters.

Every curve holds its endpoints exactly (``φ(0) == a`` and ``φ(1) == b`` bit for bit)
and :meth:`Curve.init_bends` puts the control points on the straight segment, where
every family reproduces the segment itself.

The :class:`Chain` additionally carries the two operations of the paper's
Algorithms 2–3 that are independent of any optimizer: :meth:`Chain.project` (the
gradient component orthogonal to the chain, plus optional spring and climbing image)
and :meth:`Chain.insert` (new points where the loss inside a segment is highest).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch

__all__ = ["Bezier", "Chain", "Curve", "PolyChain", "curve_from_dict"]


def _check_int(value: Any, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}={value!r}; expected an integer >= {minimum}")
    return value


def _as_t(t: torch.Tensor | float, like: torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(t, dtype=like.dtype, device=like.device).reshape(-1)
    return t


class Curve(ABC):
    """A family of curves ``φ: [0, 1] -> R^P`` with ``φ(0) = a`` and ``φ(1) = b``.

    Subclasses are frozen dataclasses (the specification); the control points live in
    a separate ``(k, P)`` tensor so that a curve is a stateless map.
    """

    #: Name used in serialized records and on the command line.
    kind: ClassVar[str]

    @property
    @abstractmethod
    def n_bends(self) -> int:
        """Number of movable control points a fresh curve starts with."""

    @abstractmethod
    def weights(self, t: torch.Tensor, k: int) -> torch.Tensor:
        """Coefficients of the ``k + 2`` control rows ``[a; bends; b]`` at ``t``.

        Parameters
        ----------
        t : Tensor, shape (T,)
            Curve parameters in ``[0, 1]``.
        k : int
            Number of bends.

        Returns
        -------
        Tensor, shape (T, k + 2)
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
        return torch.lerp(a.expand(k, -1), b.expand(k, -1), s[:, None]).contiguous()

    def at(
        self, a: torch.Tensor, b: torch.Tensor, bends: torch.Tensor, t: torch.Tensor | float
    ) -> torch.Tensor:
        """Points ``φ(t)``, shape ``(T, P)``, differentiable with respect to ``bends``.

        Parameters
        ----------
        a, b : Tensor, shape (P,)
            Endpoints (held exactly: ``φ(0) == a``, ``φ(1) == b``).
        bends : Tensor, shape (k, P)
            Movable control points; ``k`` may differ from :attr:`n_bends` (a
            :class:`Chain` grows by insertion).
        t : Tensor, shape (T,), or float
            Curve parameters in ``[0, 1]``.
        """
        control = _control(a, b, bends)
        t = _as_t(t, control)
        return self.weights(t, control.shape[0] - 2).to(control.dtype) @ control

    def to_dict(self) -> dict[str, Any]:
        """The specification as a JSON-ready dict (inverse: :func:`curve_from_dict`)."""
        return {"kind": self.kind, **asdict(self)}  # type: ignore[call-overload]


def _check_endpoints(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(
            f"endpoints must be two vectors of the same shape (P,), got {tuple(a.shape)} "
            f"and {tuple(b.shape)}"
        )
    return a, b


def _control(a: torch.Tensor, b: torch.Tensor, bends: torch.Tensor) -> torch.Tensor:
    a, b = _check_endpoints(a, b)
    if bends.ndim != 2 or bends.shape[1] != a.shape[0]:
        raise ValueError(
            f"bends must have shape (k, {a.shape[0]}) to match the endpoints, "
            f"got {tuple(bends.shape)}"
        )
    return torch.cat([a.unsqueeze(0), bends, b.unsqueeze(0)])


def _polyline_at(control: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear curve through ``control`` rows at equally spaced ``t``."""
    segments = control.shape[0] - 1
    u = t.clamp(0, 1) * segments
    idx = u.floor().long().clamp_(max=segments - 1)
    s = (u - idx.to(u.dtype)).unsqueeze(1)
    return torch.lerp(control[idx], control[idx + 1], s)


def _polyline_weights(t: torch.Tensor, k: int) -> torch.Tensor:
    nodes = torch.linspace(0, 1, k + 2, dtype=t.dtype, device=t.device)
    return (1 - (t[:, None] - nodes[None, :]).abs() * (k + 1)).clamp_(min=0)


@dataclass(frozen=True)
class Bezier(Curve):
    """Bézier curve of degree ``bends + 1`` with the endpoints as outer control points.

    ``φ(t) = Σ_{i=0..k+1} C(k+1, i) t^i (1-t)^{k+1-i} θ_i`` with ``θ_0 = a``,
    ``θ_{k+1} = b`` and the bends ``θ_1..θ_k``; ``bends=0`` is the straight segment.

    Parameters
    ----------
    bends : int
        Number of movable control points ``k >= 0``.
    """

    kind: ClassVar[str] = "bezier"
    bends: int = 1

    def __post_init__(self) -> None:
        _check_int(self.bends, "bends", minimum=0)

    @property
    def n_bends(self) -> int:
        return self.bends

    def weights(self, t: torch.Tensor, k: int) -> torch.Tensor:
        n = k + 1
        i = torch.arange(n + 1, dtype=t.dtype, device=t.device)
        binom = torch.tensor([math.comb(n, j) for j in range(n + 1)], dtype=t.dtype, device=t.device)
        t = t[:, None]
        return binom * t.pow(i) * (1 - t).pow(n - i)


@dataclass(frozen=True)
class PolyChain(Curve):
    """Polygonal chain through ``bends`` movable points at equally spaced ``t``.

    Vertex ``i`` (``a`` is 0, ``b`` is ``k + 1``) sits at ``t = i / (k + 1)``.

    Parameters
    ----------
    bends : int
        Number of movable vertices ``k >= 0``.
    """

    kind: ClassVar[str] = "polychain"
    bends: int = 1

    def __post_init__(self) -> None:
        _check_int(self.bends, "bends", minimum=0)

    @property
    def n_bends(self) -> int:
        return self.bends

    def weights(self, t: torch.Tensor, k: int) -> torch.Tensor:
        return _polyline_weights(t, k)

    def knots(self, k: int) -> torch.Tensor:
        return torch.linspace(0, 1, k + 2, dtype=torch.float64)

    def at(
        self, a: torch.Tensor, b: torch.Tensor, bends: torch.Tensor, t: torch.Tensor | float
    ) -> torch.Tensor:
        control = _control(a, b, bends)
        return _polyline_at(control, _as_t(t, control))


@dataclass(frozen=True)
class Chain(Curve):
    """The paper's chain with insertion (Algorithms 2–3): a nudged elastic band.

    A polygonal chain of movable points (parameterized like :class:`PolyChain`, vertex
    ``i`` of ``n + 2`` at ``t = i / (n + 1)``). Each optimizer step moves every point by
    the component of ``-∇L`` orthogonal to the chain's tangent (:meth:`project`); every
    ``insert_every`` steps new points are inserted where the loss inside a segment is
    highest (:meth:`insert`).

    Parameters
    ----------
    points : int
        Movable points of a fresh chain (``>= 1``).
    insert_every : int
        Optimizer steps between two insertion rounds (``>= 1``).
    max_points : int
        No insertion beyond this many movable points.
    spring : float
        Spring constant pulling neighbouring segments to equal length (along the
        tangent only); 0 is the paper's spring-free chain.
    climbing : bool
        Climbing image: the highest interior point moves *up* along the tangent, so
        that it converges to the saddle.
    insert_count : int
        Points inserted per round at most.
    probes : int
        Loss probes inside each segment when deciding on insertion.
    stretch : float
        A segment longer than ``stretch`` times the mean segment length gets a point
        at its midpoint even if its loss is not the highest.
    """

    kind: ClassVar[str] = "chain"
    points: int = 7
    insert_every: int = 50
    max_points: int = 31
    spring: float = 0.0
    climbing: bool = False
    insert_count: int = 2
    probes: int = 3
    stretch: float = 3.0

    def __post_init__(self) -> None:
        _check_int(self.points, "points", minimum=1)
        _check_int(self.insert_every, "insert_every", minimum=1)
        _check_int(self.max_points, "max_points", minimum=self.points)
        _check_int(self.insert_count, "insert_count", minimum=0)
        _check_int(self.probes, "probes", minimum=1)
        for name in ("spring", "stretch"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}={value!r}; expected a finite number >= 0")

    @property
    def n_bends(self) -> int:
        return self.points

    def weights(self, t: torch.Tensor, k: int) -> torch.Tensor:
        return _polyline_weights(t, k)

    def knots(self, k: int) -> torch.Tensor:
        return torch.linspace(0, 1, k + 2, dtype=torch.float64)

    def at(
        self, a: torch.Tensor, b: torch.Tensor, bends: torch.Tensor, t: torch.Tensor | float
    ) -> torch.Tensor:
        control = _control(a, b, bends)
        return _polyline_at(control, _as_t(t, control))

    # ------------------------------------------------------------------ algorithm
    @staticmethod
    def tangents(a: torch.Tensor, b: torch.Tensor, bends: torch.Tensor) -> torch.Tensor:
        """Unit tangents at the movable points, ``(k, P)``, from their two neighbours."""
        control = _control(a, b, bends)
        tau = control[2:] - control[:-2]
        return tau / tau.norm(dim=1, keepdim=True).clamp_min(torch.finfo(tau.dtype).tiny)

    def project(
        self,
        a: torch.Tensor,
        b: torch.Tensor,
        bends: torch.Tensor,
        grad: torch.Tensor,
        losses: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The update direction of the movable points (a "gradient" to descend).

        ``g - (g·τ)τ`` per point (the tangential part only re-parameterizes the
        curve), plus ``-spring (|x_{i+1} - x_i| - |x_i - x_{i-1}|) τ`` if
        ``spring > 0``, and ``g - 2(g·τ)τ`` at the highest point if ``climbing``.

        Parameters
        ----------
        a, b, bends : Tensor
            The chain (see :meth:`at`).
        grad : Tensor, shape (k, P)
            Loss gradient at each movable point.
        losses : Tensor, shape (k,), optional
            Loss at each movable point; required when ``climbing``.
        """
        if grad.shape != bends.shape:
            raise ValueError(f"grad has shape {tuple(grad.shape)}, expected {tuple(bends.shape)}")
        with torch.no_grad():
            tau = self.tangents(a, b, bends)
            along = (grad * tau).sum(dim=1, keepdim=True)
            out = grad - along * tau
            if self.spring > 0:
                control = _control(a, b, bends)
                seg = (control[1:] - control[:-1]).norm(dim=1)
                out = out - self.spring * (seg[1:] - seg[:-1]).unsqueeze(1) * tau
            if self.climbing and bends.shape[0] > 0:
                if losses is None:
                    raise ValueError("climbing=True needs the losses at the movable points")
                top = int(torch.argmax(losses))
                out[top] = grad[top] - 2 * along[top] * tau[top]
        return out

    def insert(
        self,
        a: torch.Tensor,
        b: torch.Tensor,
        bends: torch.Tensor,
        loss: Callable[[torch.Tensor], torch.Tensor],
    ) -> torch.Tensor:
        """One insertion round: the chain with up to ``insert_count`` new points.

        The loss is probed at ``probes`` evenly spaced points inside each segment. A
        segment is a candidate if its highest probe exceeds both of its vertices (the
        polyline misses a bump there) or if it is longer than ``stretch`` times the
        mean segment length. Candidates are ranked by their highest probe; a new point
        goes to the highest probe of each of the first ``insert_count`` candidates
        (capped at ``max_points`` movable points in all).

        Parameters
        ----------
        a, b, bends : Tensor
            The chain (see :meth:`at`).
        loss : callable
            Exact loss at a batch of points, ``(B, P) -> (B,)``.

        Returns
        -------
        Tensor, shape (k', P)
            The new movable points, ``k <= k' <= max_points``, in chain order; the
            old points are kept unchanged.
        """
        room = min(self.insert_count, self.max_points - bends.shape[0])
        if room <= 0:
            return bends
        with torch.no_grad():
            control = _control(a, b, bends.detach())
            n_seg = control.shape[0] - 1
            s = torch.arange(1, self.probes + 1, dtype=control.dtype, device=control.device)
            s = s / (self.probes + 1)
            probes = torch.lerp(
                control[:-1].unsqueeze(1), control[1:].unsqueeze(1), s[None, :, None]
            ).reshape(n_seg * self.probes, -1)
            values = loss(torch.cat([control, probes])).reshape(-1)
            vertex = values[: n_seg + 1]
            probe = values[n_seg + 1 :].reshape(n_seg, self.probes)
            best, where = probe.max(dim=1)
            bulge = best > torch.maximum(vertex[:-1], vertex[1:])
            length = (control[1:] - control[:-1]).norm(dim=1)
            long = length > self.stretch * length.mean()
            candidates = torch.nonzero(bulge | long).reshape(-1).tolist()
            candidates.sort(key=lambda j: (-float(best[j]), j))
            chosen = sorted(candidates[:room])
            if not chosen:
                return bends
            pieces = []
            prev = 0
            for j in chosen:
                # segment j joins control rows j and j+1, i.e. bends rows j-1 and j
                pieces.append(bends.detach()[prev:j])
                frac = s[where[j]] if bulge[j] else control.new_tensor(0.5)
                pieces.append(torch.lerp(control[j], control[j + 1], frac).unsqueeze(0))
                prev = j
            pieces.append(bends.detach()[prev:])
            return torch.cat(pieces).contiguous()


_KINDS: dict[str, type[Curve]] = {c.kind: c for c in (Bezier, PolyChain, Chain)}


def curve_from_dict(data: Mapping[str, Any]) -> Curve:
    """Rebuild a curve specification from :meth:`Curve.to_dict`.

    Raises
    ------
    ValueError
        If the ``kind`` is unknown or a field is invalid.
    """
    fields = dict(data)
    kind = fields.pop("kind", None)
    if kind not in _KINDS:
        raise ValueError(f"unknown curve kind={kind!r}; expected one of {sorted(_KINDS)}")
    try:
        return _KINDS[kind](**fields)
    except TypeError as exc:
        raise ValueError(f"invalid {kind} curve fields {fields!r}: {exc}") from None
