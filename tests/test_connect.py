"""PathRecord optimization: accuracy against the exact barriers, records, pairs, errors."""

from __future__ import annotations

import functools
import json
import math
from typing import Any

import numpy as np
import pytest
import torch

from topoloss.analytic import exact_barriers, from_function, get_landscape
from topoloss.analytic.landscape import AnalyticLandscape
from topoloss.engine.pipeline import connect
from topoloss.engine.planners import PLANNERS, register_pairs, select_pairs
from topoloss.errors import Diverged
from topoloss.minima.find import Minima, find_minima
from topoloss.paths.curves import Bezier, Chain, PolyChain
from topoloss.paths.record import PathRecord, evaluate_curve

LANDSCAPES_2D = [
    "himmelblau",
    "six-hump-camel",
    "rastrigin",
    "styblinski-tang",
    "holder-table",
    "gaussian-wells",
]
#: The default curve of every family (what the accuracy criterion is stated for).
FAMILIES = [Bezier(bends=3), PolyChain(bends=3), Chain()]
GRID = 513


@functools.cache
def _setup(name: str) -> tuple[AnalyticLandscape, Minima, np.ndarray, float, float]:
    """Landscape, its minima, exact barriers, value range and grid error."""
    land = get_landscape(name)
    minima = find_minima(land, 32, seed=0)
    exact = exact_barriers(land, minima.points.numpy(), resolution=GRID)
    _, values = land.grid(GRID)
    span = float(values.max() - values.min())
    # largest jump between grid neighbours: bounds how far a grid merge height can sit
    # above the true one
    jump = max(float(np.abs(np.diff(values, axis=k)).max()) for k in range(values.ndim))
    return land, minima, exact, span, jump


@pytest.mark.parametrize("curve", FAMILIES, ids=lambda c: type(c).__name__)
@pytest.mark.parametrize("name", LANDSCAPES_2D)
def test_barriers_are_above_and_close_to_the_exact_ones(name, curve):
    land, minima, exact, span, jump = _setup(name)
    paths = connect(land, minima, pairs="all", curve=curve, seed=0, progress=False)
    assert len(paths) == len(minima) * (len(minima) - 1) // 2
    excess = []
    for p in paths:
        i, j = minima.index(p.u), minima.index(p.v)
        assert p.barrier >= exact[i, j] - jump, (p, exact[i, j])
        assert math.isfinite(p.linear_barrier) and p.linear_barrier >= max(minima.losses[[i, j]]) - 1e-9
        excess.append((p.barrier - exact[i, j]) / span)
        inside = p.points(torch.linspace(0, 1, 101, dtype=torch.float64))
        assert bool(((inside >= land.low) & (inside <= land.high)).all())  # clamped to the box
    assert np.median(excess) <= 0.02, sorted(excess)


def _quadratic_wells() -> AnalyticLandscape:
    # two wells at (±1, 0), saddle at the origin with value 1
    return from_function(lambda p: (p[..., 0] ** 2 - 1) ** 2 + p[..., 1] ** 2,
                         [(-2, 2), (-2, 2)], name="double-well")


def _two_minima(land: AnalyticLandscape) -> Minima:
    return Minima.from_points(land, torch.tensor([[-1.0, 0.0], [1.0, 0.0]], dtype=torch.float64))


def test_path_record_is_consistent():
    land = _quadratic_wells()
    minima = _two_minima(land)
    (p,) = connect(land, minima, curve=Bezier(bends=2), epochs=50, progress=False)
    assert isinstance(p, PathRecord) and p.pair == ("m0", "m1")
    assert p.t[0] == 0.0 and p.t[-1] == 1.0 and np.all(np.diff(p.t) > 0)
    assert p.losses.shape == p.t.shape and p.t.size > 61  # grid plus refinement
    assert p.barrier == p.losses.max() and p.t_max == p.t[np.argmax(p.losses)]
    assert p.losses[0] == minima.losses[0] and p.losses[-1] == minima.losses[1]
    assert p.barrier == pytest.approx(1.0, abs=1e-4)  # the saddle
    assert p.linear_barrier == pytest.approx(1.0, abs=1e-9)
    assert p.bends.shape == (2, 2) and p.history.shape == (50,)
    assert p.seconds_optimize > 0 and p.seconds_evaluate > 0
    torch.testing.assert_close(p.points([0.0, 1.0]), minima.points)
    with pytest.raises(ValueError):  # frozen arrays
        p.losses[0] = 5.0


