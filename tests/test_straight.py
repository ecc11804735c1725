"""One straight-segment barrier (topoloss.paths.straight): the adaptive planner's bound and the
record's ``linear_barrier`` are the same evaluation, so at the same points they agree."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import topoloss as tl
from topoloss.config import EvaluationConfig, PathConfig
from topoloss.engine.adaptive import straight_bounds
from topoloss.engine.executors import PairTask
from topoloss.minima.find import find_minima
from topoloss.paths.curves import Bezier
from topoloss.paths.optimize import optimize_pairs
from topoloss.paths.straight import straight_barriers


def _records(land, minima, n: int):  # noqa: ANN001, ANN202
    pairs = [(i, j) for i in range(len(minima)) for j in range(i + 1, len(minima))]
    paths = PathConfig(curve=Bezier(bends=1), steps=2)
    evaluation = EvaluationConfig(n_eval=n, refine=0, screen=0, linear=True)
    return pairs, optimize_pairs(land, minima, pairs, paths=paths, evaluation=evaluation, progress=False)


def _check(land, minima, n: int) -> None:  # noqa: ANN001
    bounds = straight_bounds(PairTask(land, minima, PathConfig(), EvaluationConfig(), 0), points=n)
    pairs, records = _records(land, minima, n)
    for (i, j), rec in zip(pairs, records):
        lo = max(float(minima.losses[i]), float(minima.losses[j]))
        # Exactly equal: both go through straight_profiles, every segment on its own grid and
        # every point's loss computed on its own (analytic: elementwise; a CPU network: one point
        # per forward pass), so neither the batching nor the chunking changes a value. The
        # planner's bound is the same number, raised to the minima's losses if those are higher.
        assert bounds[i, j] == bounds[j, i] == max(rec.linear_barrier, lo)
        assert rec.linear_t.size == n


@pytest.mark.parametrize("n", [5, 11])
def test_planner_bound_is_the_records_linear_barrier_analytic(n: int) -> None:
    land = tl.analytic.get_landscape("himmelblau")
    minima = find_minima(land, 8, seed=0)
    assert len(minima) >= 3
    _check(land, minima, n)


def test_planner_bound_is_the_records_linear_barrier_network() -> None:
    from topoloss.data import digits
    from topoloss.models import fcn

    train, _ = digits()
    torch.manual_seed(0)
    land = tl.ModelLandscape(lambda: fcn(64, 10, depth=1, width=8), train)
    minima = tl.train_minima(land, seeds=range(3), epochs=1, progress=False)
    _check(land, minima, 7)


def test_straight_barriers_chunks_change_nothing() -> None:
    land = tl.analytic.get_landscape("six-hump-camel")
    minima = find_minima(land, 8, seed=0)
    x = minima.points.to(land.device, land.dtype)
    iu, ju = np.triu_indices(len(minima), k=1)
    starts, ends = [x[i] for i in iu], [x[j] for j in ju]
    whole = straight_barriers(land, starts, ends, n_eval=11)
    one_by_one = [straight_barriers(land, [a], [b], n_eval=11)[0] for a, b in zip(starts, ends)]
    np.testing.assert_array_equal(whole, one_by_one)


def test_straight_barriers_equal_a_direct_evaluation_of_the_segment() -> None:
    # an independent answer: the landscape's own loss at t = 0, 1/(n-1), ..., 1 on each segment
    land = tl.analytic.get_landscape("himmelblau")
    minima = find_minima(land, 8, seed=0)
    x = minima.points.to(land.device, land.dtype)
    iu, ju = np.triu_indices(len(minima), k=1)
    got = straight_barriers(land, [x[i] for i in iu], [x[j] for j in ju], n_eval=9)
    t = torch.linspace(0, 1, 9, dtype=torch.float64)[:, None]
    direct = [float(land.loss((1 - t) * x[i] + t * x[j]).max()) for i, j in zip(iu, ju)]
    np.testing.assert_allclose(got, direct, rtol=1e-12)
