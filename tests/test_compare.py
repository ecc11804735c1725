"""compare_to_exact, drop_short_bars, artifact_length: hand-computed barcodes."""

import json
import math

import numpy as np
import pytest

from topoloss import Barcode
from topoloss.analytic import (
    artifact_length,
    compare_to_exact,
    drop_short_bars,
    value_range,
)
from topoloss.errors import InputError

INF = math.inf


def bc(*rows):
    n = len(rows)
    return Barcode(tuple(range(n)), np.array(rows, dtype=float), (None,) * n, (None,) * n)


EXACT = bc([0, INF], [1, 3], [2, 2.05], [0.5, 6])  # [2, 2.05]: a grid artifact
FOUND = bc([0, INF], [1.1, 3.2], [0.5, 6.3], [4, 4.1])


def test_value_range_and_artifact_length():
    assert value_range(EXACT) == 6.0  # highest finite value 6 minus lowest birth 0
    assert artifact_length(EXACT) == pytest.approx(0.006)
    assert value_range(bc([0.5, INF])) == 0.0
    assert value_range(bc([0, INF], [3, INF])) == 3.0  # births of essential bars count
    assert artifact_length([1.0, -3.0, np.inf, 7.0]) == pytest.approx(0.01)


def test_drop_short_bars_one_rule():
    out = drop_short_bars(bc([0, INF], [1, 1.5], [1, 1.75], [2, 2]), 0.5)
    assert out.intervals.tolist() == [[0, INF], [1, 1.75]]  # length 0.5 <= 0.5 dropped
    assert drop_short_bars(bc([0, INF], [2, 2], [1, 1.5]), 0).intervals.tolist() == [[0, INF], [1, 1.5]]
    assert len(drop_short_bars(bc([0, INF], [3, INF]), 1e9)) == 2  # essential bars stay
    with pytest.raises(InputError, match="min_length=-1.0"):
        drop_short_bars(EXACT, -1)


def test_compare_to_exact_by_hand():
    # scale 6, cut 0.02 * 6 = 0.12 drops [2, 2.05] and [4, 4.1]; then the best matching
    # pairs [1, 3]-[1.1, 3.2] (cost 0.2) and [0.5, 6]-[0.5, 6.3] (cost 0.3): distance 0.3
    c = compare_to_exact(FOUND, EXACT)
    assert c.scale == 6.0 and c.min_length == pytest.approx(0.12)
    assert c.distance == pytest.approx(0.3) and c.relative == pytest.approx(0.05)
    assert (c.n_bars, c.n_exact_bars) == (3, 3)
    assert not c.within_tolerance and c.tolerance == 0.02
    loose = compare_to_exact(FOUND, EXACT, tolerance=0.1)
    assert loose.within_tolerance and loose.distance == pytest.approx(0.3)
    # keeping every bar: [4, 4.1] and [2, 2.05] go to the diagonal (0.05, 0.025)
    keep = compare_to_exact(FOUND, EXACT, min_length=0.0)
    assert (keep.n_bars, keep.n_exact_bars) == (4, 4) and keep.distance == pytest.approx(0.3)
    d = json.loads(json.dumps(c.to_dict()))
    assert d["distance"] == pytest.approx(0.3) and d["within_tolerance"] is False


def test_compare_to_exact_disconnected_and_single_minimum():
    c = compare_to_exact(bc([0, INF], [0.5, INF]), EXACT)
    assert c.distance == INF and not c.within_tolerance
    assert c.to_dict()["distance"] is None and c.to_dict()["relative"] is None
    one = compare_to_exact(bc([0.0, INF], [0.2, 0.4]), bc([0.0, INF]), tolerance=0.25)
    assert one.scale == 1.0  # single exact minimum: absolute units
    assert one.n_bars == 1 and one.distance == 0.0  # length 0.2 <= 0.25 * 1: dropped
    strict = compare_to_exact(bc([0.0, INF], [0.2, 0.4]), bc([0.0, INF]), min_length=0.1)
    assert strict.n_bars == 2 and strict.distance == pytest.approx(0.1)
    with pytest.raises(InputError, match="tolerance"):
        compare_to_exact(FOUND, EXACT, tolerance=-0.1)
    with pytest.raises(TypeError):
        compare_to_exact([[0, 1]], EXACT)