def test_path_round_trips_through_json_and_separate_tensors():
    land = _quadratic_wells()
    (p,) = connect(land, _two_minima(land), curve=Chain(points=3), epochs=20, progress=False)
    back = PathRecord.from_dict(json.loads(json.dumps(p.to_dict())))
    meta = json.loads(json.dumps(p.to_dict(tensors=False)))
    assert "bends" not in meta
    with pytest.raises(ValueError, match="lacks tensor"):
        PathRecord.from_dict(meta)
    again = PathRecord.from_dict(meta, tensors=p.tensors())
    for q in (back, again):
        assert q.curve == p.curve and q.pair == p.pair and q.barrier == p.barrier
        assert np.array_equal(q.losses, p.losses) and np.array_equal(q.history, p.history)
        torch.testing.assert_close(q.bends, p.bends)
        torch.testing.assert_close(q.points([0.3]), p.points([0.3]))


def test_evaluate_curve_of_the_straight_segment():
    land = _quadratic_wells()
    a, b = torch.tensor([-1.0, 0.0]), torch.tensor([1.0, 0.0])
    t, y = evaluate_curve(land, Bezier(bends=0), a, b, n_eval=11, refine=0)
    np.testing.assert_allclose(t, np.linspace(0, 1, 11), atol=1e-12)
    np.testing.assert_allclose(y, ((2 * t - 1) ** 2 - 1) ** 2, atol=1e-12)


def test_same_seed_same_paths_whatever_the_grouping():
    land, minima, *_ = _setup("six-hump-camel")
    kwargs: dict[str, Any] = {"curve": Chain(points=3, insert_every=10), "epochs": 40, "progress": False}
    one = connect(land, minima, seed=5, **kwargs)
    two = connect(land, minima, seed=5, **kwargs)
    single = connect(land, minima, seed=5, group=1, pairs=[(2, 4)], **kwargs)
    other = connect(land, minima, seed=6, **kwargs)
    for p, q in zip(one, two):
        assert torch.equal(p.bends, q.bends) and np.array_equal(p.losses, q.losses)
    same = next(p for p in one if p.pair == ("m2", "m4"))
    torch.testing.assert_close(single[0].bends, same.bends, rtol=1e-12, atol=1e-12)
    assert any(not torch.equal(p.bends, q.bends) for p, q in zip(one, other))


def test_bezier_grouping_and_sgd_and_weight_decay():
    land, minima, *_ = _setup("styblinski-tang")
    kwargs: dict[str, Any] = {"curve": Bezier(bends=1), "epochs": 30, "progress": False, "seed": 1}
    grouped = connect(land, minima, **kwargs)
    alone = connect(land, minima, group=1, **kwargs)
    for p, q in zip(grouped, alone):
        torch.testing.assert_close(p.bends, q.bends, rtol=1e-12, atol=1e-12)
    sgd = connect(land, minima, optimizer="sgd", lr=1e-4, weight_decay=1e-3, **kwargs)
    assert all(math.isfinite(p.barrier) for p in sgd)


def test_chain_grows_by_insertion_within_its_limit():
    land, minima, *_ = _setup("rastrigin")
    curve = Chain(points=2, insert_every=5, max_points=6)
    paths = connect(land, minima, curve=curve, pairs=[("m0", "m5")], epochs=60, progress=False)
    assert 2 < paths[0].bends.shape[0] <= 6


def test_on_path_callback_and_pair_selection():
    land, minima, *_ = _setup("six-hump-camel")
    seen = []
    paths = connect(land, minima, curve=Bezier(bends=1), pairs=[("m1", "m0"), (3, 2), (2, 3)],
                    epochs=5, progress=False, on_path=seen.append)
    assert [p.pair for p in paths] == [("m1", "m0"), ("m3", "m2")]
    assert seen == paths
    m = len(minima)
    assert len(select_pairs(minima, "all")) == m * (m - 1) // 2
    mst = select_pairs(minima, "mst")
    assert len(mst) == m - 1 and len({frozenset(p) for p in mst}) == m - 1
    assert 0 < len(select_pairs(minima, "nearest")) < m
    register_pairs("first-two", lambda mins: [(0, 1)])
    try:
        assert select_pairs(minima, "first-two") == [(0, 1)]
    finally:
        PLANNERS.unregister("first-two")


