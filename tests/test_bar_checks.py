"""Bar checks (SPEC §11): a certified bar cannot be lowered by any pair left out."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest

import topoloss as tl
from topoloss import LandscapeGraph, loss_barcode
from topoloss.engine.bar_checks import BarCheck, check_bars, summarize_checks
from topoloss.engine.planners import make_planner, planner_bounds


def _graph(losses, weights):
    n = len(losses)
    b = np.full((n, n), np.inf)
    for (i, j), w in weights.items():
        b[i, j] = b[j, i] = w
    return LandscapeGraph.from_barriers(losses, b)


def _lowering_pairs(losses, weights, name, death, bound=None):
    """Brute force: the unconnected pairs that, added at their lowest possible barrier
    ``bound(i, j)`` (default ``max(L_a, L_b)``), lower the bar of ``name``."""
    bound = bound or (lambda i, j: max(losses[i], losses[j]))
    out = 0
    for i, j in itertools.combinations(range(len(losses)), 2):
        if (i, j) in weights:
            continue
        g = _graph(losses, {**weights, (i, j): bound(i, j)})
        bc = loss_barcode(g)
        if bc.intervals[bc.names.index(name), 1] < death:
            out += 1
    return out


def _death_with_every_pair(losses, weights, name, bound):
    """The bar's death once every unconnected pair is added at ``bound(i, j)`` at once."""
    rest = {(i, j): bound(i, j) for i, j in itertools.combinations(range(len(losses)), 2) if (i, j) not in weights}
    bc = loss_barcode(_graph(losses, {**weights, **rest}))
    return bc.intervals[bc.names.index(name), 1]


def _estimate_bounds(losses, weights, straight):
    """A second implementation of the two estimate rules: ``{rule: bound(i, j)}``."""
    lo = {e: max(losses[e[0]], losses[e[1]]) for e in itertools.combinations(range(len(losses)), 2)}
    excess = [w - lo[e] for e, w in weights.items()]
    e_min = min(excess) if excess else 0.0
    ratios = [(w - lo[e]) / (straight[e] - lo[e]) for e, w in weights.items() if straight[e] > lo[e]]
    r_min = min(1.0, min(ratios)) if ratios else 0.0
    return {"excess": lambda i, j: lo[i, j] + e_min,
            "ratio": lambda i, j: lo[i, j] + r_min * (straight[i, j] - lo[i, j])}


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
    for check in check_bars(g, bc, estimate=None):
        lowering = _lowering_pairs(losses, weights, check.name, check.death)
        assert lowering <= check.open_pairs
        if check.certified:
            assert lowering == 0
            # no set of pairs either, each at its lowest possible barrier
            assert _death_with_every_pair(losses, weights, check.name, lambda i, j: max(losses[i], losses[j])) \
                == check.death
        assert check.status == ("certified" if check.certified else "open") and check.estimated_open_pairs is None
        if len(weights) == len(pairs):
            assert check.certified


@pytest.mark.parametrize("seed", range(100))
def test_estimated_bars_cannot_be_lowered_if_the_rule_holds(seed):
    """Under each estimate rule's own assumption (every pair left out at or above its bound),
    a bar it calls final keeps its death, against brute force with a second implementation."""
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(2, 8))
    losses = np.round(rng.random(n), 1).tolist()
    pairs = list(itertools.combinations(range(n), 2))
    straight = np.diag(losses)
    for i, j in pairs:
        straight[i, j] = straight[j, i] = max(losses[i], losses[j]) + round(float(rng.uniform(0.1, 2.0)), 1)
    keep = rng.random(len(pairs)) < rng.uniform(0.2, 1.0)
    # an evaluated barrier lies between max(L) and the straight bound
    weights = {p: max(losses[p[0]], losses[p[1]]) + round(float(rng.random()), 1)
               * (straight[p] - max(losses[p[0]], losses[p[1]])) for p, k in zip(pairs, keep) if k}
    g = _graph(losses, weights)
    bc = loss_barcode(g)
    sound = {c.name: c for c in check_bars(g, bc, estimate=None)}
    for rule, bound in _estimate_bounds(losses, weights, straight).items():
        for check in check_bars(g, bc, estimate=rule, straight=straight):
            assert check.rule == rule and check.open_pairs == sound[check.name].open_pairs
            assert check.estimated_open_pairs <= check.open_pairs
            lowering = _lowering_pairs(losses, weights, check.name, check.death, bound)
            assert lowering <= check.estimated_open_pairs
            if check.estimated_open_pairs == 0:
                assert check.status in ("certified", "estimated")
                assert _death_with_every_pair(losses, weights, check.name, bound) == check.death
            else:
                assert check.status == "open"
            assert check.status != "estimated" or not check.certified


