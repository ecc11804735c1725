"""The curve-training step: the blockwise objective (CPU) against the flat one.

Both implementations of :func:`topoloss.paths._curve_step.curve_objective` must give the
same objective values, the same bend gradients and, through :func:`topoloss.connect`,
the same paths (float tolerance, same seed). The gradient is also checked against the
chain rule by hand: ``∂L(φ(t))/∂bend_j = w_j(t) ∇L(φ(t))``.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

import topoloss as tl
from topoloss.analytic import get_landscape
from topoloss.data import digits
from topoloss.paths import _curve_step, _train
from topoloss.paths._curve_step import (
    BlockwiseCurveObjective,
    FlatCurveObjective,
    curve_objective,
)
from topoloss.paths.curves import Bezier, PolyChain

CURVES = [Bezier(bends=2), PolyChain(bends=2)]


def _digits_fcn() -> torch.nn.Module:
    return tl.models.fcn(64, 10, depth=1, width=16)


def _digits_cnn() -> torch.nn.Module:
    return tl.models.cnn(1, 2, batch_norm=True, in_channels=1, image_size=8)


@pytest.fixture(scope="module")
def landscapes():
    return {"fcn": tl.ModelLandscape(_digits_fcn, digits()[0], batch_size=64),
            "cnn": tl.ModelLandscape(_digits_cnn, digits(as_images=True)[0], batch_size=64)}


def _setup(land, curve, seed=0):
    a, b = land.initial_point(seed + 1), land.initial_point(seed + 2)
    g = torch.Generator().manual_seed(seed)
    bends = curve.init_bends(a, b)
    bends = bends + 0.1 * torch.randn(bends.shape, generator=g, dtype=bends.dtype).to(bends.device)
    return a.unsqueeze(0), b.unsqueeze(0), bends.unsqueeze(0)


def _value_and_grad(land, curve, method, t, batch, weight_decay, seed=0):
    a, b, bends = _setup(land, curve, seed)
    bends = bends.requires_grad_(True)
    objective = curve_objective(land, curve, a, b, bends, weight_decay, method=method)
    value = objective(t, [batch])
    grad = torch.cat([p.grad for p in objective.parameters()], dim=-1)  # flat: (1, k, P); blocks: (k, n)
    return value, grad[0] if grad.ndim == 3 else grad


@pytest.mark.parametrize("model", ["fcn", "cnn"])
@pytest.mark.parametrize("curve", CURVES, ids=repr)
@pytest.mark.parametrize(("n_t", "weight_decay"), [(1, 0.0), (3, 0.01)])
@pytest.mark.parametrize("block", [None, 97], ids=["one-block", "blocks-of-97"])
def test_blockwise_step_gives_the_flat_value_and_gradient(landscapes, monkeypatch, model, curve, n_t,
                                                          weight_decay, block):
    if block is not None:  # blocks that cut through parameter tensors and span several
        monkeypatch.setattr(_curve_step, "BLOCK", block)
    land = landscapes[model]
    batch = next(land.batches())
    t = torch.tensor([[0.1, 0.45, 0.8][:n_t]], dtype=land.dtype)
    flat_value, flat_grad = _value_and_grad(land, curve, "flat", t, batch, weight_decay)
    value, grad = _value_and_grad(land, curve, "blockwise", t, batch, weight_decay)
    assert value.shape == flat_value.shape == (1,)
    torch.testing.assert_close(value, flat_value, rtol=1e-5, atol=1e-6)
    assert grad.shape == flat_grad.shape == (curve.n_bends, land.dim)
    torch.testing.assert_close(grad, flat_grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("curve", CURVES, ids=repr)
def test_blockwise_gradient_is_the_chain_rule(landscapes, curve):
    land = landscapes["cnn"]
    batch = next(land.batches())
    t = torch.tensor([[0.3]], dtype=land.dtype)
    a, b, bends = _setup(land, curve)
    point = curve.at(a[0], b[0], bends[0], t[0])
    value, grad_point = land.loss_and_grad(point, batch)
    weights = curve.weights(t[0], curve.n_bends)[0, 1:-1]
    got_value, got = _value_and_grad(land, curve, "blockwise", t, batch, 0.0)
    torch.testing.assert_close(got_value, value, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(got, weights.unsqueeze(1) * grad_point, rtol=1e-4, atol=1e-6)
    if isinstance(curve, PolyChain):  # t = 0.3 lies between a and the first bend
        assert weights[1] == 0 and bool((got[1] == 0).all())


class _WithUnused(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.used = torch.nn.Linear(64, 10)
        self.unused = torch.nn.Linear(3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.used(x.flatten(1))


def test_unused_parameters_get_a_zero_gradient(monkeypatch):
    monkeypatch.setattr(_curve_step, "BLOCK", 300)
    land = tl.ModelLandscape(_WithUnused, digits()[0], batch_size=64)
    batch = next(land.batches())
    t = torch.tensor([[0.4]], dtype=land.dtype)
    flat_value, flat_grad = _value_and_grad(land, Bezier(bends=1), "flat", t, batch, 0.0)
    value, grad = _value_and_grad(land, Bezier(bends=1), "blockwise", t, batch, 0.0)
    torch.testing.assert_close(value, flat_value)
    torch.testing.assert_close(grad, flat_grad)
    assert bool((grad[:, -12:] == 0).all()) and bool((grad[:, :-12] != 0).any())


def test_optimizer_steps_views_of_the_bends(landscapes):
    land = landscapes["fcn"]
    curve = Bezier(bends=1)
    a, b, bends = _setup(land, curve)
    objective = curve_objective(land, curve, a, b, bends, 0.0, method="blockwise")
    opt = torch.optim.SGD(objective.parameters(), lr=0.1)
    before = bends.clone()
    objective(torch.tensor([[0.5]], dtype=land.dtype), [next(land.batches())])
    grad = torch.cat([p.grad for p in objective.parameters()], dim=-1)
    opt.step()
    torch.testing.assert_close(bends, before - 0.1 * grad.unsqueeze(0))


@pytest.mark.parametrize(("model", "curve", "optimizer"), [
    ("fcn", Bezier(bends=2), "adam"), ("fcn", PolyChain(bends=2), "sgd"),
    ("cnn", Bezier(bends=2), "sgd"), ("cnn", PolyChain(bends=2), "adam"),
], ids=str)
def test_connect_gives_the_same_paths_with_either_step(landscapes, monkeypatch, model, curve, optimizer):
    land = landscapes[model]
    minima = tl.Minima.from_points(land, torch.stack([land.initial_point(s) for s in range(2)]))
    options = {"curve": curve, "epochs": 1, "seed": 3, "progress": False, "n_eval": 3, "refine": 0,
               "optimizer": optimizer, "weight_decay": 1e-4, "group": 1}
    paths = {}
    for method in ("flat", "blockwise"):
        monkeypatch.setattr(_train, "curve_objective",
                            functools.partial(_curve_step.curve_objective, method=method))
        paths[method] = tl.connect(land, minima, **options)
    (flat,), (ours,) = paths["flat"], paths["blockwise"]
    assert len(ours.history) == len(flat.history) > 5
    np.testing.assert_allclose(ours.history, flat.history, rtol=1e-4, atol=1e-6)
    # Adam divides by the root of the squared gradient, which turns rounding in a gradient
    # near zero into a visible step: compare against how far the bends moved at all
    moved = (flat.bends - curve.init_bends(flat.start, flat.end)).abs().max()
    assert moved > 0
    assert (ours.bends - flat.bends).abs().max() <= 1e-2 * moved
    assert ours.barrier == pytest.approx(flat.barrier, rel=1e-4)


def test_automatic_choice(landscapes):
    land = landscapes["fcn"]

    def chosen(land, curve, pairs=1):
        a = torch.zeros(pairs, land.dim, dtype=land.dtype)
        bends = torch.zeros(pairs, curve.n_bends, land.dim, dtype=land.dtype, requires_grad=True)
        return type(curve_objective(land, curve, a, a.clone(), bends, 0.0))

    assert chosen(land, Bezier(1)) is BlockwiseCurveObjective
    assert chosen(land, PolyChain(2)) is BlockwiseCurveObjective
    assert chosen(land, Bezier(1), pairs=2) is FlatCurveObjective  # groups: vmap

    class Shifted(Bezier):  # a family whose points are not its weights' combination
        def at(self, a, b, bends, t):
            return super().at(a, b, bends, t) + 1.0

    assert chosen(land, Shifted(1)) is FlatCurveObjective
    analytic = get_landscape("rastrigin")
    assert chosen(analytic, Bezier(1)) is FlatCurveObjective
    with pytest.raises(ValueError, match="blockwise"):
        curve_objective(analytic, Bezier(1), torch.zeros(1, 2), torch.ones(1, 2),
                        torch.zeros(1, 1, 2), 0.0, method="blockwise")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("curve", CURVES, ids=repr)
def test_blockwise_step_matches_flat_on_cuda(curve):
    land = tl.ModelLandscape(_digits_cnn, digits(as_images=True)[0], batch_size=64, device="cuda")
    batch = next(land.batches())
    t = torch.tensor([[0.2, 0.7]], dtype=land.dtype, device="cuda")
    assert type(curve_objective(land, curve, *_setup(land, curve), 0.0)) is FlatCurveObjective
    flat_value, flat_grad = _value_and_grad(land, curve, "flat", t, batch, 0.01)
    value, grad = _value_and_grad(land, curve, "blockwise", t, batch, 0.01)
    torch.testing.assert_close(value, flat_value, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(grad, flat_grad, rtol=1e-4, atol=1e-6)
