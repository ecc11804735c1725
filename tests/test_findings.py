"""The finding scripts (examples/findings/) run in their quick mode and compute consistent numbers.

These tests check the computation, never the verdict: every repeat has the requested
minima and all their pairs, each stored barcode equals the one an independent
union-find computes from the stored minima and barriers, the TO-score and bar summaries
follow from the barcode, and the group statistics follow from the repeats. Whether a
finding of the paper reproduces is a measurement, reported in docs/findings.md.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
FINDINGS = ROOT / "examples" / "findings"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_quick(name: str, out: Path, *args: str) -> dict[str, Any]:
    env = {**os.environ, "TQDM_DISABLE": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, str(FINDINGS / f"{name}.py"), "--quick", "--out", str(out), *args],
                          check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{name} exited with {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    png = (out / f"{name}.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 1000
    return json.loads((out / f"{name}.json").read_text())


def union_find_barcode(losses: dict[str, float], edges: list[tuple[str, str, float]]) -> list[tuple[float, float]]:
    """0-dim persistence of a graph filtration by the elder rule (independent of GUDHI)."""
    parent = {n: n for n in losses}
    birth = dict(losses)

    def root(n: str) -> str:
        while parent[n] != n:
            n = parent[n]
        return n

    bars = []
    for u, v, w in sorted(edges, key=lambda e: e[2]):
        ru, rv = root(u), root(v)
        if ru == rv:
            continue
        young, old = (ru, rv) if birth[ru] > birth[rv] else (rv, ru)
        bars.append((birth[young], max(w, birth[young])))
        parent[young] = old
    bars += [(birth[r], math.inf) for r in {root(n) for n in losses}]
    return sorted(bars)


def check_repeat(row: dict[str, Any], n_minima: int) -> None:
    names = row["minima"]["names"]
    losses = dict(zip(names, row["minima"]["losses"]))
    assert len(names) == n_minima == len(set(names))
    assert all(math.isfinite(x) for x in losses.values())
    pairs = {frozenset((p["u"], p["v"])) for p in row["paths"]}
    assert pairs == {frozenset(c) for c in combinations(names, 2)}  # pairs="all"
    for p in row["paths"]:
        assert math.isfinite(p["barrier"]) and p["barrier"] >= max(losses[p["u"]], losses[p["v"]]) - 1e-9
        assert p["barrier"] <= p["linear_barrier"] + 1e-9  # never above the straight segment
    stored = sorted((b, math.inf if d is None else d) for b, d in row["barcode"]["intervals"])
    expected = union_find_barcode(losses, [(p["u"], p["v"], p["barrier"]) for p in row["paths"]])
    assert np.allclose(stored, expected, rtol=1e-9, atol=1e-12)
    finite = [(b, d) for b, d in expected if math.isfinite(d)]
    assert len(finite) == n_minima - 1  # all pairs connected: one component
    assert row["to_score"] == pytest.approx(max((d - b) / 2 for b, d in finite))
    assert row["bar_top"] == pytest.approx(np.mean([d for _, d in finite]))
    assert row["bar_length"] == pytest.approx(np.mean([d - b for b, d in finite]))
    assert row["train_loss"] == pytest.approx(np.mean(list(losses.values())))
    excess = [p["barrier"] - max(losses[p["u"]], losses[p["v"]]) for p in row["paths"]]
    assert row["excess"] == pytest.approx(np.mean(excess))


def check_study(data: dict[str, Any], n_groups: int, *, quick: bool = True) -> None:
    assert data["quick"] is quick and len(data["groups"]) == n_groups
    seeds = None
    for rows in data["groups"].values():
        assert len(rows) == data["repeats"]
        for row in rows:
            check_repeat(row, data["n_minima"])
        group_seeds = [r["seeds"] for r in rows]
        assert len({s for r in group_seeds for s in r}) == data["repeats"] * data["n_minima"]  # independent
        assert seeds is None or group_seeds == seeds  # the same seeds in every group
        seeds = group_seeds
    first = next(iter(data["groups"]))
    for key, summary in data["stats"].items():
        assert [s["label"] for s in summary] == list(data["groups"])
        for s in summary:
            values = [r[key] for r in data["groups"][s["label"]]]
            assert s["n"] == len(values) and s["mean"] == pytest.approx(np.mean(values))
            assert s["ci_low"] - 1e-12 <= s["mean"] <= s["ci_high"] + 1e-12
            if s["label"] == first:
                assert s["vs_first_p"] is None
            else:
                diff = np.mean(values) - np.mean([r[key] for r in data["groups"][first]])
                assert s["vs_first_diff"] == pytest.approx(diff) and 0 < s["vs_first_p"] <= 1
    assert data["wall_seconds"] > 0 and ("--quick" in data["command"]) == quick


def test_fcn_depth_width(tmp_path: Path) -> None:
    data = run_quick("fcn_depth_width", tmp_path)
    check_study(data, 2)
    assert list(data["groups"]) == ["depth 1 width 8", "depth 2 width 8"]
    dims = [rows[0]["dim"] for rows in data["groups"].values()]
    assert dims == [64 * 8 + 8 + 8 * 10 + 10, 64 * 8 + 8 + 8 * 8 + 8 + 8 * 10 + 10]  # the architectures asked for


def test_cnn_channels_bn(tmp_path: Path) -> None:
    data = run_quick("cnn_channels_bn", tmp_path)
    check_study(data, 2)
    plain, bn = (rows[0]["dim"] for rows in data["groups"].values())
    assert bn == plain + 2 * 4  # BatchNorm2d(4): weight and bias


def test_lr_types(tmp_path: Path) -> None:
    data = run_quick("lr_types", tmp_path)
    check_study(data, 2)
    b_rows = data["groups"]["B: annealed lr"]
    for b, m in zip(b_rows, data["matched_loss"]):
        assert m["target_loss"] == pytest.approx(np.mean(b["minima"]["losses"]))
        for loss, reached, epochs in zip(m["type_a_losses"], m["type_a_reached"], m["type_a_epochs"]):
            assert reached == (loss <= m["target_loss"]) and 1 <= epochs <= 40
    configs = data["configs"]
    assert configs["A: small constant lr"]["minima"]["schedule"] == "constant"
    assert configs["B: annealed lr"]["minima"]["schedule"] == "annealing"


@pytest.mark.slow  # ResNets with BatchNorm: ~15-40 s
def test_skip_connections(tmp_path: Path) -> None:
    data = run_quick("skip_connections", tmp_path)
    check_study(data, 2)
    skip, plain = (rows[0]["dim"] for rows in data["groups"].values())
    assert skip > plain  # the 1x1 projection shortcuts are gone without skips


@pytest.mark.slow  # a GPT on text: ~15-35 s
def test_gpt_barriers(tmp_path: Path) -> None:
    data = run_quick("gpt_barriers", tmp_path)
    check_study(data, 2)
    assert (tmp_path / "gpt_profiles.png").read_bytes().startswith(PNG_MAGIC)
    for rows in data["groups"].values():
        for row in rows:
            losses = dict(zip(row["minima"]["names"], row["minima"]["losses"]))
            for p in row["paths"]:  # the stored profiles give the stored barriers
                assert max(p["losses"]) == pytest.approx(p["barrier"])
                assert max(p["linear_losses"]) == pytest.approx(p["linear_barrier"])
                assert p["linear_losses"][0] == pytest.approx(losses[p["u"]])
    assert data["parameters"]["GPT on text"] == data["groups"]["GPT on text"][0]["dim"]


def test_robustness(tmp_path: Path) -> None:
    data = run_quick("robustness", tmp_path)
    check_study(data, 1)
    rows = data["groups"]["FCN depth 2 width 32"]
    found = data["intervals"]
    for key in ("to_score", "bar_top"):
        by_r, by_k = found["by_repeats"][key], found["by_minima"][key]
        assert [s["repeats"] for s in by_r] == list(range(2, data["repeats"] + 1))
        assert [s["minima"] for s in by_k] == list(range(3, data["n_minima"] + 1))
        for s in by_r:
            assert s["mean"] == pytest.approx(np.mean([r[key] for r in rows[: s["repeats"]]]))
        # all the minima: the sub-graph is the whole graph, so its numbers are the stored ones
        assert by_k[-1]["mean"] == pytest.approx(np.mean([r[key] for r in rows]))
        for s in by_r + by_k:
            assert s["low"] <= s["mean"] <= s["high"] and s["width"] == pytest.approx(s["high"] - s["low"])
    # three minima per repeat: the sub-barcodes recomputed independently give the k = 3 means
    subs = []
    for row in rows:
        names = row["minima"]["names"][:3]
        bars = union_find_barcode(dict(zip(names, row["minima"]["losses"])),
                                  [(p["u"], p["v"], p["barrier"]) for p in row["paths"]
                                   if p["u"] in names and p["v"] in names])
        subs.append([(b, d) for b, d in bars if math.isfinite(d)])
    assert found["by_minima"]["to_score"][0]["mean"] == pytest.approx(
        np.mean([max((d - b) / 2 for b, d in f) for f in subs]))
    assert found["by_minima"]["bar_top"][0]["mean"] == pytest.approx(
        np.mean([np.mean([d for _, d in f]) for f in subs]))
    assert (tmp_path / "robustness_ci.png").read_bytes().startswith(PNG_MAGIC)


@pytest.mark.slow  # the quick study in a subprocess: ~11 s of CPU
def test_generalization(tmp_path: Path) -> None:
    """Bar length against test error: the correlations follow from the stored bars and minima."""
    from scipy.stats import spearmanr

    data = run_quick("generalization", tmp_path)
    check_study(data, 1)
    (rows,) = data["groups"].values()
    bars = data["generalization"]["bars"]
    expected = []
    for row in rows:
        metrics = dict(zip(row["minima"]["names"], row["minima"]["metrics"]))
        for b in row["barcode"]["bars"]:
            if b["death"] is not None:
                expected.append((b["death"] - b["birth"], 1 - metrics[b["minimum"]]["test_accuracy"]))
    got = np.array(sorted((r["bar_length"], r["test_error"]) for r in bars))
    np.testing.assert_allclose(got, np.array(sorted(expected)), rtol=1e-6)
    found = data["generalization"]["bar_length_vs_test_error"]
    assert found["n"] == len(expected) == data["repeats"] * (data["n_minima"] - 1)  # one infinite bar per repeat
    reference = spearmanr([x for x, _ in expected], [y for _, y in expected])
    assert found["rho"] == pytest.approx(reference.statistic) and found["p_scipy"] == pytest.approx(reference.pvalue)
    assert found["exact"] and 0 < found["p_permutation"] <= 1
    assert len({m["test_accuracy"] for m in rows[0]["minima"]["metrics"]}) > 1  # trained differently


def test_spearman_permutation_p_value_is_exact_for_small_samples() -> None:
    """Four values: 24 orderings; rho = 1 is reached by one and rho = -1 by one (two-sided: 2/24)."""
    sys.path.insert(0, str(FINDINGS))
    try:
        from generalization import spearman
    finally:
        sys.path.remove(str(FINDINGS))
    s = spearman([1.0, 2.0, 3.0, 4.0], [0.1, 0.2, 0.3, 0.4])
    assert s["rho"] == pytest.approx(1.0) and s["p_permutation"] == pytest.approx(2 / 24) and s["exact"]


CONFIGS = sorted((FINDINGS / "configs").glob("*.toml"))


def test_paper_scale_configs_are_valid_studies() -> None:
    from topoloss.cli._options import read_config_file
    from topoloss.config import StudyConfig
    from topoloss.data import available_datasets
    from topoloss.models import parse_model_spec

    assert len(CONFIGS) >= 20
    known = {n.split(":")[0].split("[")[0] for n in available_datasets()}  # 'mnist:ROOT' -> 'mnist'
    for path in CONFIGS:
        text = path.read_text()
        assert "# Cost" in text and "GPU-hour" in text, f"{path.name} states no expected cost"
        data = read_config_file(path)
        assert data.pop("run").startswith(f"runs/{path.stem}")
        config = StudyConfig.from_dict(data)  # every key known and valid
        parse_model_spec(config.model)
        name, _, root = config.data.partition(":")
        assert name in known and root.startswith("/data/"), path.name
        assert config.device == "cuda" and len(config.minima.seeds) >= 6


def test_paper_scale_cnn_sizes_match_the_paper() -> None:
    """§4.2: the six CNNs have "between 7K (Conv1-32) and 117K (Conv2-64) parameters"."""
    from topoloss.models import get_model

    def size(spec: str) -> int:
        return sum(p.numel() for p in get_model(spec, input_shape=(3, 32, 32), num_classes=10).parameters())

    sizes = {spec: size(spec) for spec in ("CNN-1-32", "CNN-1-64", "CNN-1-128", "CNN-2-32", "CNN-2-64", "CNN-3-32")}
    assert min(sizes, key=sizes.__getitem__) == "CNN-1-32" and round(sizes["CNN-1-32"], -3) == 8000  # 7562
    assert max(sizes, key=sizes.__getitem__) == "CNN-2-64" and round(sizes["CNN-2-64"], -3) == 118000  # 117578


PUBLISHED = sorted((ROOT / "docs" / "figures" / "findings").glob("*.json"))


@pytest.mark.parametrize("path", PUBLISHED, ids=[p.stem for p in PUBLISHED])
def test_published_full_runs_are_consistent(path: Path) -> None:
    """The full-mode results behind docs/findings.md pass the same checks as the quick runs."""
    data = json.loads(path.read_text())
    check_study(data, len(data["configs"]), quick=False)
    assert f"examples/findings/{path.stem}.py" in data["command"]
    assert (path.parent / f"{path.stem}.png").is_file()
