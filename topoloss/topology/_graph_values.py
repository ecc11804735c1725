"""The value rules a landscape graph applies to what it is given.

Shared by the array core (:mod:`topoloss.topology.graph`) and the builders and readers
above it (:mod:`~topoloss.topology.graph_build`, :mod:`~topoloss.topology.graph_convert`):
0-d arrays as Python scalars (:func:`unwrap`), the rounding tolerance for a barrier below
an endpoint's loss (:data:`BELOW_TOL`), and the check a batch of paths must pass to go in
as arrays (:func:`paths_pass`). This module imports none of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["BELOW_TOL", "paths_pass", "unwrap"]

#: Relative tolerance under which a barrier below an endpoint's loss is taken as rounding.
BELOW_TOL = 1e-9


def unwrap(value: Any) -> Any:
    """A 0-d numpy array or torch tensor as its Python scalar; anything else unchanged."""
    if getattr(value, "ndim", None) == 0 and callable(getattr(value, "item", None)):
        return value.item()
    return value


def paths_pass(loss: np.ndarray, us: np.ndarray, vs: np.ndarray, w: np.ndarray) -> bool:
    """Whether every path ``us[k]``-``vs[k]`` at ``w[k]`` passes :meth:`LandscapeGraph.add_path`'s
    checks with minima at ``loss``: two different minima, a finite barrier not below either
    endpoint's loss beyond the rounding tolerance."""
    n = loss.shape[0]
    if us.size and (min(us.min(), vs.min()) < 0 or max(us.max(), vs.max()) >= n
                    or (us == vs).any() or not np.isfinite(w).all()):
        return False
    floor = loss - BELOW_TOL * np.maximum(1.0, np.abs(loss))
    return not ((w < floor[us]) | (w < floor[vs])).any()