def test_bad_input_raises_value_error():
    land, minima, *_ = _setup("six-hump-camel")
    with pytest.raises(ValueError, match=r"shape \(batch, 2\)"):
        connect(land, torch.zeros(3, 5, dtype=torch.float64), progress=False)
    wrong = Minima(torch.zeros(2, 3), [0.0, 1.0], ("a", "b"), [0, 0], [True] * 2, [False] * 2)
    with pytest.raises(ValueError, match="dimension 3"):
        connect(land, wrong, progress=False)
    with pytest.raises(ValueError, match="unknown minimum 'zz'"):
        connect(land, minima, pairs=[("m0", "zz")], progress=False)
    with pytest.raises(ValueError, match="itself"):
        connect(land, minima, pairs=[("m0", 0)], progress=False)
    with pytest.raises(ValueError, match="pairs='every'"):
        connect(land, minima, pairs="every", progress=False)
    for kwargs in ({"epochs": 0}, {"lr": -1.0}, {"optimizer": "lbfgs"}, {"t_batch": 0},
                   {"n_eval": 1}, {"jitter": -1.0}):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            connect(land, minima, progress=False, **kwargs)
    with pytest.raises(TypeError, match="curve"):
        connect(land, minima, curve="bezier", progress=False)


def test_nan_loss_during_optimization_names_the_pair():
    def f(p: torch.Tensor) -> torch.Tensor:
        bad = (p[..., 0].abs() < 0.5) & (p[..., 1] > 0.02)
        return (p[..., 0] ** 2 - 1) ** 2 + p[..., 1] ** 2 + torch.where(bad, math.nan, 0.0)

    land = from_function(f, [(-2, 2), (-2, 2)])
    minima = Minima.from_points(land, torch.tensor([[-1.0, 0.0], [1.0, 0.0]]), names=["left", "right"])
    with pytest.raises(Diverged, match="'left' and 'right'"):
        connect(land, minima, curve=Bezier(bends=1), epochs=50, jitter=0.5, progress=False)


class _Noisy(AnalyticLandscape):
    """A mini-batch landscape: each batch shifts the function a little."""

    @property
    def batches_per_epoch(self) -> int:
        return 4

    def batches(self, *, generator: torch.Generator | None = None):
        while True:
            yield 0.05 * torch.randn(2, generator=generator, dtype=torch.float64)

    def objective(self, points: torch.Tensor, batch: Any = None) -> torch.Tensor:
        assert batch is not None
        return self.f(points + batch)


@pytest.mark.parametrize("curve", [Bezier(bends=1), Chain(points=3, insert_every=3)], ids=repr)
def test_mini_batch_landscape(curve):
    land = _Noisy(lambda p: (p[..., 0] ** 2 - 1) ** 2 + p[..., 1] ** 2, [(-2, 2), (-2, 2)])
    minima = _two_minima(land)
    paths = connect(land, minima, curve=curve, epochs=3, progress=False)
    assert paths[0].history.shape == (12,)  # 3 epochs of 4 batches
    assert paths[0].barrier >= 1.0 - 1e-3


def test_evaluation_reports_progress_for_every_point():
    from topoloss.analytic import from_function
    from topoloss.paths.record import evaluate_curves

    land = from_function(lambda x: (x**2).sum(-1), [(-1, 1), (-1, 1)])
    a, b = torch.tensor([-0.5, 0.0], dtype=torch.float64), torch.tensor([0.5, 0.0], dtype=torch.float64)
    items = [(Bezier(bends=1), a, b, Bezier(bends=1).init_bends(a, b)),
             (PolyChain(bends=2), a, b, PolyChain(bends=2).init_bends(a, b))]
    seen = []
    profiles = evaluate_curves(land, items, n_eval=11, refine=1, progress=seen.append)
    assert sum(seen) == sum(len(t) for t, _ in profiles) > 22
