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


def test_wasserstein_closed_form_matches_pot_on_random_barcodes():
    pytest.importorskip("ot")
    import warnings

    from gudhi.wasserstein import wasserstein_distance

    from topoloss.topology.barcode import Barcode
    from topoloss.topology.score import ideal_diagram, wasserstein_to_ideal

    rng = np.random.default_rng(5)
    n_inf = 0
    for trial in range(300):
        n = int(rng.integers(1, 9))
        births = np.round(rng.normal(size=n), 1 if trial % 3 == 0 else 6)  # ties too
        deaths = births + rng.exponential(size=n) * (rng.random(n) > 0.15)  # zero-length too
        n_ess = int(rng.choice([0, 1, 1, 1, 2], p=[0.1, 0.3, 0.2, 0.3, 0.1]))
        ess = rng.choice(n, size=min(n_ess, n), replace=False)
        if trial % 4 == 0 and len(ess) == 1:
            births[ess] = births.min()  # the loss-barcode case: essential bar at the minimum
        deaths[ess] = np.inf
        bc = Barcode(tuple(range(n)), np.column_stack([births, deaths]), (None,) * n, (None,) * n)
        for order in (1.0, 2.0, 3.5):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expect = wasserstein_distance(
                    bc.to_diagram("keep"), ideal_diagram(bc), order=order, internal_p=np.inf,
                    keep_essential_parts=True,
                )
            got = wasserstein_to_ideal(bc.intervals, order=order)
            assert got == pytest.approx(expect, rel=1e-9, abs=1e-12), (bc.intervals, order)
            if len(ess) <= 1:
                assert to_score(bc, metric="wasserstein", order=order) == got
            n_inf += math.isinf(got)
    assert 0 < n_inf < 900  # both the finite and the unmatched-essential cases were hit


def test_wasserstein_score_never_imports_pot():
    import os
    import pathlib
    import subprocess
    import sys

    code = (
        "import sys; from topoloss import LandscapeGraph, loss_barcode, to_score; "
        "bc = loss_barcode(LandscapeGraph.from_barriers([0.0, 1.0, 2.0], "
        "[[0, 3, 5], [3, 0, 9], [5, 9, 0]])); "
        "assert to_score(bc, metric='wasserstein') == 2.5; "
        "assert to_score(bc, metric='wasserstein', order=2) == (1 + 1.5**2) ** 0.5; "
        "assert 'ot' not in sys.modules and 'gudhi.wasserstein' not in sys.modules, 'POT loaded'"
    )
    root = str(pathlib.Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root}
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
