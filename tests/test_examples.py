"""Every script in examples/ runs in its quick mode, writes its figures and prints sane numbers.

The scripts of examples/findings/ are tested in tests/test_findings.py.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each test runs an example script (~4-17 s)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NUMBER = r"([-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|inf|nan))"


def run_example(name: str, *args: str, timeout: float = 120) -> str:
    env = {**os.environ, "TQDM_DISABLE": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )
    assert proc.returncode == 0, f"{name} exited with {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def assert_pngs(folder: Path, *names: str) -> None:
    for name in names:
        path = folder / name
        assert path.is_file(), f"{path} was not written"
        data = path.read_bytes()
        assert len(data) > 1000 and data.startswith(PNG_MAGIC), f"{path} is not a PNG"


def number_after(label: str, text: str) -> float:
    """The number printed right after ``label`` (the last occurrence)."""
    found = re.findall(re.escape(label) + r"\s*" + NUMBER, text)
    assert found, f"{label!r} not printed:\n{text}"
    return float(found[-1])


def to_score_of(bars: list[tuple[float, float]]) -> float:
    """The TO-score recomputed by hand from printed bars: ``max (d - b) / 2`` over the
    finite bars (SPEC §6), 0 for a barcode of one bar."""
    return max([(d - b) / 2 for b, d in bars if math.isfinite(d)], default=0.0)


BAR = re.compile(r"'([^']+)': \[" + NUMBER + r", " + NUMBER + r"\]")


def test_graph_barcode(tmp_path: Path) -> None:
    out = run_example("graph_barcode.py", "--quick", "--out", str(tmp_path))
    assert_pngs(tmp_path, "barcode.png", "diagram.png", "disconnectivity.png", "disconnected.png")
    # the hand-built graph: the longest finite bar is D's, [0.30, 0.70]
    assert number_after("TO-score:", out) == pytest.approx(0.2)
    assert number_after("TO-score (1-Wasserstein):", out) == math.inf  # the disconnected graph
    assert "graph identical=True, barcode identical=True" in out
    assert (tmp_path / "graph.json").is_file()


def test_analytic_landscapes(tmp_path: Path) -> None:
    out = run_example("analytic_landscapes.py", "--quick", "--out", str(tmp_path))
    assert_pngs(tmp_path, "map_himmelblau.png", "map_six-hump-camel.png", "map_rastrigin.png",
                "map_user-ring.png")
    rows = re.findall(r"^(\S+)\s+(Bezier\(3\)|PolyChain\(4\)|Chain\(5\))\s+(\d+)\s+(\d+)\s+"
                      + NUMBER + r"\s+" + NUMBER + r"\s+" + NUMBER, out, flags=re.MULTILINE)
    assert len(rows) == 12, out
    import topoloss as tl

    grid = re.search(r"grid (\d+)\^2", out)
    assert grid, out
    exact = {}  # the exact TO-scores of the built-ins on the script's grid, computed here
    for name in ("himmelblau", "six-hump-camel", "rastrigin"):
        land = tl.analytic.get_landscape(name)
        exact[name] = tl.to_score(tl.analytic.exact_barcode(land, resolution=int(grid.group(1))))
    for name, _, n_min, n_paths, to, exact_to, dist in rows:
        n = int(n_min)  # the default planner: a spanning tree at least, 3N paths at most
        assert n - 1 <= int(n_paths) <= min(n * (n - 1) // 2, 3 * n)
        if name in exact:
            assert float(exact_to) == pytest.approx(exact[name], rel=1e-4), name
        # TO is the distance to the ideal barcode, so by the triangle inequality it is within the
        # distance to the exact barcode of the exact TO-score (printed to 5 significant digits)
        assert abs(float(to) - float(exact_to)) <= float(dist) + 1e-4 * max(1.0, abs(float(to))), name
    largest = number_after("largest bottleneck distance to the exact barcode:", out)
    assert largest == pytest.approx(max(float(r[6]) for r in rows), rel=1e-3)


def test_digits_study(tmp_path: Path) -> None:
    out = run_example("digits_study.py", "--quick", "--out", str(tmp_path))
    assert_pngs(tmp_path, "digits_barcode_profiles.png", "digits_plane.png")
    assert_pngs(tmp_path / "digits-run" / "report", "barcode.png", "profiles.png", "plane.png")
    import json

    saved = json.loads((tmp_path / "digits-run" / "barcode.json").read_text())
    bars = [(b, math.inf if d is None else d) for b, d in saved["intervals"]]
    assert number_after("TO-score", out) == pytest.approx(to_score_of(bars), rel=1e-5)
    assert number_after("run 2: computed", out) == 0
    assert number_after("run 3: computed", out) == 1  # only the path deleted between runs
    first = re.search(r"run 1: .*TO-score " + NUMBER, out)
    assert first and float(first.group(1)) == number_after("TO-score", out)  # resuming gives the same barcode


def test_embeddings(tmp_path: Path) -> None:
    out = run_example("embeddings.py", "--quick", "--out", str(tmp_path))
    assert_pngs(tmp_path, "embeddings_barcodes.png")
    assert "losses identical after embedding: True" in out
    # Theorem 2 checked here from the printed barcodes, not from the script's own verdict: the
    # embedded minima keep their losses (births), and no death of the larger net is higher
    rows = re.findall(r"^  (\S+ \(\dx\d+\))\s+TO-score " + NUMBER + r"((?:\s+\S+: \S+->\S+)+)$", out, re.MULTILINE)
    assert [r[0] for r in rows] == ["small (1x8)", "wider (1x16)", "deeper (2x8)"], out
    barcodes = {}
    for arch, score, bars in rows:
        parsed = {m: (float(b), float(d)) for m, b, d in re.findall(r"(\S+): (\S+)->(\S+)", bars)}
        assert float(score) == pytest.approx(to_score_of(list(parsed.values())), abs=2e-5), arch
        barcodes[arch] = parsed
    small = barcodes["small (1x8)"]
    for arch in ("wider (1x16)", "deeper (2x8)"):
        assert barcodes[arch].keys() == small.keys()
        for m, (b, d) in barcodes[arch].items():
            assert b == small[m][0], (arch, m)
            assert d <= small[m][1] + 1e-4, (arch, m)  # printed to 4 decimals


def test_own_checkpoints(tmp_path: Path) -> None:
    out = run_example("own_checkpoints.py", "--quick", "--out", str(tmp_path))
    assert_pngs(tmp_path, "own_checkpoints.png")
    bars = [(float(b), float(d)) for _, b, d in BAR.findall(out)]
    assert len(bars) == 3 and sum(math.isinf(d) for _, d in bars) == 1, out
    assert number_after("TO-score:", out) == pytest.approx(to_score_of(bars), rel=1e-5)
    assert "different architecture -> ValueError:" in out
    assert "'encoder.0.weight' has shape (32, 64), the model expects (24, 64)" in out
    assert "pickled object -> ValueError:" in out and "refusing to load" in out
    assert len(list((tmp_path / "checkpoints").glob("seed*.pt"))) == 3


def test_escape_learning_rate(tmp_path: Path) -> None:
    # this script has no --quick: its options make it small (a few barriers, fewer steps)
    figure = tmp_path / "escape_lr.png"
    out = run_example("escape_learning_rate.py", "--n", "4", "--steps", "300", "--out", str(figure))
    assert_pngs(tmp_path, "escape_lr.png")
    assert number_after("slope", out) > 0
    assert number_after("R^2", out) > 0.9


def test_tda_pipeline() -> None:
    out = run_example("tda_pipeline.py", "--quick")
    print(out)  # the accuracies, in the test log
    image = number_after("persistence image + SVM: accuracy", out)
    table = number_after("feature table + SVM: accuracy", out)
    assert 0.6 <= image <= 1.0 and 0.6 <= table <= 1.0  # two families: well above chance (0.5)
    assert "to_score" in out and "40 barcodes (20 rugged, 20 smooth)" in out


def test_many_minima(tmp_path: Path) -> None:
    out = run_example("many_minima.py", "--quick", "--out", str(tmp_path))
    assert_pngs(tmp_path, "many_minima.png")
    assert "10 minima, 45 pairs" in out
    adaptive = re.search(r"adaptive:\s+(\d+) paths", out)
    assert adaptive and int(adaptive.group(1)) <= 30  # at most 3N paths
    scores = dict(re.findall(r"^\s*(all|adaptive):\s+\d+ paths in .*TO-score " + NUMBER, out, re.MULTILINE))
    assert scores.keys() == {"all", "adaptive"}, out
    ratio = number_after("TO-score ratio (adaptive / all):", out)
    assert ratio == pytest.approx(float(scores["adaptive"]) / float(scores["all"]), abs=1e-4)
    # the adaptive graph has a subset of the same paths, so no death is lower: TO never below all-pairs
    assert ratio >= 1 - 1e-4
    # the adaptive planner's promise (SPEC §11): the all-pairs barcode, here within 1% of the span
    assert 0 <= number_after("bottleneck distance / span:", out) <= 1.0
