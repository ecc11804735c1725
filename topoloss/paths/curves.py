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
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

import torch

from topoloss._registry import Registry
from topoloss._specs import check_name, parse_spec
from topoloss._validate import check_int
from topoloss.errors import InputError
from topoloss.paths._chain import ChainGroup, insert_group, project_group

__all__ = ["CURVES", "Bezier", "Chain", "Curve", "PolyChain", "curve_from_dict", "make_curve", "register_curve"]


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
        check_int(self.bends, "bends", low=0)

    @property
    def n_bends(self) -> int:
        return self.bends

    def weights(self, t: torch.Tensor, k: int) -> torch.Tensor:
        n = k + 1
        i = torch.arange(n + 1, dtype=t.dtype, device=t.device)
        binom = torch.tensor([math.comb(n, j) for j in range(n + 1)], dtype=t.dtype, device=t.device)
        t = t.unsqueeze(-1)
        return binom * t.pow(i) * (1 - t).pow(n - i)


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


@dataclass(frozen=True)
class PolyChain(_Polyline):
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
        check_int(self.bends, "bends", low=0)

    @property
    def n_bends(self) -> int:
        return self.bends


@dataclass(frozen=True)
class Chain(_Polyline):
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
    training: ClassVar[str] = "nudged"
    points: int = 7
    insert_every: int = 50
    max_points: int = 31
    spring: float = 0.0
    climbing: bool = False
    insert_count: int = 2
    probes: int = 3
    stretch: float = 3.0

    def __post_init__(self) -> None:
        check_int(self.points, "points", low=1)
        check_int(self.insert_every, "insert_every", low=1)
        check_int(self.max_points, "max_points", low=self.points)
        check_int(self.insert_count, "insert_count", low=0)
        check_int(self.probes, "probes", low=1)
        for name in ("spring", "stretch"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise InputError(f"{name}={value!r}; expected a finite number >= 0")

    @property
    def n_bends(self) -> int:
        return self.points

    # ------------------------------------------------------------------ algorithm
    def tangents(self, a: torch.Tensor, b: torch.Tensor, bends: torch.Tensor) -> torch.Tensor:
        """Unit tangents at the movable points, ``(k, P)``, from their two neighbours."""
        group = ChainGroup([bends.shape[0]], bends.device)
        return group.tangents(group.full(a.unsqueeze(0), b.unsqueeze(0), bends))

    def project(
        self,
        a: torch.Tensor,
        b: torch.Tensor,
        bends: torch.Tensor,
        grad: torch.Tensor,
        losses: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The update direction of the movable points (a "gradient" to descend).

        ``g - (g·τ)τ`` per point with ``τ`` the unit tangent from the two neighbours
        (the tangential part only re-parameterizes the curve), plus
        ``-spring (|x_{i+1} - x_i| - |x_i - x_{i-1}|) τ`` if ``spring > 0``, and
        ``g - 2(g·τ)τ`` at the highest point if ``climbing``.

        Parameters
        ----------
        a, b, bends : Tensor
            The chain (see :meth:`at`), unbatched.
        grad : Tensor, shape (k, P)
            Loss gradient at each movable point.
        losses : Tensor, shape (k,), optional
            Loss at each movable point; required when ``climbing``.
        """
        _control(a, b, bends)
        group = ChainGroup([bends.shape[0]], bends.device)
        return project_group(self, group, a.unsqueeze(0), b.unsqueeze(0), bends, grad, losses)

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
        chain's mean segment length. Candidates are ranked by their highest probe; a
        new point goes to the highest probe of each of the first ``insert_count``
        candidates (to the midpoint of a segment that is only too long), with at most
        ``max_points`` movable points in all.

        Parameters
        ----------
        a, b, bends : Tensor
            The chain (see :meth:`at`), unbatched.
        loss : callable
            Loss at a batch of points, ``(B, P) -> (B,)``.

        Returns
        -------
        Tensor, shape (k', P)
            The new movable points in chain order, ``k <= k' <= max_points``; the old
            points are kept unchanged.
        """
        _control(a, b, bends)
        group = ChainGroup([bends.shape[0]], bends.device)
        new, _, _ = insert_group(self, group, a.unsqueeze(0), b.unsqueeze(0), bends, loss)
        return new


#: The curve families, by name: see :func:`register_curve`.
CURVES: Registry[type[Curve]] = Registry("curve family")


def register_curve(name: str, family: type[Curve], *, replace: bool = False) -> None:
    """Make a curve family available by ``name`` everywhere: the Python API, config files
    (``curve = "name:key=value"``), the CLI's ``--curve`` and stored path records.

    Parameters
    ----------
    name : str
        The family's name; it becomes ``family.kind`` (which :meth:`Curve.to_dict` writes).
    family : type
        A frozen dataclass subclass of :class:`Curve`; its fields are the spec's options.
    replace : bool
        Replace an existing family of that name.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Quadratic(Bezier):
    ...     bends: int = 1
    >>> register_curve("quadratic", Quadratic)
    >>> make_curve("quadratic")
    Quadratic(bends=1)
    >>> CURVES.unregister("quadratic")
    """
    if not (isinstance(family, type) and issubclass(family, Curve)):
        raise InputError(f"curve family {name!r} must be a Curve subclass, got {family!r}")
    check_name(name)
    other = [n for n in CURVES.names() if CURVES.get(n) is family and n != name]
    if other:
        raise InputError(f"curve family {family.__name__} is registered as {other[0]!r} already; "
                         "subclass it to register it under a second name")
    CURVES.register(name, family, replace=replace)
    family.kind = name


for _family in (Bezier, PolyChain, Chain):
    register_curve(_family.kind, _family)


def make_curve(spec: str | Mapping[str, Any] | Curve) -> Curve:
    """A curve from a spec string (``"bezier:bends=1"``), a dict (``{"kind": "chain",
    "points": 5}``, as :meth:`Curve.to_dict` writes it) or a :class:`Curve` (returned as is).

    Raises
    ------
    InputError
        For an unknown family (the message lists the registered ones) or an invalid option.

    Examples
    --------
    >>> make_curve("polychain:bends=2")
    PolyChain(bends=2)
    >>> make_curve({"kind": "bezier", "bends": 0})
    Bezier(bends=0)
    """
    if isinstance(spec, Curve):
        return spec
    if isinstance(spec, str):
        name, options = parse_spec(spec, example="bezier:bends=1")
    elif isinstance(spec, Mapping):
        options = dict(spec)
        name = options.pop("kind", None)
    else:
        raise InputError(f"curve={spec!r}; expected a curve spec like 'bezier:bends=1'")
    if name not in CURVES:
        raise InputError(f"curve kind={name!r}: unknown curve family; choose one of {', '.join(CURVES.names())}")
    family = CURVES.get(name)
    try:
        return family(**options)
    except TypeError as exc:
        raise InputError(f"invalid options {options} for curve family {name!r}: {exc}") from None
    except ValueError as exc:
        raise InputError(f"curve {name!r}: {exc}") from None


def curve_from_dict(data: Mapping[str, Any]) -> Curve:
    """Rebuild a curve specification from :meth:`Curve.to_dict` (see :func:`make_curve`)."""
    return make_curve(dict(data))
