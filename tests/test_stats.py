"""topoloss.stats against scipy.stats on the same data."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
import scipy.stats as ss

from topoloss.errors import InputError
from topoloss.stats import bootstrap_ci, permutation_test, summarize


def diff_of_means(x, y, axis=-1):
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def abs_diff(x, y, axis=-1):
    return np.abs(diff_of_means(x, y, axis))


def test_permutation_test_exact_equals_scipy():
    rng = np.random.default_rng(1)
    for na, nb in ((3, 3), (5, 4), (7, 6)):
        a, b = rng.normal(0, 1, na), rng.normal(0.8, 1, nb)
        ours = permutation_test(a, b)
        assert ours.exact and ours.n_resamples == math.comb(na + nb, na)
        ref = ss.permutation_test((a, b), abs_diff, vectorized=True, alternative="greater", n_resamples=10**6)
        assert ours.statistic == pytest.approx(diff_of_means(a, b))
        assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-12)
        if na == nb:  # symmetric null: scipy's own two-sided p-value is the same
            two = ss.permutation_test((a, b), diff_of_means, vectorized=True, n_resamples=10**6)
            assert ours.pvalue == pytest.approx(two.pvalue, rel=1e-12)


def test_permutation_test_by_hand():
    # 20 splits of 6 values into 3 + 3; only the observed split and its mirror are as extreme
    r = permutation_test([1.0, 1.1, 0.9], [2.0, 2.1, 1.9])
    assert r.statistic == pytest.approx(-1.0) and r.pvalue == pytest.approx(2 / 20)
    same = permutation_test([1.0, 2.0], [1.0, 2.0])
    assert same.statistic == 0.0 and same.pvalue == 1.0
    pooled = [0.3, 0.1, 0.4, 0.15, 0.9]
    expected = []
    for idx in combinations(range(5), 2):
        x = [pooled[i] for i in idx]
        y = [pooled[i] for i in range(5) if i not in idx]
        expected.append(abs(np.mean(x) - np.mean(y)) >= abs(np.mean(pooled[:2]) - np.mean(pooled[2:])) - 1e-12)
    assert permutation_test(pooled[:2], pooled[2:]).pvalue == pytest.approx(np.mean(expected))


def test_permutation_test_random_agrees_with_scipy():
    rng = np.random.default_rng(2)
    a, b = rng.normal(0, 1, 15), rng.normal(0.6, 1, 15)  # C(30, 15) splits: random permutations
    ours = permutation_test(a, b, n_resamples=20000, seed=0)
    ref = ss.permutation_test((a, b), diff_of_means, vectorized=True, n_resamples=20000, random_state=0)
    assert not ours.exact and ours.n_resamples == 20000
    se = math.sqrt(ref.pvalue * (1 - ref.pvalue) / 20000)  # Monte Carlo error of each estimate
    assert abs(ours.pvalue - ref.pvalue) < 5 * math.sqrt(2) * se + 1e-4
    assert permutation_test(a, b, n_resamples=500, seed=3) == permutation_test(a, b, n_resamples=500, seed=3)


def test_bootstrap_ci_agrees_with_scipy():
    rng = np.random.default_rng(3)
    for n in (5, 12, 40):
        v = rng.gamma(2.0, 0.1, n)
        ours = bootstrap_ci(v, n_resamples=20000, seed=0)
        ref = ss.bootstrap((v,), np.mean, method="percentile", n_resamples=20000, random_state=0)
        width = ref.confidence_interval.high - ref.confidence_interval.low
        assert ours.estimate == pytest.approx(v.mean())
        assert ours.low == pytest.approx(ref.confidence_interval.low, abs=0.05 * width)
        assert ours.high == pytest.approx(ref.confidence_interval.high, abs=0.05 * width)
        narrow = bootstrap_ci(v, confidence=0.5, n_resamples=20000, seed=0)
        assert ours.low < narrow.low < narrow.high < ours.high


def test_bootstrap_edge_cases():
    one = bootstrap_ci([0.3])
    assert one.estimate == 0.3 and math.isnan(one.low) and math.isnan(one.high) and one.n == 1
    with pytest.raises(InputError, match=r"values\[1\]=inf"):  # issue 18 item 11: an error naming the value
        bootstrap_ci([0.1, math.inf])
    assert bootstrap_ci([1.0, 2.0, 3.0], seed=5) == bootstrap_ci([1.0, 2.0, 3.0], seed=5)
    for bad in ({"confidence": 1.0}, {"confidence": 0}, {"n_resamples": 0}):
        with pytest.raises(InputError):
            bootstrap_ci([1.0, 2.0], **bad)
    with pytest.raises(InputError, match="empty"):
        bootstrap_ci([])
    with pytest.raises(InputError, match="NaN"):
        permutation_test([1.0, math.nan], [1.0])
    with pytest.raises(InputError, match="finite"):
        permutation_test([1.0, math.inf], [1.0, 2.0])


def test_summarize():
    rows = summarize({"a": [0.1, 0.12, 0.11], "b": [0.3, 0.28, 0.33], "one": [0.2], "disc": [0.1, math.inf]})
    assert [r.label for r in rows] == ["a", "b", "one", "disc"]
    assert rows[0].vs_first is None and rows[2].vs_first is None and rows[3].vs_first is None
    assert rows[1].vs_first.pvalue == pytest.approx(0.1)  # 2 of 20 splits
    assert rows[1].std == pytest.approx(np.std([0.3, 0.28, 0.33], ddof=1))
    assert math.isnan(rows[2].std) and rows[3].mean == math.inf


def test_compare_prints_na_and_legend(tmp_path, capsys):
    from topoloss import LandscapeGraph, loss_barcode
    from topoloss.cli import main
    from topoloss.engine.store import Run

    folders = []
    for k, top in enumerate((1.0, 2.0, 3.0)):
        run = Run(tmp_path / f"r{k}", {"k": k})
        run.save_barcode(loss_barcode(LandscapeGraph.from_barriers([0.0, 0.5], [[0, top], [top, 0]])))
        folders.append(str(run.dir))
    code = main(["compare", f"many={folders[0]},{folders[1]}", f"single={folders[2]}",
                 "--out", str(tmp_path / "c.png")])
    out = capsys.readouterr().out
    assert code == 0
    single = next(line for line in out.splitlines() if line.startswith("single"))
    assert single.split()[3] == "n/a" and single.split()[-1] == "n/a"  # std and CI of one repeat
    many = next(line for line in out.splitlines() if line.startswith("many"))
    assert float(many.split()[2]) == pytest.approx(0.5)  # TO-scores 0.25 and 0.75
    for column in ("group", "n", "TO mean", "std", "bar-top", "p vs first", "95% CI"):
        assert f"\n  {column} " in out, column
