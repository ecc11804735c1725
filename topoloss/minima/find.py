"""Minima of a landscape: the :class:`Minima` record, :func:`find_minima` (SPEC §2), and
the choice of pairs of minima to connect (:func:`select_pairs`).

:func:`find_minima` runs many independent descents *together*, as one ``(n, P)``
tensor, from quasi-random starting points in the landscape's box, and merges those
that end at the same point. It is meant for full-batch landscapes (analytic
functions); neural-network minima come from training (a separate module).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from topoloss._schedules import cosine_scheduler
from topoloss._validate import check_choice, check_int, check_number, frozen_array
from topoloss.errors import Diverged, InputError
from topoloss.landscapes.base import Landscape, require_gradient

__all__ = ["Minima", "as_minima", "find_minima"]


@dataclass(frozen=True, eq=False)
class Minima:
    """A set of minima of one landscape, in a fixed order.

    Attributes
    ----------
    points : Tensor, shape (m, P)
        The minima.
    losses : ndarray, shape (m,)
        Their exact losses ``L(m)`` (read-only).
    names : tuple
        One distinct hashable name per minimum (``"m0", "m1", ...`` by default).
    n_steps : ndarray of int, shape (m,)
        Descent steps each minimum took (0 for given points).
    converged : ndarray of bool, shape (m,)
        Whether the descent reached the gradient tolerance (``True`` for given points).
    on_boundary : ndarray of bool, shape (m,)
        Whether the point lies on the landscape's box boundary.
    """

    points: torch.Tensor
    losses: np.ndarray
    names: tuple[Hashable, ...]
    n_steps: np.ndarray
    converged: np.ndarray
    on_boundary: np.ndarray

    def __post_init__(self) -> None:
        pts = self.points
        if not isinstance(pts, torch.Tensor) or pts.ndim != 2:
            raise InputError(f"points must be an (m, P) tensor, got {getattr(pts, 'shape', pts)!r}")
        m = pts.shape[0]
        object.__setattr__(self, "points", pts.detach())
        object.__setattr__(self, "names", tuple(self.names))
        object.__setattr__(self, "losses", frozen_array(self.losses, float))
        object.__setattr__(self, "n_steps", frozen_array(self.n_steps, np.int64))
        object.__setattr__(self, "converged", frozen_array(self.converged, bool))
        object.__setattr__(self, "on_boundary", frozen_array(self.on_boundary, bool))
        for field in ("names", "losses", "n_steps", "converged", "on_boundary"):
            if len(getattr(self, field)) != m:
                raise InputError(f"Minima has {m} points but {len(getattr(self, field))} {field}")
        if len(set(self.names)) != m:
            raise InputError(f"minima names must be distinct, got {self.names!r}")
        if not np.isfinite(self.losses).all():
            bad = self.names[int(np.flatnonzero(~np.isfinite(self.losses))[0])]
            raise InputError(f"loss of minimum {bad!r} is not finite")

    def __len__(self) -> int:
        return len(self.names)

    @property
    def dim(self) -> int:
        """Number of coordinates ``P``."""
        return int(self.points.shape[1])

    def index(self, key: Hashable) -> int:
        """Position of the minimum named ``key``; an ``int`` not among the names is a position.

        Raises
        ------
        ValueError
            If ``key`` is neither a name nor a valid position.
        """
        if key in self.names:
            return self.names.index(key)
        if (
            isinstance(key, (int, np.integer))
            and not isinstance(key, bool)
            and 0 <= int(key) < len(self)
        ):
            return int(key)
        raise InputError(f"unknown minimum {key!r}; names are {list(self.names)}")

    def distances(self) -> np.ndarray:
        """Euclidean distances between the points, ``(m, m)`` float64."""
        x = self.points.to(torch.float64)
        return torch.cdist(x, x).cpu().numpy()

    def subset(self, indices: Sequence[int]) -> Minima:
        """The minima at ``indices``, in that order."""
        idx = [self.index(i) for i in indices]
        return Minima(
            self.points[idx],
            self.losses[idx],
            tuple(self.names[i] for i in idx),
            self.n_steps[idx],
            self.converged[idx],
            self.on_boundary[idx],
        )

    @classmethod
    def from_points(
        cls,
        landscape: Landscape,
        points: Any,
        *,
        names: Sequence[Hashable] | None = None,
    ) -> Minima:
        """Wrap given points (e.g. trained or loaded minima), evaluating their losses.

        Raises
        ------
        ValueError
            If ``points`` is not ``(m, P)`` for the landscape's ``P``, or ``names``
            has the wrong length or repeats a name.
        """
        pts = landscape.as_points(points, name="minima")
        m = pts.shape[0]
        names = tuple(f"m{i}" for i in range(m)) if names is None else tuple(names)
        if len(names) != m:
            raise InputError(f"names has {len(names)} entries for {m} minima")
        losses = np.array([float(landscape.loss(p.unsqueeze(0))[0]) for p in pts])
        return cls(pts, losses, names, np.zeros(m), np.ones(m, bool), _on_boundary(landscape, pts))

    def to_dict(self, *, points: bool = True) -> dict[str, Any]:
        """JSON-ready dict; ``points`` as nested lists unless ``points=False``."""
        out: dict[str, Any] = {
            "names": list(self.names),
            "losses": self.losses.tolist(),
            "n_steps": self.n_steps.tolist(),
            "converged": self.converged.tolist(),
            "on_boundary": self.on_boundary.tolist(),
        }
        if points:
            out["points"] = self.points.cpu().tolist()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, points: torch.Tensor | None = None) -> Minima:
        """Inverse of :meth:`to_dict` (``points`` given separately if not in ``data``)."""
        pts = points if points is not None else torch.as_tensor(data["points"], dtype=torch.float64)
        return cls(
            pts,
            data["losses"],
            tuple(data["names"]),
            data["n_steps"],
            data["converged"],
            data["on_boundary"],
        )


def _box(landscape: Landscape) -> tuple[torch.Tensor, torch.Tensor] | None:
    box = landscape.box
    if box is None:
        return None
    return box[0].to(landscape.device, landscape.dtype), box[1].to(landscape.device, landscape.dtype)


def _on_boundary(landscape: Landscape, points: torch.Tensor) -> np.ndarray:
    box = _box(landscape)
    if box is None:
        return np.zeros(points.shape[0], bool)
    low, high = box
    eps = 1e-9 * (high - low)
    hit = (points <= low + eps) | (points >= high - eps)
    return hit.any(dim=1).cpu().numpy()


def _projected_grad(grad: torch.Tensor, x: torch.Tensor, box: Any) -> torch.Tensor:
    """The gradient without components pushing out of the box at active bounds."""
    if box is None:
        return grad
    low, high = box
    eps = 1e-12 * (high - low)
    blocked = ((x <= low + eps) & (grad > 0)) | ((x >= high - eps) & (grad < 0))
    return grad.masked_fill(blocked, 0.0)


def find_minima(
    landscape: Landscape,
    n: int = 16,
    *,
    seed: int = 0,
    starts: Any = None,
    optimizer: Literal["adam", "sgd"] = "adam",
    lr: float | None = None,
    max_steps: int = 3000,
    grad_tol: float = 1e-6,
    merge_tol: float | None = None,
    boundary: Literal["drop", "keep"] = "drop",
) -> Minima:
    """Find distinct minima by ``n`` independent descents run together.

    Starting points are a scrambled Sobol sequence (seeded) in the landscape's box
    (attributes ``low``/``high``), or ``starts``. All ``n`` points descend together as
    one ``(n, P)`` tensor; iterates are kept in the box (``landscape.clamp`` if the
    landscape has one) and a point stops once the norm of its *projected* gradient
    (components pushing out of the box at an active bound removed) is below
    ``grad_tol``. The learning rate follows a cosine decay to ``1e-4 * lr``. Points
    closer than ``merge_tol`` are merged, keeping the lowest.

    Box boundary: a descent may stop on the box boundary at a point that is a minimum
    of the function *restricted to the box* but not a critical point of the function.
    By default (``boundary="drop"``) such points are discarded; ``"keep"`` keeps them
    (flagged in :attr:`Minima.on_boundary`), which matches the exact ground truth of
    :mod:`topoloss.analytic` for functions whose box cuts through a valley. Interior
    points that did not reach ``grad_tol`` within ``max_steps`` are kept and flagged
    ``converged=False``.

    Parameters
    ----------
    landscape : Landscape
        A full-batch landscape; without a box, ``starts`` is required.
    n : int
        Number of descents.
    seed : int
        Seed of the Sobol scrambling and of the batch stream.
    starts : array_like, shape (n, P), optional
        Explicit starting points (then ``n`` is ignored).
    optimizer : {"adam", "sgd"}
        The descent (SGD with momentum 0.9).
    lr : float, optional
        Initial learning rate; default ``0.01 *`` the mean box width for Adam
        (``1e-3`` without a box), and ``1e-3`` for SGD.
    max_steps : int
        Upper bound on descent steps.
    grad_tol : float
        Convergence tolerance on the projected gradient norm.
    merge_tol : float, optional
        Distance under which two results are the same minimum; default ``1e-3`` times
        the box diagonal (``1e-3`` without a box).
    boundary : {"drop", "keep"}
        What to do with descents that stop on the box boundary (see above).

    Returns
    -------
    Minima
        The distinct minima sorted by loss, named ``"m0", "m1", ...``.

    Raises
    ------
    ValueError
        On invalid options, a landscape without box and no ``starts``, a non-finite
        loss during descent, or if no minimum is left.
    """
    check_choice(optimizer, "optimizer", ("adam", "sgd"))
    check_choice(boundary, "boundary", ("drop", "keep"))
    check_int(max_steps, "max_steps", low=1)
    check_number(grad_tol, "grad_tol", low=0, strict=True)
    require_gradient(landscape, "the search for minima")
    box = _box(landscape)
    if starts is not None:
        x0 = landscape.as_points(starts, name="starts")
    else:
        check_int(n, "n", low=1)
        if box is None:
            raise InputError(
                f"{type(landscape).__name__} has no box (low/high); pass starts=... explicitly"
            )
        low, high = box
        sobol = torch.quasirandom.SobolEngine(landscape.dim, scramble=True, seed=seed)
        u = sobol.draw(n, dtype=torch.float64).to(landscape.device, landscape.dtype)
        x0 = low + u * (high - low)
    if box is not None:
        width = box[1] - box[0]
        scale, diag = float(width.mean()), float(width.norm())
    else:
        scale, diag = 0.1, 1.0
    if lr is None:
        lr = 0.01 * scale if optimizer == "adam" else 1e-3
    if not (lr > 0 and math.isfinite(lr)):
        raise InputError(f"lr={lr!r}; expected a positive number")
    merge_tol = 1e-3 * diag if merge_tol is None else float(merge_tol)

    x = landscape.clamp(x0.clone()).requires_grad_(True)
    opt: torch.optim.Optimizer
    if optimizer == "adam":
        opt = torch.optim.Adam([x], lr=lr)
    else:
        opt = torch.optim.SGD([x], lr=lr, momentum=0.9)
    schedule = cosine_scheduler(opt, max_steps, 1e-4)
    m = x.shape[0]
    n_steps = np.full(m, max_steps, dtype=np.int64)
    done = torch.zeros(m, dtype=torch.bool, device=x.device)
    generator = torch.Generator().manual_seed(seed)
    batches = landscape.batches(generator=generator)
    for step in range(max_steps):
        value, grad = landscape.loss_and_grad(x, next(batches))
        if not torch.isfinite(value).all():
            bad = int(torch.nonzero(~torch.isfinite(value))[0])
            raise Diverged(f"non-finite loss in descent {bad} at step {step} (lr={lr:.3g}); try a smaller lr, "
                           f"or check the function on its box")
        with torch.no_grad():
            grad = _projected_grad(grad, x, box)
            newly = (grad.norm(dim=1) <= grad_tol) & ~done
            n_steps[newly.cpu().numpy()] = step
            done |= newly
            if bool(done.all()):
                break
            frozen = x[done].clone()
            x.grad = grad.masked_fill(done.unsqueeze(1), 0.0)
        opt.step()
        schedule.step()
        with torch.no_grad():
            x.copy_(landscape.clamp(x))
            x[done] = frozen
    points = x.detach()
    converged = done.cpu().numpy()
    on_boundary = _on_boundary(landscape, points)
    keep = ~on_boundary if boundary == "drop" else np.ones(m, bool)
    keep &= converged | ~on_boundary
    if not keep.any():
        raise InputError(
            f"no minimum found: all {m} descents ended on the box boundary; "
            f"try boundary='keep' or more steps (max_steps={max_steps})"
        )
    losses = landscape.loss(points).cpu().numpy().astype(float)
    order = [int(i) for i in np.lexsort((np.arange(m), losses)) if keep[i]]
    chosen: list[int] = []
    for i in order:
        if all(float((points[i] - points[j]).norm()) > merge_tol for j in chosen):
            chosen.append(i)
    return Minima(
        points[chosen].clone(),
        losses[chosen],
        tuple(f"m{k}" for k in range(len(chosen))),
        n_steps[chosen],
        converged[chosen],
        on_boundary[chosen],
    )


def as_minima(landscape: Landscape, minima: Any) -> Minima:
    """``minima`` as a :class:`Minima` of this landscape (points are wrapped and evaluated).

    Raises
    ------
    ValueError
        If the points do not have the landscape's dimension.
    """
    if isinstance(minima, Minima):
        if minima.dim != landscape.dim:
            raise InputError(
                f"minima have dimension {minima.dim} but the landscape has dim={landscape.dim}"
            )
        return minima
    if isinstance(minima, Sequence) and minima and all(isinstance(p, torch.Tensor) for p in minima):
        minima = torch.stack([p.reshape(-1) for p in minima])
    return Minima.from_points(landscape, minima)
