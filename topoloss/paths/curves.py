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

This module holds :class:`Bezier`, :class:`PolyChain` and the registry of families
(:data:`CURVES`, :func:`register_curve`, :func:`make_curve`); the interface
:class:`Curve` lives in :mod:`topoloss.paths.curve_base` and :class:`Chain` in
:mod:`topoloss.paths.chain`, both importable from here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from topoloss._registry import Registry
from topoloss._specs import check_name, parse_spec
from topoloss._validate import check_int
from topoloss.errors import InputError
from topoloss.paths.chain import Chain
from topoloss.paths.curve_base import Curve, _Polyline

__all__ = ["CURVES", "Bezier", "Chain", "Curve", "PolyChain", "curve_from_dict", "make_curve", "register_curve"]


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
