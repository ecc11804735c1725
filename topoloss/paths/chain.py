"""The paper's chain with insertion (Algorithms 2–3), :class:`Chain`: a nudged elastic band.

The specification and its one-chain operations (:meth:`Chain.project`,
:meth:`Chain.insert`); the group machinery behind them, which optimizes many chains at
once, is :mod:`topoloss.paths._chain`. Registered as ``"chain"`` by
:mod:`topoloss.paths.curves`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch

from topoloss._validate import check_int
from topoloss.errors import InputError
from topoloss.paths._chain import ChainGroup, insert_group, project_group
from topoloss.paths.curve_base import _control, _Polyline

__all__ = ["Chain"]


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
