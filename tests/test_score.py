"""TO-score: hand-computed values and the closed forms of SPEC §6."""

import math

import numpy as np
import pytest
from _reference import random_graph

from topoloss import LandscapeGraph, loss_barcode, to_score


def bc_of(losses, barriers):
    return loss_barcode(LandscapeGraph.from_barriers(losses, barriers))


def test_hand_computed_scores():
    bc = bc_of([0.0, 1.0, 2.0], [[0, 3, 5], [3, 0, np.inf], [5, np.inf, 0]])
    assert to_score(bc) == pytest.approx(1.5)  # max((3-1)/2, (5-2)/2)
    assert to_score(bc, metric="wasserstein") == pytest.approx(2.5)  # 1 + 1.5
    assert to_score(bc, metric="wasserstein", order=2) == pytest.approx(math.hypot(1, 1.5))


def test_single_minimum_scores_zero_and_disconnected_scores_inf():
    assert to_score(bc_of([0.7], [[0]])) == 0.0
    assert to_score(bc_of([0.7], [[0]]), metric="wasserstein") == 0.0
    bc = bc_of([0.0, 1.0], [[0, np.inf], [np.inf, 0]])
    assert to_score(bc) == math.inf
    assert to_score(bc, metric="wasserstein") == math.inf


def test_closed_forms_on_random_connected_graphs():
    rng = np.random.default_rng(11)
    checked = 0
    while checked < 200:
        losses, edges = random_graph(rng, n_max=10, ties=False)
        g = LandscapeGraph.from_barriers(losses, np.full((len(losses),) * 2, np.inf))
        for u, v, w in edges:
            g.add_path(u, v, w)
        bc = loss_barcode(g)
        if bc.n_components != 1:
            continue
        half = (bc.finite()[:, 1] - bc.finite()[:, 0]) / 2
        assert to_score(bc) == pytest.approx(half.max(initial=0.0), abs=1e-12)
        assert to_score(bc, metric="wasserstein") == pytest.approx(half.sum(), rel=1e-9, abs=1e-12)
        checked += 1


def test_bad_options():
    bc = bc_of([0.0], [[0]])
    with pytest.raises(ValueError, match="metric"):
        to_score(bc, metric="l2")
    with pytest.raises(ValueError, match="order"):
        to_score(bc, metric="wasserstein", order=0.5)
    with pytest.raises(TypeError):
        to_score([[0, 1]])
