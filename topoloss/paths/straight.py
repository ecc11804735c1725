"""The straight segment's barrier: one evaluation for the planner and for the record.

The straight segment between two minima is a path that needs no optimization, so its
barrier is an upper bound of the pair's true barrier ``B*``. Two callers measure it:

- every :class:`~topoloss.paths.record.PathRecord` (``linear_barrier``, and the rule
  that a path is never kept above its straight segment), with the study's evaluation
  settings (``n_eval``, ``refine``, ``screen``);
- the adaptive planner (:func:`topoloss.engine.adaptive.straight_bounds`), for every
  pair of minima, with cheap settings (``11`` points, no refinement, no screening).

Both call :func:`straight_profiles` (or :func:`straight_barriers`, its maxima), so at
the same settings they measure the same points with the same arithmetic: the
arc-length grid of :func:`~topoloss.paths.evaluate.evaluate_curves` (screened by
:func:`~topoloss.paths.screen.evaluate_screened` when ``screen > 0``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from topoloss.landscapes.base import Landscape
from topoloss.paths.evaluate import _CHUNK_FLOATS, straight_item
from topoloss.paths.screen import Profile, evaluate_screened

__all__ = ["straight_barriers", "straight_profiles"]


def straight_profiles(
    landscape: Landscape,
    starts: Sequence[torch.Tensor],
    ends: Sequence[torch.Tensor],
    *,
    n_eval: int,
    refine: int = 0,
    screen: int = 0,
    seed: int = 0,
    end_losses: Sequence[tuple[float, float]] | None = None,
    progress: Callable[[int], object] | None = None,
) -> list[Profile]:
    """Loss profiles of the straight segments ``starts[k] -> ends[k]``.

    The segments go through :func:`~topoloss.paths.screen.evaluate_screened` in chunks of
    at most ``_CHUNK_FLOATS`` floats of grid points (every segment's profile is computed
    on its own grid, so the chunking changes no value).

    Parameters
    ----------
    landscape : Landscape
        Where the loss is evaluated.
    starts, ends : sequence of Tensor, shape (P,)
        The endpoints of each segment, on the landscape's device and dtype.
    n_eval, refine : int
        The arc-length grid and its refinement rounds
        (:func:`~topoloss.paths.evaluate.evaluate_curves`).
    screen, seed : int
        Screening subsample and its seed (:func:`~topoloss.paths.screen.evaluate_screened`;
        ``0``: every point on the full data).
    end_losses : sequence of (float, float), optional
        Known exact losses at both ends of each segment (used when screening).
    progress : callable, optional
        Called with the number of points screened or evaluated.

    Returns
    -------
    list of Profile
        One per segment; ``max(losses)`` is its barrier.

    Examples
    --------
    >>> import torch
    >>> from topoloss.analytic import from_function
    >>> land = from_function(lambda x: (x ** 2).sum(-1), [(-2, 2)])
    >>> a, b = torch.tensor([-1.0], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64)
    >>> profile, = straight_profiles(land, [a], [b], n_eval=3)
    >>> profile.t.tolist(), profile.losses.tolist()
    ([0.0, 0.5, 1.0], [1.0, 0.0, 1.0])
    """
    n = len(starts)
    dim = int(starts[0].shape[0]) if n else 1
    per = max(1, _CHUNK_FLOATS // max(1, n_eval * dim))  # segments per call
    out: list[Profile] = []
    for s in range(0, n, per):
        items = [straight_item(a, b) for a, b in zip(starts[s : s + per], ends[s : s + per])]
        out += evaluate_screened(
            landscape, items, n_eval=n_eval, refine=refine, screen=screen, seed=seed,
            ends=None if end_losses is None else end_losses[s : s + per], progress=progress,
        )
    return out


def straight_barriers(
    landscape: Landscape,
    starts: Sequence[torch.Tensor],
    ends: Sequence[torch.Tensor],
    *,
    n_eval: int,
    refine: int = 0,
    screen: int = 0,
    seed: int = 0,
) -> np.ndarray:
    """Barriers (``max`` of the profile) of the straight segments, ``-> (len(starts),)``.

    See :func:`straight_profiles`; the adaptive planner's bounds are these at its
    ``points`` with ``refine = 0`` and ``screen = 0``.
    """
    profiles = straight_profiles(landscape, starts, ends, n_eval=n_eval, refine=refine, screen=screen, seed=seed)
    return np.array([float(p.losses.max()) for p in profiles], dtype=float)
