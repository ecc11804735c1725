"""Metrics along a path: train and test loss and accuracy at the points of its profile.

:func:`path_metrics` is the one place they are computed; :func:`topoloss.paths.optimize.optimize_pairs`
calls it at exactly the parameters ``t`` of every optimized curve's evaluation, so that
:attr:`~topoloss.paths.record.PathRecord.metrics` is aligned with ``PathRecord.t`` and its
``train_loss`` *is* the barrier profile (``losses``), never a second computation of it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from topoloss._progress import progress_bar
from topoloss.errors import InputError
from topoloss.landscapes.base import Landscape
from topoloss.paths.curves import Curve

__all__ = ["metrics_along", "path_metrics"]

#: Floats per chunk of points handed to ``landscape.path_metrics`` at once (as ``exact_losses``).
_CHUNK_FLOATS = 1 << 22


def path_metrics(
    landscape: Landscape,
    points: torch.Tensor,
    *,
    losses: np.ndarray | torch.Tensor | None = None,
    progress: Callable[[int], object] | None = None,
) -> dict[str, np.ndarray]:
    """The landscape's metrics (:meth:`~topoloss.Landscape.path_metrics`) at ``(N, P)`` points.

    Parameters
    ----------
    landscape : Landscape
        Its ``path_metrics`` is called on memory-bounded chunks of the points.
    points : Tensor, shape (N, P)
        The points (e.g. ``curve.at(a, b, bends, t)`` at a profile's ``t``).
    losses : array of shape (N,), optional
        The exact training losses at the points, when already known (the barrier
        profile): they become ``train_loss`` as they are, so the metrics agree with the
        profile exactly.
    progress : callable, optional
        Called with the number of points measured after each chunk.

    Returns
    -------
    dict of str to ndarray
        Name -> ``(N,)`` float64 values, in the landscape's order; ``{}`` when the
        landscape measures nothing (analytic landscapes).

    Raises
    ------
    InputError
        ``losses`` does not have one value per point.

    Examples
    --------
    >>> import torch
    >>> from topoloss.analytic import get_landscape
    >>> path_metrics(get_landscape("himmelblau"), torch.zeros(3, 2))
    {}
    """
    n = points.shape[0]
    known = None if losses is None else np.asarray(losses, dtype=np.float64).reshape(-1)
    if known is not None and known.shape[0] != n:
        raise InputError(f"losses has {known.shape[0]} values; expected one per point ({n})")
    chunk = max(1, _CHUNK_FLOATS // max(1, points.shape[1]))
    parts: dict[str, list[np.ndarray]] = {}
    with torch.no_grad():
        for start in range(0, n, chunk):
            found = landscape.path_metrics(points[start : start + chunk])
            if not found:
                return {}
            for name, values in found.items():
                parts.setdefault(name, []).append(values.detach().to("cpu", torch.float64).numpy().reshape(-1))
            if progress is not None:
                progress(min(chunk, n - start))
    out = {name: np.concatenate(v) for name, v in parts.items()}
    if known is not None and "train_loss" in out:
        out["train_loss"] = known.copy()  # the profile itself: one definition of the training loss
    return out


def metrics_along(
    landscape: Landscape,
    item: tuple[Curve, torch.Tensor, torch.Tensor, torch.Tensor],
    t: np.ndarray,
    losses: np.ndarray,
    *,
    progress: bool = False,
) -> dict[str, np.ndarray]:
    """:func:`path_metrics` of one curve ``(curve, a, b, bends)`` at exactly the parameters
    ``t`` of its profile, whose exact ``losses`` become ``train_loss``."""
    curve, a, b, bends = item
    with torch.no_grad():
        points = curve.at(a, b, bends, torch.from_numpy(np.asarray(t, dtype=np.float64)).to(a.device, a.dtype))
    with progress_bar(total=len(t), desc="metrics", unit="point", kind="inner", disable=not progress) as bar:
        return path_metrics(landscape, points, losses=losses, progress=bar.update)
