"""Bar checks (SPEC §11): a certified bar cannot be lowered by any pair left out."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import topoloss as tl
from topoloss import LandscapeGraph, loss_barcode
from topoloss.engine.bar_checks import check_bars, summarize_checks


def _graph(losses, weights):
    n = len(losses)
    b = np.full((n, n), np.inf)
    for (i, j), w in weights.items():
        b[i, j] = b[j, i] = w
    return LandscapeGraph.from_barriers(losses, b)


def _lowering_pairs(losses, weights, name, death):
    """Brute force: the unconnected pairs that, added at their lowest possible barrier
    ``max(L_a, L_b)``, lower the bar of ``name``."""
    out = 0
    for i, j in itertools.combinations(range(len(losses)), 2):
        if (i, j) in weights:
            continue
        g = _graph(losses, {**weights, (i, j): max(losses[i], losses[j])})
        bc = loss_barcode(g)
        if bc.intervals[bc.names.index(name), 1] < death:
            out += 1
    return out


@pytest.mark.parametrize("seed", range(200))
def test_certified_bars_cannot_be_lowered_and_every_lowering_pair_is_counted(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 8))
    losses = np.round(rng.random(n), 1).tolist()  # ties included
    pairs = list(itertools.combinations(range(n), 2))
    keep = rng.random(len(pairs)) < rng.uniform(0.2, 1.0)
    weights = {p: max(losses[p[0]], losses[p[1]]) + round(float(rng.random()), 1)
               for p, k in zip(pairs, keep) if k}
    g = _graph(losses, weights)
    bc = loss_barcode(g)
    for check in check_bars(g, bc):
        lowering = _lowering_pairs(losses, weights, check.name, check.death)
        assert lowering <= check.open_pairs
        if check.certified:
            assert lowering == 0
        if len(weights) == len(pairs):
            assert check.certified


def test_hand_example_and_fallback():
    # 0 -- 1.0 -- 1 -- 0.7 -- 2, losses 0, 0.5, 0.2; the pair (0, 2) is missing
    g = _graph([0.0, 0.5, 0.2], {(0, 1): 1.0, (1, 2): 0.7})
    checks = check_bars(g, loss_barcode(g), fallbacks=[(1, 0)])
    by = {c.name: c for c in checks}
    assert by[0].death == math.inf and by[0].certified
    assert by[1].death == 0.7 and by[1].certified and not by[1].fallback
    # bar of 2 dies at 1.0 through (0, 1), a fallback; (0, 2) could still lower it
    assert by[2].death == 1.0 and by[2].open_pairs == 1 and by[2].fallback
    assert summarize_checks(checks) == ("bars certified: 2 of 3; the other 1 could in principle be lowered by "
                                        "pairs left out (up to 1 for one bar); 1 killed by a straight-segment fallback")


def test_disconnected_components_count_the_pairs_between_them():
    g = _graph([0.0, 0.1, 0.2, 0.3], {(0, 1): 0.5, (2, 3): 0.6})
    checks = {c.name: c for c in check_bars(g, loss_barcode(g))}
    assert checks[0].open_pairs == 4 and checks[2].open_pairs == 4  # both essential bars
    # 1 dies at 0.5, 3 at 0.6: each could be lowered only together with another pair
    # (1-2 at 0.2 then 2-0 at 0.3), so they are counted, not certified
    assert checks[1].open_pairs == 2 and checks[3].open_pairs == 2


def test_analysis_bar_checks_all_pairs_and_adaptive():
    land = tl.analytic.get_landscape("rastrigin")  # 9 minima
    full = tl.analyze(land, steps=40, n_minima=9, progress=False)
    assert all(c.certified for c in full.bar_checks())
    adaptive = tl.analyze(land, minima=full.minima, pairs="adaptive:budget=1", steps=40, progress=False)
    checks = adaptive.bar_checks()
    assert len(checks) == len(full.minima)
    assert len(adaptive.paths) < len(full.paths)
    # the reference: brute force over the pairs the planner left out
    names = list(adaptive.graph.nodes)
    losses = [adaptive.graph.loss(x) for x in names]
    weights = {(names.index(u), names.index(v)): adaptive.graph.barrier(u, v) for u, v in adaptive.graph.edges}
    weights = {(min(k), max(k)): w for k, w in weights.items()}
    for c in checks:
        assert _lowering_pairs(losses, weights, names.index(c.name), c.death) <= c.open_pairs
