"""Train and test metrics of a :class:`~topoloss.ModelLandscape` at a batch of points (a mixin).

:class:`PathMetrics` gives :meth:`~PathMetrics.path_metrics`, the measurements stored along
every optimized path (:attr:`topoloss.paths.record.PathRecord.metrics`). It reads only the
landscape's exact evaluation (``_evaluate``: BatchNorm statistics recomputed once per
point from the training data and cached, then one pass over the split through
:func:`torch.func.functional_call`), so loss and accuracy mean exactly what
:meth:`~topoloss.ModelLandscape.metrics` and :meth:`~topoloss.ModelLandscape.point_metrics`
mean.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import torch
from torch import Tensor

__all__ = ["PathMetrics"]


class PathMetrics:
    """``path_metrics`` for a landscape with an exact ``_evaluate(theta, split)`` (a mixin)."""

    n_test: int

    if TYPE_CHECKING:  # provided by the landscape (declared here, not shadowed: super() calls pass through)
        def as_points(self, points: Any, *, name: str = "points") -> Tensor: ...

        def _evaluate(self, theta: Tensor, split: Literal["train", "test"]) -> tuple[float, float]: ...

    def path_metrics(self, points: Tensor) -> dict[str, Tensor]:
        """``train_loss``, ``train_accuracy`` and, with test data, ``test_loss`` and
        ``test_accuracy`` at ``(B, P)`` points, each ``(B,)`` float64 on the CPU.

        Per point: one BatchNorm recompute (shared by both splits), one pass over the
        training set and one over the test set. Accuracy is NaN when targets are not class
        labels (as in :meth:`~topoloss.ModelLandscape.metrics`).
        """
        pts = self.as_points(points)
        splits: tuple[Literal["train", "test"], ...] = ("train", "test") if self.n_test else ("train",)
        values: dict[str, list[float]] = {f"{s}_{k}": [] for s in splits for k in ("loss", "accuracy")}
        for theta in pts:
            for split in splits:
                loss, accuracy = self._evaluate(theta.detach(), split)
                values[f"{split}_loss"].append(loss)
                values[f"{split}_accuracy"].append(accuracy)
        return {name: torch.tensor(v, dtype=torch.float64) for name, v in values.items()}
