"""Curves: exact endpoints, straight initialization, the chain's projection and insertion."""

from __future__ import annotations

import json
import math

import pytest
import torch

from topoloss.paths._chain import ChainGroup, insert_group
from topoloss.paths.curves import Bezier, Chain, Curve, PolyChain, curve_from_dict

F64 = torch.float64
FAMILIES = [Bezier(0), Bezier(1), Bezier(4), PolyChain(0), PolyChain(1), PolyChain(3), Chain(points=5)]


def _pair(dim: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(dim, generator=g, dtype=F64), torch.randn(dim, generator=g, dtype=F64)


def _random_bends(curve: Curve, a: torch.Tensor, b: torch.Tensor, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    bends = curve.init_bends(a, b)
    return bends + torch.randn(bends.shape, generator=g, dtype=F64)


@pytest.mark.parametrize("curve", FAMILIES, ids=repr)
def test_endpoints_are_held_exactly(curve):
    a, b = _pair(5)
    bends = _random_bends(curve, a, b)
    pts = curve.at(a, b, bends, torch.tensor([0.0, 0.37, 1.0], dtype=F64))
    assert pts.shape == (3, 5)
    assert torch.equal(pts[0], a) and torch.equal(pts[-1], b)


@pytest.mark.parametrize("curve", FAMILIES, ids=repr)
def test_initial_bends_give_the_straight_segment(curve):
    a, b = _pair(4)
    bends = curve.init_bends(a, b)
    assert bends.shape == (curve.n_bends, 4)
    t = torch.linspace(0, 1, 23, dtype=F64)
    torch.testing.assert_close(curve.at(a, b, bends, t), a + t[:, None] * (b - a))


def test_bezier_with_zero_bends_is_the_segment_and_degree_two_is_known():
    a, b = _pair(2)
    t = torch.rand(9, dtype=F64, generator=torch.Generator().manual_seed(0))
    straight = Bezier(bends=0).at(a, b, a.new_zeros(0, 2), t)
    torch.testing.assert_close(straight, a + t[:, None] * (b - a))
    c = torch.tensor([[3.0, -1.0]], dtype=F64)
    mid = Bezier(bends=1).at(a, b, c, 0.5)[0]
    torch.testing.assert_close(mid, (a + 2 * c[0] + b) / 4)


def test_polychain_passes_through_its_bends_at_equal_spacing():
    a, b = _pair(3)
    curve = PolyChain(bends=3)
    bends = _random_bends(curve, a, b)
    knots = torch.tensor([0.25, 0.5, 0.75], dtype=F64)
    torch.testing.assert_close(curve.at(a, b, bends, knots), bends)
    torch.testing.assert_close(curve.knots(3), torch.linspace(0, 1, 5, dtype=F64))
    # halfway between two vertices is their midpoint
    torch.testing.assert_close(curve.at(a, b, bends, 0.125)[0], (a + bends[0]) / 2)


@pytest.mark.parametrize("curve", FAMILIES, ids=repr)
def test_weights_agree_with_points_and_sum_to_one(curve):
    a, b = _pair(3)
    bends = _random_bends(curve, a, b)
    t = torch.linspace(0, 1, 17, dtype=F64)
    w = curve.weights(t, bends.shape[0])
    assert w.shape == (17, bends.shape[0] + 2)
    torch.testing.assert_close(w.sum(1), torch.ones(17, dtype=F64))
    torch.testing.assert_close(w @ torch.cat([a[None], bends, b[None]]), curve.at(a, b, bends, t))


@pytest.mark.parametrize("curve", [c for c in FAMILIES if c.n_bends], ids=repr)
def test_points_are_differentiable_in_the_bends_only(curve):
    a, b = _pair(3)
    bends = _random_bends(curve, a, b).requires_grad_(True)
    t = torch.tensor([0.0, 0.3, 0.6, 1.0], dtype=F64)
    curve.at(a, b, bends, t).pow(2).sum().backward()
    assert bends.grad is not None and bends.grad.abs().sum() > 0


@pytest.mark.parametrize("curve", FAMILIES, ids=repr)
def test_batched_curves_match_one_by_one(curve):
    pairs = [_pair(3, seed) for seed in range(4)]
    a = torch.stack([p[0] for p in pairs])
    b = torch.stack([p[1] for p in pairs])
    bends = torch.stack([_random_bends(curve, p[0], p[1], seed=s) for s, p in enumerate(pairs)])
    t = torch.rand(4, 6, dtype=F64, generator=torch.Generator().manual_seed(1))
    out = curve.at(a, b, bends, t)
    assert out.shape == (4, 6, 3)
    for j in range(4):
        torch.testing.assert_close(out[j], curve.at(a[j], b[j], bends[j], t[j]))
    torch.testing.assert_close(curve.init_bends(a, b)[2], curve.init_bends(a[2], b[2]))


def test_invalid_specifications_and_shapes_raise_value_error():
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="bends"):
            Bezier(bends=bad)
        with pytest.raises(ValueError, match="bends"):
            PolyChain(bends=bad)
    with pytest.raises(ValueError, match="points"):
        Chain(points=0)
    with pytest.raises(ValueError, match="max_points"):
        Chain(points=8, max_points=4)
    with pytest.raises(ValueError, match="spring"):
        Chain(spring=-1.0)
    a, b = _pair(3)
    with pytest.raises(ValueError, match="bends must have shape"):
        Bezier(bends=1).at(a, b, torch.zeros(1, 4, dtype=F64), 0.5)
    with pytest.raises(ValueError, match="endpoints"):
        Bezier(bends=1).at(a, b[:2], torch.zeros(1, 3, dtype=F64), 0.5)


@pytest.mark.parametrize("curve", [Bezier(2), PolyChain(5), Chain(points=3, spring=0.5, climbing=True)],
                         ids=repr)
def test_specification_round_trips_through_json(curve):
    data = json.loads(json.dumps(curve.to_dict()))
    assert curve_from_dict(data) == curve
    with pytest.raises(ValueError, match="kind"):
        curve_from_dict({"kind": "spline"})


# ---------------------------------------------------------------------- the chain
def _line_chain(n: int = 3) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    a = torch.tensor([0.0, 0.0], dtype=F64)
    b = torch.tensor([float(n + 1), 0.0], dtype=F64)
    return a, b, Chain(points=n).init_bends(a, b)


def test_projection_of_a_known_gradient_drops_the_tangent_part():
    # f(x, y) = x + 2 y on a chain along the x axis: only the y part survives
    a, b, x = _line_chain()
    grad = torch.tensor([[1.0, 2.0]], dtype=F64).repeat(3, 1)
    out = Chain(points=3).project(a, b, x, grad)
    torch.testing.assert_close(out, torch.tensor([[0.0, 2.0]] * 3, dtype=F64))


def test_projected_step_has_zero_tangent_component_on_a_curved_chain():
    g = torch.Generator().manual_seed(3)
    a, b = torch.zeros(4, dtype=F64), torch.ones(4, dtype=F64)
    chain = Chain(points=6)
    x = chain.init_bends(a, b) + 0.3 * torch.randn(6, 4, generator=g, dtype=F64)
    grad = torch.randn(6, 4, generator=g, dtype=F64)
    out = chain.project(a, b, x, grad)
    tau = chain.tangents(a, b, x)
    control = torch.cat([a[None], x, b[None]])
    want = control[2:] - control[:-2]
    torch.testing.assert_close(tau, want / want.norm(dim=1, keepdim=True))
    torch.testing.assert_close((out * tau).sum(1), torch.zeros(6, dtype=F64), atol=1e-12, rtol=0)
    torch.testing.assert_close(out + (grad * tau).sum(1, keepdim=True) * tau, grad)


def test_spring_acts_along_the_tangent_and_climbing_reverses_it_at_the_top():
    a = torch.tensor([0.0, 0.0], dtype=F64)
    b = torch.tensor([4.0, 0.0], dtype=F64)
    x = torch.tensor([[1.0, 0.0], [3.0, 0.0], [3.5, 0.0]], dtype=F64)  # segments 1, 2, 0.5, 0.5
    grad = torch.tensor([[1.0, 1.0]] * 3, dtype=F64)
    out = Chain(points=3, spring=2.0).project(a, b, x, grad)
    # -spring * (next - prev) along the x axis: -2*(2-1), -2*(0.5-2), -2*(0.5-0.5)
    torch.testing.assert_close(out, torch.tensor([[-2.0, 1.0], [3.0, 1.0], [0.0, 1.0]], dtype=F64))
    losses = torch.tensor([0.1, 0.9, 0.2], dtype=F64)
    out = Chain(points=3, climbing=True).project(a, b, x, grad, losses)
    torch.testing.assert_close(out, torch.tensor([[0.0, 1.0], [-1.0, 1.0], [0.0, 1.0]], dtype=F64))
    with pytest.raises(ValueError, match="climbing"):
        Chain(points=3, climbing=True).project(a, b, x, grad)


def _bump(center: float):
    def f(p: torch.Tensor) -> torch.Tensor:
        return torch.exp(-((p[:, 0] - center) ** 2) * 20) + 0.01 * p[:, 1]

    return f


def test_insertion_puts_the_new_point_in_the_segment_holding_the_maximum():
    a, b, x = _line_chain(3)  # vertices at x = 0..4
    chain = Chain(points=3, insert_count=1, probes=3)
    new = chain.insert(a, b, x, _bump(2.5))
    assert new.shape == (4, 2)
    torch.testing.assert_close(new[[0, 1, 3]], x)  # old points unchanged, in order
    torch.testing.assert_close(new[2], torch.tensor([2.5, 0.0], dtype=F64))  # highest probe
    # a second bump in another segment: with two insertions both segments get one
    both = Chain(points=3, insert_count=2).insert(
        a, b, x, lambda p: _bump(2.5)(p) + 0.5 * _bump(0.75)(p)
    )
    torch.testing.assert_close(both[:, 0], torch.tensor([0.75, 1.0, 2.0, 2.5, 3.0], dtype=F64))


def test_insertion_skips_resolved_chains_and_respects_max_points():
    a, b, x = _line_chain(3)
    monotone = Chain(points=3).insert(a, b, x, lambda p: p[:, 0])  # no bump inside a segment
    assert torch.equal(monotone, x)
    full = Chain(points=3, max_points=3).insert(a, b, x, _bump(2.5))
    assert torch.equal(full, x)
    capped = Chain(points=3, max_points=4, insert_count=5).insert(
        a, b, x, lambda p: torch.cos(8 * p[:, 0])
    )
    assert capped.shape[0] == 4


def test_insertion_splits_a_segment_that_is_too_long():
    a = torch.tensor([0.0, 0.0], dtype=F64)
    b = torch.tensor([10.0, 0.0], dtype=F64)
    x = torch.tensor([[0.5, 0.0], [1.0, 0.0]], dtype=F64)  # last segment has length 9
    new = Chain(points=2, stretch=2.0).insert(a, b, x, lambda p: -p[:, 0])
    torch.testing.assert_close(new[-1], torch.tensor([5.5, 0.0], dtype=F64))


def test_group_insertion_matches_single_chains_and_tracks_sources():
    chain = Chain(points=3, insert_count=1)
    a1, b1, x1 = _line_chain(3)
    a2 = torch.tensor([0.0, 1.0], dtype=F64)
    b2 = torch.tensor([4.0, 1.0], dtype=F64)
    x2 = chain.init_bends(a2, b2)
    f = _bump(1.5)
    group = ChainGroup([3, 3], torch.device("cpu"))
    flat, new_group, src = insert_group(
        chain, group, torch.stack([a1, a2]), torch.stack([b1, b2]), torch.cat([x1, x2]), f
    )
    assert new_group.sizes == [4, 4]
    torch.testing.assert_close(flat[:4], chain.insert(a1, b1, x1, f))
    torch.testing.assert_close(flat[4:], chain.insert(a2, b2, x2, f))
    # the new point of chain 1 sits between its old rows 0 and 1; kept rows map to themselves
    assert src.tolist()[:4] == [[0, 0], [0, 1], [1, 1], [2, 2]]
    assert not math.isnan(float(flat.sum()))
