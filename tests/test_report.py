"""The HTML report is one self-contained file: figures embedded, captions, columns explained."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from topoloss._html_page import inline_html
from topoloss.report import CAPTIONS, COLUMNS, _html


class FakeRun:
    def __init__(self, folder: Path) -> None:
        self.dir = folder


def test_inline_markup():
    assert inline_html("model: `fcn:depth=2` <x>") == "model: <code>fcn:depth=2</code> &lt;x&gt;"
    assert inline_html("**TO-score** and *caption*") == "<strong>TO-score</strong> and <em>caption</em>"


def test_html_embeds_figures_and_captions(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from topoloss.report import save_figure

    fig = Figure(figsize=(2, 2))
    fig.subplots().plot([0, 1], [0, 1])
    save_figure(fig, tmp_path / "barcode.png")
    md = "\n".join([
        "# topoloss report: `r`", "", "- landscape: `himmelblau`", "", "## Bars", "", COLUMNS["Bars"], "",
        "| minimum | loss (birth) |", "|---|---|", "| `a` | 0.1 |", "", "## Figures", "",
        "![barcode.png](barcode.png)", "", f"*{CAPTIONS['barcode']}*", "",
    ])
    page = _html(md, FakeRun(tmp_path), tmp_path)
    assert "`" not in page and "<code>himmelblau</code>" in page and "<td><code>a</code></td>" in page
    srcs = re.findall(r'src="([^"]*)"', page)
    assert len(srcs) == 1 and srcs[0].startswith("data:image/png;base64,")
    assert base64.b64decode(srcs[0].split(",", 1)[1]) == (tmp_path / "barcode.png").read_bytes()
    assert "<figcaption>Loss barcode: one vertical bar" in page
    assert "<strong>saddle (death)</strong>" in page  # the column legend


@pytest.mark.slow
def test_report_of_a_run_is_self_contained(tmp_path):
    """A small study's summary.html: every src is data, and it renders alone in Chromium (if installed)."""
    from topoloss.cli import main

    run = tmp_path / "run"
    cfg = tmp_path / "study.toml"
    cfg.write_text('landscape = "himmelblau"\n[minima]\nn_minima = 8\n[paths]\nsteps = 15\ncurve = "bezier:bends=1"\n')
    code = main(["run", str(cfg), "--run", str(run), "-q"])
    assert code == 0
    page = (run / "report" / "summary.html").read_text()
    srcs = re.findall(r'src="([^"]*)"', page)
    assert len(srcs) >= 4 and all(s.startswith("data:image/png;base64,") for s in srcs)
    for name in ("barcode", "diagram", "disconnectivity", "profiles"):
        assert CAPTIONS[name][:40] in page
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(run / "report" / "summary.html", alone / "summary.html")  # no PNG beside it
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no Chromium to render the page")
    shot = alone / "shot.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1100,2400", f"--screenshot={shot}", (alone / "summary.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)[:, :, :3]
    # figures drawn: many distinct colours (a page of text alone has few), and the blue of the bars
    assert len(np.unique((img[::4, ::4] * 255).astype(int).reshape(-1, 3), axis=0)) > 200
    blue = (np.abs(img - np.array([0.12, 0.47, 0.71])) < 0.05).all(axis=2)
    assert blue.sum() > 500


def test_bars_table_has_the_bar_checks(tmp_path):
    """The Bars table's 'open pairs' column is the bar checks of the stored graph."""
    from topoloss.cli import main
    from topoloss.engine.bar_checks import check_bars
    from topoloss.engine.store import Run

    run = tmp_path / "run"
    cfg = tmp_path / "study.toml"
    cfg.write_text('landscape = "rastrigin"\n[minima]\nn_minima = 9\n[paths]\nsteps = 15\n'
                   'curve = "bezier:bends=1"\npairs = "adaptive:budget=1"\n')
    assert main(["run", str(cfg), "--run", str(run), "-q"]) == 0
    md = (run / "report" / "summary.md").read_text()
    stored = Run(run)
    straight = stored.load_straight_bounds()  # the adaptive planner's, stored with the plan
    assert straight is not None and straight.shape == (len(stored.load_graph()),) * 2
    checks = check_bars(stored.load_graph(), stored.load_barcode(), straight=straight)
    bars = md.split("## Bars")[1].split("\n## ")[0]
    rows = {line.split("|")[1].strip(): (line.split("|")[6].strip(), line.split("|")[7].strip())
            for line in bars.splitlines() if re.match(r"\| m\d", line)}
    assert len(rows) == len(checks) >= 5
    assert any(c.open_pairs for c in checks)  # 9 paths of 36: some bars are not certified
    for c in checks:
        assert rows[c.name][0].split()[0] == str(c.open_pairs)
        assert rows[c.name][1] == {"certified": "certified", "estimated": "estimate (ratio)", "open": "open"}[c.status]
