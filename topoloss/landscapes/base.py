"""The one interface every landscape offers to the pipeline (SPEC §1).

Path optimization, minima search and barrier evaluation only ever talk to a landscape
through :class:`Landscape`, so the same code runs on a 2-D analytic function and on a
ResNet. Points are flat parameter vectors ``θ ∈ R^P``; batches of points are tensors of
shape ``(B, P)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any

import torch

from topoloss.errors import InputError

__all__ = ["Landscape", "check_points", "require_gradient"]


def check_points(points: torch.Tensor, dim: int, *, name: str = "points") -> torch.Tensor:
    """Return ``points`` as a ``(B, dim)`` tensor, or raise ``ValueError`` naming the shape.

    A single point of shape ``(dim,)`` becomes a batch of one.
    """
    if not isinstance(points, torch.Tensor):
        points = torch.as_tensor(points)
    if points.ndim == 1:
        points = points.unsqueeze(0)
    if points.ndim != 2 or points.shape[1] != dim:
        raise InputError(
            f"{name} must have shape (batch, {dim}) or ({dim},), got {tuple(points.shape)}"
        )
    if not torch.isfinite(points).all():
        bad = int(torch.nonzero(~torch.isfinite(points).all(dim=1))[0])
        raise InputError(f"{name}[{bad}] contains NaN or infinite coordinates")
    return points


def require_gradient(landscape: Any, purpose: str) -> None:
    """Raise :class:`~topoloss.errors.InputError` if ``landscape`` says its function has no gradient.

    A landscape that knows (an :class:`~topoloss.analytic.AnalyticLandscape` probes its
    function once, when it is made) sets ``differentiable = False`` when the function's value
    does not depend on its input through torch (a constant, or values computed outside
    torch); descents and path optimization need the gradient, the exact barcode does not.
    """
    if getattr(landscape, "differentiable", True):
        return
    name = getattr(landscape, "name", type(landscape).__name__)
    raise InputError(f"landscape {name!r} has no gradient: its value does not depend on its input through torch "
                     f"(a constant, or computed outside torch), and {purpose} follows the gradient; write it "
                     f"with torch operations, or use `topoloss exact` for its exact barcode")


class Landscape(ABC):
    """A loss function ``L: R^P -> R`` over flat parameter vectors.

    Subclasses implement :meth:`loss` (the exact loss, used for minima levels and
    barriers) and :meth:`objective` (the differentiable loss optimized by descent and
    path training; for a model, a mini-batch loss). They may override :meth:`batches`
    (the stream of mini-batches passed to :meth:`objective`) and
    :meth:`prepare` (a hook run before a point is evaluated exactly).

    Attributes
    ----------
    dim : int
        Number of coordinates ``P``.
    dtype : torch.dtype
        Floating type of points.
    device : torch.device
        Where points live.
    """

    dim: int
    dtype: torch.dtype = torch.float64
    device: torch.device = torch.device("cpu")

    @abstractmethod
    def loss(self, points: torch.Tensor) -> torch.Tensor:
        """Exact loss at a batch of points, ``(B, P) -> (B,)``, without gradient."""

    @abstractmethod
    def objective(self, points: torch.Tensor, batch: Any = None) -> torch.Tensor:
        """Differentiable loss at ``(B, P)`` points on mini-batch ``batch``, ``-> (B,)``."""

    def batches(self, *, generator: torch.Generator | None = None) -> Iterator[Any]:
        """An endless stream of mini-batches for :meth:`objective` (``None`` by default)."""
        while True:
            yield None

    @property
    def batches_per_epoch(self) -> int:
        """How many items of :meth:`batches` make one epoch (1 for full-batch landscapes)."""
        return 1

    def prepare(self, point: torch.Tensor) -> None:  # noqa: B027 - optional hook
        """Hook run before ``point`` is evaluated exactly (e.g. BatchNorm statistics)."""

    @property
    def box(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """``(low, high)`` of the box the points live in, or ``None`` (unbounded)."""
        return None

    def clamp(self, points: torch.Tensor) -> torch.Tensor:
        """Project points onto :attr:`box` (unchanged when there is none)."""
        box = self.box
        if box is None:
            return points
        return torch.maximum(torch.minimum(points, box[1]), box[0])

    def initial_point(self, seed: int) -> torch.Tensor:
        """A random starting point for training, drawn from ``seed``."""
        raise InputError(f"{type(self).__name__} cannot initialize points; pass init= to train_minima")

    @property
    def n_samples(self) -> int:
        """Training samples :meth:`loss` is the mean over (``0``: not a mean over data, e.g. an
        analytic function; then :meth:`sample_losses` has nothing to sample and barrier
        screening, :mod:`topoloss.paths.screen`, evaluates every point exactly)."""
        return 0

    def sample_losses(self, points: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        """Per-sample losses at ``(B, P)`` points on the training samples ``indices``, ``-> (B, n)``
        float64 on the CPU; their mean over all :attr:`n_samples` samples is :meth:`loss`.

        A landscape with data overrides this (:class:`~topoloss.ModelLandscape`). The
        default, for landscapes without data, is the exact loss as one column for every
        requested index (each "sample" is the whole function).
        """
        values = self.loss(points).detach().to("cpu", torch.float64)
        return values.unsqueeze(1).expand(-1, int(torch.as_tensor(indices).numel())).clone()

    def point_metrics(self, point: torch.Tensor) -> dict[str, float]:
        """Extra measurements of one point (e.g. ``test_accuracy``); none by default."""
        return {}

    def path_metrics(self, points: torch.Tensor) -> dict[str, torch.Tensor]:
        """Measurements at a batch of points along a path, name -> ``(B,)`` (none by default).

        :class:`~topoloss.ModelLandscape` gives ``train_loss``, ``train_accuracy`` and,
        with test data, ``test_loss`` and ``test_accuracy``. Callers go through
        :func:`topoloss.paths.metrics.path_metrics`, which chunks the points.
        """
        return {}

    def objective_grouped(self, points: torch.Tensor, batches: Sequence[Any]) -> torch.Tensor:
        """:meth:`objective` for a group of pairs at once: ``(G, T, P)`` points, one batch per
        pair (from each pair's own :meth:`batches` stream), ``-> (G, T)``.

        The default makes one :meth:`objective` call when every batch is ``None`` (a
        full-batch landscape: all points in one call) and one call per pair otherwise;
        :class:`~topoloss.ModelLandscape` vectorizes the pairs with ``torch.func.vmap``.
        """
        g, t, p = points.shape
        if all(batch is None for batch in batches):
            return self.objective(points.reshape(g * t, p), None).reshape(g, t)
        return torch.stack([self.objective(points[k], batches[k]) for k in range(g)])

    def loss_and_grad(self, points: torch.Tensor, batch: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`objective` and its gradient with respect to the points."""
        x = check_points(points, self.dim).detach().to(self.device, self.dtype).requires_grad_(True)
        with torch.enable_grad():
            value = self.objective(x, batch)
            (grad,) = torch.autograd.grad(value.sum(), x)
        return value.detach(), grad

    def as_points(self, points: Any, *, name: str = "points") -> torch.Tensor:
        """Validate and convert to a ``(B, P)`` tensor on this landscape's device/dtype."""
        return check_points(torch.as_tensor(points), self.dim, name=name).to(self.device, self.dtype)
