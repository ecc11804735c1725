"""Issue 4's end-to-end check: 4 minima of a small net on digits, all 6 pairs joined."""

import numpy as np
import pytest
from _reference import elder_rule_barcode

import topoloss as tl
from topoloss.data import digits
from topoloss.models import fcn


@pytest.mark.slow
def test_digits_four_minima_six_bezier_paths_through_analyze():
    train, test = digits()
    land = tl.ModelLandscape(lambda: fcn(64, 10, depth=1, width=16), train, test_data=test)
    minima = tl.train_minima(land, seeds=range(4), epochs=8, progress=False)
    assert len(minima) == 4 and all(m["test_accuracy"] > 0.8 for m in minima.metrics)
    # the same `analyze` as on analytic landscapes, unchanged, on the network
    result = tl.analyze(land, minima=minima, curve=tl.Bezier(bends=1), pairs="all", epochs=25,
                        seed=0, progress=False)
    paths = result.paths
    assert len(paths) == 6
    names = list(minima.names)
    for p in paths:
        ends = minima.losses[[names.index(p.u), names.index(p.v)]]
        # the profile starts and ends at the minima's own (exact) losses
        np.testing.assert_allclose([p.losses[0], p.losses[-1]], ends, rtol=1e-6)
        assert p.barrier >= ends.max()
        assert p.barrier <= p.linear_barrier, (p.pair, p.barrier, p.linear_barrier)
        # the barrier is the maximum of an independent evaluation on a finer grid (up to refinement)
        t = np.linspace(0, 1, 201)
        dense = land.loss(p.points(t)).numpy()
        assert dense.max() <= p.barrier * (1 + 1e-3) + 1e-6
    bc = result.barcode
    assert result.graph.nodes == list(minima.names)
    edges = [(names.index(p.u), names.index(p.v), p.barrier) for p in paths]
    np.testing.assert_array_equal(bc.intervals, elder_rule_barcode(list(minima.losses), edges))
    score = result.to_score
    assert score == tl.to_score(bc) == pytest.approx(np.max(bc.lengths[np.isfinite(bc.lengths)]) / 2)
