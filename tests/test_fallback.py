"""Straight-segment fallbacks (issue 18 item 2): warned about only when the excess is material."""

import json
import warnings

import numpy as np
import pytest
import torch

import topoloss as tl
from topoloss.analytic import get_landscape
from topoloss.errors import TopolossWarning
from topoloss.paths.curves import Bezier
from topoloss.paths.fallback import excess, fallback_summary, fallback_warning, is_material, value_range


def _record(u, v, ends, straight, curve):
    """A fallback record: straight profile ends -> peak ``straight``, curve profile peaking at ``curve``."""
    t = np.linspace(0, 1, 5)
    lin = np.array([ends[0], straight, straight, straight, ends[1]])
    y = np.array([ends[0], curve, curve, curve, ends[1]])
    fell = curve > straight
    return tl.PathRecord(u=u, v=v, start=torch.zeros(2), end=torch.ones(2), curve=Bezier(bends=1),
                         bends=torch.zeros(1, 2), t=t, losses=y, barrier=min(curve, straight),
                         t_max=0.5, linear_t=t, linear_losses=lin, linear_barrier=straight,
                         fallback="straight" if fell else None)


def test_the_rule_by_hand():
    # value range of these three: highest edge 1.0 minus lowest endpoint 0.0 = 1.0
    flat = _record("a", "b", (0.5, 0.501), 0.502, 0.5023)  # height 1e-3, excess 3e-4: noise
    blown = _record("a", "c", (0.0, 0.1), 0.6, 5.0)  # height 0.5, excess 4.4: a blow-up
    tall = _record("b", "c", (0.0, 0.2), 1.0, 1.07)  # height 0.8, excess 0.07 < 0.08: not material
    paths = [flat, blown, tall]
    assert value_range(paths) == pytest.approx(1.0)
    assert excess(blown) == pytest.approx(4.4) and excess(_record("x", "y", (0, 0), 1.0, 0.5)) == 0.0
    assert [is_material(p, 1.0) for p in paths] == [False, True, False]
    # the flat pair is measured against 0.1 x 0.1 x V = 0.01: an excess of 0.011 is material
    assert is_material(_record("a", "b", (0.5, 0.501), 0.502, 0.513), 1.0)
    message = fallback_warning(paths, lr=0.5)
    assert message.startswith("the optimization failed on 1 of 3 paths (lr=0.5): a-c; the worst, a-c, peaks 4.4 ")
    assert fallback_warning([flat, tall]) is None
    assert fallback_summary(paths, where="RUN/plan.json") == (
        "3 of 3 paths fell back to the straight segment: a-b, a-c, b-c; see RUN/plan.json")


def _analyze(**options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = tl.analyze(get_landscape("gaussian-wells"), epochs=20, progress=False, **options)
    return result, [w for w in caught if issubclass(w.category, TopolossWarning)]


def test_a_noisy_flat_pair_falls_back_quietly():
    # the pair: m0-m2 ends 3e-4 above its straight segment (-0.159702 against -0.159993)
    result, caught = _analyze()
    back = [p for p in result.paths if p.fallback is not None]
    assert back and all(excess(p) < 1e-3 for p in back)
    assert caught == []
    for p in back:  # the edge is still min(curve, straight)
        assert p.barrier == pytest.approx(p.linear_barrier) and p.curve_barrier > p.barrier


def test_a_real_blow_up_warns_once_from_the_callers_line():
    result, caught = _analyze(lr=100.0)
    assert len(caught) == 1
    assert caught[0].filename == __file__  # no internal source line
    text = str(caught[0].message)
    assert "the optimization failed on 1 of 3 paths (lr=100): m0-m2" in text and "try a smaller lr" in text
    m02 = next(p for p in result.paths if p.pair == ("m0", "m2"))
    assert m02.barrier == pytest.approx(m02.linear_barrier) and excess(m02) > 0.1


def test_cli_prints_one_summary_line_and_plan_json_says_which(tmp_path, capsys):
    from topoloss.cli import main

    cfg = tmp_path / "wells.json"
    cfg.write_text(json.dumps({"landscape": "gaussian-wells", "paths": {"epochs": 20, "lr": 100.0}}))
    assert main(["run", str(cfg), "--run", str(tmp_path / "r"), "--no-report"]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if "topoloss run:" in line or "fell back" in line]
    warned = [line for line in err if line.startswith("topoloss run: warning: the optimization failed")]
    summary = [line for line in err if "fell back to the straight segment" in line]
    assert len(warned) == 1 and len(summary) == 1
    assert summary[0].startswith("3 of 3 paths fell back to the straight segment: ")
    assert summary[0].endswith(f"see {tmp_path / 'r' / 'plan.json'}")
    plan = json.loads((tmp_path / "r" / "plan.json").read_text())["pairs"]
    material = {(p["u"], p["v"]) for p in plan if p.get("material")}
    assert material == {("m0", "m2")}
