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


def sane_score(x: float) -> None:
    assert math.isfinite(x) and x >= 0, x


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
    for _, _, n_min, n_paths, to, exact_to, dist in rows:
        n = int(n_min)  # the default planner: a spanning tree at least, 3N paths at most
        assert n - 1 <= int(n_paths) <= min(n * (n - 1) // 2, 3 * n)
        sane_score(float(to))
        sane_score(float(exact_to))
        sane_score(float(dist))
    sane_score(number_after("largest bottleneck distance to the exact barcode:", out))


def test_digits_study(tmp_path: Path) -> None:
    out = run_example("digits_study.py", "--quick", "--out", str(tmp_path))
    assert_pngs(tmp_path, "digits_barcode_profiles.png", "digits_plane.png")
    assert_pngs(tmp_path / "digits-run" / "report", "barcode.png", "profiles.png", "plane.png")
    sane_score(number_after("TO-score:", out))
    assert "resuming works: True" in out
    assert number_after("run 2: computed", out) == 0


def test_embeddings(tmp_path: Path) -> None:
    out = run_example("embeddings.py", "--quick", "--out", str(tmp_path))
    assert_pngs(tmp_path, "embeddings_barcodes.png")
    assert "losses identical after embedding: True" in out
    assert "Theorem 2 (larger barcode not higher) holds: True" in out
    for score in re.findall(r"TO-score " + NUMBER, out):
        sane_score(float(score))


def test_own_checkpoints(tmp_path: Path) -> None:
    out = run_example("own_checkpoints.py", "--quick", "--out", str(tmp_path))
    assert_pngs(tmp_path, "own_checkpoints.png")
    sane_score(number_after("TO-score:", out))
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
    sane_score(number_after("TO-score ratio (adaptive / all):", out))
    assert number_after("bottleneck distance / span:", out) >= 0
