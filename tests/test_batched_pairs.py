"""Pairs optimized together as one vectorized computation give the paths of the serial loop."""

from __future__ import annotations

import pytest
import torch

import topoloss as tl
from topoloss.data import digits
from topoloss.landscapes.base import Landscape
from topoloss.models import fcn


@pytest.fixture(scope="module")
def setup():
    train, _ = digits()
    land = tl.ModelLandscape(lambda: fcn(64, 10, depth=1, width=16), train, batch_size=64)
    minima = tl.train_minima(land, seeds=range(4), epochs=2, progress=False)
    return land, minima


def test_vmapped_objective_equals_the_loop(setup):
    land, _ = setup
    points = torch.stack([land.initial_point(s) for s in range(6)]).reshape(3, 2, -1).requires_grad_(True)
    batches = [next(land.batches(generator=torch.Generator().manual_seed(s))) for s in range(3)]
    fast = land.objective_grouped(points, batches)
    (g_fast,) = torch.autograd.grad(fast.sum(), points)
    slow = Landscape.objective_grouped(land, points, batches)  # one objective call per pair
    (g_slow,) = torch.autograd.grad(slow.sum(), points)
    assert fast.shape == (3, 2)
    torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(g_fast, g_slow, rtol=1e-4, atol=1e-7)


def test_grouped_pairs_give_the_serial_paths(setup):
    land, minima = setup
    options = {"curve": tl.Bezier(bends=1), "epochs": 2, "seed": 3, "progress": False, "n_eval": 21}
    serial = tl.connect(land, minima, group=1, **options)
    grouped = tl.connect(land, minima, group=6, **options)
    assert [p.pair for p in serial] == [p.pair for p in grouped]
    for s, g in zip(serial, grouped):
        assert g.barrier == pytest.approx(s.barrier, rel=1e-4)
        torch.testing.assert_close(g.bends, s.bends, rtol=1e-3, atol=1e-5)
