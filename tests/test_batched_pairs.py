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


def _vmapped_and_looped(land, points):
    land.vmap_evaluation, land._per_pass = True, None
    try:
        fast = land.loss(points)
        per_pass = land._per_pass
    finally:
        land.vmap_evaluation, land._per_pass = False, None
    slow = torch.tensor([land.metrics(p)["loss"] for p in points], dtype=torch.float64)
    return fast, slow, per_pass


@pytest.mark.parametrize("spec", ["fcn", "cnn", "gpt"])
def test_vmapped_evaluation_equals_the_loop(spec):
    from topoloss.data import dataset_info, load_dataset
    from topoloss.models import get_model, sequence_cross_entropy

    data = {"fcn": "digits", "cnn": "digits-images", "gpt": "text"}[spec]
    train, _ = load_dataset(data)
    info = dataset_info(train)
    sub = torch.utils.data.Subset(train, range(300))
    loss = sequence_cross_entropy if spec == "gpt" else torch.nn.functional.cross_entropy
    model = {"fcn": "fcn:depth=2,width=16", "cnn": "cnn:n_layers=2,channels=4", "gpt": "gpt:n_layer=1,n_embd=16"}[spec]
    land = tl.ModelLandscape(lambda: get_model(model, input_shape=info.input_shape, num_classes=info.num_classes),
                             sub, loss=loss, eval_batch_size=128)
    assert not land.vmap_evaluation  # the CPU default: the loop (measured faster)
    points = torch.stack([land.initial_point(s) for s in range(5)])
    fast, slow, per_pass = _vmapped_and_looped(land, points)
    assert per_pass > 1  # the vectorized route ran
    torch.testing.assert_close(fast, slow, rtol=1e-6, atol=0)
    assert len(set(fast.tolist())) == 5  # five different points, not one repeated


def test_models_with_buffers_are_evaluated_point_by_point():
    train, _ = digits()
    land = tl.ModelLandscape(lambda: fcn(64, 10, depth=1, width=8, batch_norm=True), train)
    points = torch.stack([land.initial_point(s) for s in range(3)])
    fast, slow, per_pass = _vmapped_and_looped(land, points)
    assert per_pass == 1
    assert torch.equal(fast, slow)
