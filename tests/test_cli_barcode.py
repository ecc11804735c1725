"""`topoloss barcode` on every graph format, and `topoloss compare` on finished runs."""

import json
import math

import numpy as np
import pytest

from topoloss import LandscapeGraph, loss_barcode
from topoloss.cli import main
from topoloss.engine.store import Run

LOSSES = [0.0, 1.0, 2.0]
BARRIERS = np.array([[0, 3, 5], [3, 0, np.inf], [5, np.inf, 0]])


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("fmt", ["json", "npz", "csv", "run"])
def test_barcode_reads_every_format(tmp_path, capsys, fmt):
    g = LandscapeGraph.from_barriers(LOSSES, BARRIERS)
    if fmt == "json":
        src = tmp_path / "g.json"
        g.to_json(src)
    elif fmt == "npz":
        src = tmp_path / "g.npz"
        np.savez(src, losses=LOSSES, barriers=BARRIERS)
    elif fmt == "csv":
        src = tmp_path / "g.csv"
        src.write_text("# loss, barriers\n0, 0, 3, 5\n1, 3, 0, inf\n2, 5, inf, 0\n")
    else:
        src = tmp_path / "run"
        Run(src, {"model": "x"}).save_graph(g)
    code, out, _ = run_cli(capsys, "barcode", src, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["intervals"] == [[0.0, None], [1.0, 3.0], [2.0, 5.0]]
    assert data["to_score"] == 1.5 and data["to_score_wasserstein1"] == 2.5 and data["connected"]
    assert data["bars"][2]["saddle"] in ([2, 0], [0, 2]) and data["bars"][2]["merges_into"] == 0
    code, out, _ = run_cli(capsys, "barcode", src, "--json", tmp_path / "out.json")
    assert code == 0 and "TO-score (bottleneck): 1.5" in out
    assert json.loads((tmp_path / "out.json").read_text())["to_score"] == 1.5


def test_barcode_bad_inputs(tmp_path, capsys):
    (tmp_path / "bad.csv").write_text("0, 0, 3\n")
    code, _, err = run_cli(capsys, "barcode", tmp_path / "bad.csv")
    assert code == 2 and "n rows of n+1 columns" in err
    np.savez(tmp_path / "bad.npz", losses=LOSSES)
    code, _, err = run_cli(capsys, "barcode", tmp_path / "bad.npz")
    assert code == 2 and "'barriers'" in err
    np.savez(tmp_path / "low.npz", losses=LOSSES, barriers=np.where(BARRIERS == 5, 1.5, BARRIERS))
    code, _, err = run_cli(capsys, "barcode", tmp_path / "low.npz")
    assert code == 2 and "below the loss 2.0 of 2" in err
    (tmp_path / "g.xml").write_text("<g/>")
    code, _, err = run_cli(capsys, "barcode", tmp_path / "g.xml")
    assert code == 2 and "unknown graph format" in err
    code, _, err = run_cli(capsys, "barcode", tmp_path)
    assert code == 2 and "no graph.json" in err


def test_compare_runs(tmp_path, capsys):
    rng = np.random.default_rng(0)
    groups = []
    expected = {}
    for label, scale in (("shallow", 2.0), ("deep", 0.5)):
        folders = []
        expected[label] = []
        for rep in range(3):
            losses = rng.random(4) * 0.1
            b = np.full((4, 4), np.inf)
            for i in range(3):
                b[i, i + 1] = b[i + 1, i] = max(losses[i], losses[i + 1]) + scale * rng.random()
            bc = loss_barcode(LandscapeGraph.from_barriers(losses, b))
            expected[label].append(np.max(bc.finite()[:, 1] - bc.finite()[:, 0]) / 2)
            run = Run(tmp_path / f"{label}{rep}", {"label": label, "rep": rep})
            run.save_barcode(bc)
            folders.append(str(run.dir))
        groups.append(f"{label}=" + ",".join(folders))
    out_png = tmp_path / "cmp.png"
    code, out, _ = run_cli(capsys, "compare", *groups, "--out", out_png)
    assert code == 0 and out_png.read_bytes()[:4] == b"\x89PNG"
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:3]}
    for label, vals in expected.items():
        assert float(rows[label][2]) == pytest.approx(np.mean(vals), rel=1e-5)
        assert float(rows[label][3]) == pytest.approx(np.std(vals, ddof=1), rel=1e-2)
    code, _, err = run_cli(capsys, "compare", f"x={tmp_path / 'missing'}")
    assert code == 2 and "missing" in err
    assert not math.isnan(float(rows["deep"][4]))