def test_a_wrong_estimate_is_labelled_an_estimate_everywhere():
    # 0 -- 0.5 -- 1 -- 0.6 -- 2, losses 0, 0.1, 0.2: both edges 0.4 above their minima,
    # so "excess" bounds the missing (0, 2) at 0.2 + 0.4 = 0.6, not below the death of 2
    g = _graph([0.0, 0.1, 0.2], {(0, 1): 0.5, (1, 2): 0.6})
    checks = check_bars(g, loss_barcode(g))
    by = {c.name: c for c in checks}
    assert [by[k].status for k in range(3)] == ["certified", "certified", "estimated"]
    two = by[2]
    assert two.death == 0.6 and two.open_pairs == 1 and two.estimated_open_pairs == 0 and two.rule == "excess"
    # ... but the pair's true barrier is 0.3: the estimate was wrong, and nothing called it certified
    truth = loss_barcode(_graph([0.0, 0.1, 0.2], {(0, 1): 0.5, (1, 2): 0.6, (0, 2): 0.3}))
    assert truth.intervals[truth.names.index(2), 1] == 0.3
    assert not two.certified and two.label() == "estimate (excess)"
    assert two.to_dict() == {"name": 2, "death": 0.6, "saddle": [2, 1], "fallback": False, "open_pairs": 1,
                             "estimated_open_pairs": 0, "rule": "excess", "status": "estimated",
                             "certified": False}
    assert summarize_checks(checks) == "bars certified: 2 of 3; 1 more final by estimate only (rule 'excess', " \
                                       "not certified)"
    # the same with the straight bounds: "ratio", min(0.4 / 0.8, 0.4 / 0.4) = 0.5 of (0, 2)'s 0.2 + 1.2
    straight = np.array([[0.0, 0.9, 1.4], [0.9, 0.1, 0.6], [1.4, 0.6, 0.2]])
    two = check_bars(g, loss_barcode(g), straight=straight)[2]
    assert two.rule == "ratio" and two.status == "estimated" and two.label() == "estimate (ratio)"


def test_a_wrong_estimate_in_the_report_table_and_the_cli_json(capsys):
    import argparse
    import json
    import types
    from pathlib import Path

    from topoloss.cli._options import finish
    from topoloss.report import _markdown
    from topoloss.topology.score import barcode_summary

    g = _graph([0.0, 0.1, 0.2], {(0, 1): 0.5, (1, 2): 0.6})
    bc = loss_barcode(g)
    checks = check_bars(g, bc)
    from topoloss._layout import RunLayout

    run = types.SimpleNamespace(config={"landscape": "x"}, dir=Path("run"), layout=RunLayout("run"))
    md = _markdown(run, barcode_summary(bc), None, [], [], [], checks={c.name: c for c in checks})
    rows = {line.split("|")[1].strip(): line.split("|")[7].strip() for line in md.splitlines()
            if re.match(r"\| \d ", line)}
    assert rows == {"0": "certified", "1": "certified", "2": "estimate (excess)"}
    result = types.SimpleNamespace(barcode=bc, to_score=tl.to_score(bc), bar_checks=lambda: checks,
                                   computed_paths=2, reused_paths=0, paths=[], stopped=None)
    args = argparse.Namespace(json="-", quiet=False)
    assert finish(args, result, run) == 0
    out = capsys.readouterr()
    data = json.loads(out.out)
    assert [c["status"] for c in data["bar_checks"]] == ["certified", "certified", "estimated"]
    assert [c["certified"] for c in data["bar_checks"]] == [True, True, False]
    assert "1 more final by estimate only (rule 'excess', not certified)" in out.err + out.out


def test_estimate_options_are_checked():
    g = _graph([0.0, 0.1, 0.2], {(0, 1): 0.5, (1, 2): 0.6})
    with pytest.raises(tl.errors.InputError, match="estimate='nope'"):
        check_bars(g, loss_barcode(g), estimate="nope")  # type: ignore[arg-type]
    with pytest.raises(tl.errors.InputError, match="needs straight="):
        check_bars(g, loss_barcode(g), estimate="ratio")
    with pytest.raises(tl.errors.InputError, match=r"straight: expected an \(3, 3\) matrix"):
        check_bars(g, loss_barcode(g), straight=np.zeros((2, 2)))
    assert BarCheck(0, 1.0, (0, 1), False, 3).status == "open"  # made without an estimate


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
    # the adaptive planner's straight bounds feed the "ratio" estimate; a static planner has none
    assert adaptive.straight_bounds is not None and adaptive.straight_bounds.shape == (len(full.minima),) * 2
    assert {c.rule for c in checks} == {"ratio"}
    assert planner_bounds(make_planner("all")) is None
    assert {c.rule for c in check_bars(full.graph, full.barcode)} == {"excess"}
    # the reference: brute force over the pairs the planner left out
    names = list(adaptive.graph.nodes)
    losses = [adaptive.graph.loss(x) for x in names]
    weights = {(names.index(u), names.index(v)): adaptive.graph.barrier(u, v) for u, v in adaptive.graph.edges}
    weights = {(min(k), max(k)): w for k, w in weights.items()}
    for c in checks:
        assert _lowering_pairs(losses, weights, names.index(c.name), c.death) <= c.open_pairs
