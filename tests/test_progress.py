"""The progress record (progress.json, the history), the stopping rules and `topoloss watch`."""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import topoloss as tl
from topoloss.analytic import exact_barcode, get_landscape
from topoloss.analytic.compare import compare_to_exact
from topoloss.analytic.functions import gaussian_wells
from topoloss.cli import main
from topoloss.config import StudyConfig
from topoloss.engine.bar_checks import check_bars
from topoloss.engine.executors import EXECUTORS, SerialExecutor, register_executor
from topoloss.engine.pipeline import run_pipeline
from topoloss.engine.progress import PROGRESS_FILE, read_history, read_progress
from topoloss.engine.provenance import path_fingerprint
from topoloss.engine.store import Run
from topoloss.errors import ConfigMismatch
from topoloss.topology.graph import LandscapeGraph
from topoloss.topology.persistence import loss_barcode
from topoloss.topology.score import to_score

ROOT = Path(__file__).resolve().parents[1]
QUICK = dict(landscape="himmelblau", steps=20, n_minima=8, seed=0)


class Shuffled:
    """Computes its pairs serially, then hands them over in a seeded random order (like Ray)."""

    def run(self, task, pairs, *, progress, on_path):
        paths = SerialExecutor().run(task, pairs, progress=False, on_path=lambda p: None)
        order = list(range(len(paths)))
        random.Random(len(pairs)).shuffle(order)
        for k in order:
            on_path(paths[k])
        return [paths[k] for k in order]


@pytest.fixture
def shuffled():
    register_executor("shuffled", Shuffled)
    yield "shuffled"
    EXECUTORS.unregister("shuffled")


def _by_name(barcode):
    return sorted(zip(barcode.names, map(tuple, barcode.intervals.tolist())), key=str)


def _num(x):
    return math.inf if x is None else x


def _check_against_stored(run_dir: Path, minima) -> dict:
    """progress.json against the barcode recomputed from the path files stored now."""
    snap = read_progress(run_dir)
    paths, bad = Run(run_dir).finished_paths()
    assert not bad
    graph = LandscapeGraph.from_paths(minima, paths, points=False)
    barcode = loss_barcode(graph)
    assert snap["paths_done"] == len(paths) and snap["status"] == "running"
    mine = sorted(((b["minimum"], (b["birth"], _num(b["death"]))) for b in snap["bars"]), key=str)
    assert mine == _by_name(barcode)
    assert [list(map(_num, i)) for i in snap["intervals"]] == barcode.intervals.tolist()
    assert _num(snap["to_score"]) == pytest.approx(to_score(barcode))
    checks = {c.name: c for c in check_bars(graph, barcode, [p.pair for p in paths if p.fallback])}
    for bar in snap["bars"]:
        assert (bar["certified"], bar["open_pairs"]) == (checks[bar["minimum"]].certified,
                                                         checks[bar["minimum"]].open_pairs)
    history = read_history(run_dir)
    assert [h.paths_done for h in history] == list(range(1, len(paths) + 1))
    assert dict(history[-1].deaths) == {n: d for n, (_, d) in _by_name(barcode)}
    return snap


@pytest.mark.parametrize("execution", [{"group": 1}, {}, {"executor": "shuffled"}],
                         ids=["serial", "batched", "out-of-order"])
def test_progress_after_each_path_is_the_barcode_of_the_stored_paths(tmp_path, execution, request):
    if execution.get("executor"):
        request.getfixturevalue("shuffled")
    config = StudyConfig().with_options(**QUICK, **execution)
    land = get_landscape("himmelblau")
    run = Run(tmp_path / "run", config.to_dict())
    seen: list[dict] = []
    arrivals: list[tuple] = []
    snaps: list[dict] = []

    def after(path):
        arrivals.append(path.pair)
        seen.append(_check_against_stored(run.dir, minima_of(run)))

    result = run_pipeline(land, config, store=run, progress=False, on_path=after, on_progress=snaps.append)
    n = len(result.paths)
    assert len(seen) == n == result.computed_paths and n >= 3
    assert [s["paths_done"] for s in seen] == list(range(1, n + 1))
    assert all(s["paths_planned"] == n and s["eta_seconds"] is not None for s in seen)
    # the record follows the arrivals, whatever their order
    assert [h.pair for h in result.history] == arrivals == [tuple(s["last_path"][k] for k in "uv") for s in seen]
    assert [h.pair for h in read_history(run.dir)] == arrivals
    final = read_progress(run.dir)
    assert final["status"] == "finished" and final["stopped"] is None and final["eta_seconds"] == 0
    stored = json.loads((run.dir / "barcode.json").read_text())
    assert final["intervals"] == stored["intervals"] and final["to_score"] == stored["to_score"]
    assert snaps[-1]["status"] == "finished" and snaps[0]["paths_done"] == 0
    assert result.history[-1].to_score == result.to_score


def minima_of(run):
    return run.load_minima()


def test_analyze_keeps_the_history_and_plots_it():
    land = get_landscape("six-hump-camel")
    snaps: list[dict] = []
    result = tl.analyze(land, steps=20, progress=False, group=1, on_progress=snaps.append)
    assert len(result.history) == len(result.paths) == len(snaps) - 2  # the first (0 paths) and the final
    last = result.history[-1]
    assert dict(last.deaths) == dict(zip(result.barcode.names, result.barcode.intervals[:, 1].tolist()))
    assert set(last.certified) == {c.name for c in result.bar_checks() if c.certified}
    import matplotlib

    matplotlib.use("Agg")
    from topoloss.plot import certified_since, plot_convergence

    ax = plot_convergence(result)
    stars = [line for line in ax.lines if line.get_marker() == "*" and len(line.get_xdata())]
    finite = {n for n, d in last.deaths if math.isfinite(d)}
    since = certified_since(result.history)
    assert len(stars) == len(set(since) & finite) > 0
    for line in stars:  # each star sits where its bar became certified for good
        x = int(line.get_xdata()[0])
        assert x in {result.history[k].paths_done for k in since.values()}
    import matplotlib.pyplot as plt

    plt.close("all")


# ---------------------------------------------------------------------- stopping rules
def _single_well():
    """One Gaussian well: its exact barcode is one essential bar at -1."""
    return gaussian_wells(centers=((0.0, 0.0),), depths=(1.0,), widths=(1.0,), bounds=((-3.0, 3.0), (-3.0, 3.0)))


#: The well's minimum and five checkpoints along descents into it (each at its own loss).
ALONG = torch.tensor([[0.0, 0.0]] + [[r * math.cos(a), r * math.sin(a)] for r, a in
                                      [(0.5, 0.3), (0.9, 2.0), (1.3, 3.5), (1.7, 5.0), (2.1, 1.0)]],
                     dtype=torch.float64)


def test_until_certified_stops_early_at_the_known_answer():
    land = _single_well()
    kw = dict(minima=ALONG, pairs="all", group=1, steps=30, progress=False)
    full = tl.analyze(land, **kw)
    early = tl.analyze(land, until="certified", **kw)
    assert len(full.paths) == 15 and full.stopped is None
    # the five paths from the bottom join every checkpoint through a monotone path: each bar is
    # then zero-length and certified, and no further pair can change the barcode
    assert len(early.paths) == 5 and early.stopped == "certified"
    assert all(c.certified for c in early.bar_checks())
    assert _by_name(early.barcode) == _by_name(full.barcode)
    assert compare_to_exact(early.barcode, exact_barcode(land, resolution=65)).distance == pytest.approx(0, abs=1e-6)
    counts = [len(h.certified) for h in early.history]
    assert counts == sorted(counts) and counts[-1] == 6 and counts[-2] < 6


def test_max_paths_stops_cleanly_and_a_larger_budget_reuses_everything(tmp_path, capsys):
    land = get_landscape("himmelblau")
    base = StudyConfig().with_options(**QUICK, group=1)
    small = base.with_options(max_paths=2, until="certified", max_seconds=600)
    assert path_fingerprint(small, 0, 1, "a", "b", ALONG[0], ALONG[1]) == \
        path_fingerprint(base, 0, 1, "a", "b", ALONG[0], ALONG[1])
    first = run_pipeline(land, small, store=Run(tmp_path / "run", small.to_dict()), progress=False)
    assert (first.computed_paths, first.stopped) == (2, "max_paths")
    snap = read_progress(tmp_path / "run")
    assert snap["status"] == "stopped" and snap["stopped"] == "max_paths" and snap["paths_planned"] == 2
    assert "max_paths=2" in snap["stop_detail"] and len(snap["pending"]) >= 1
    # the report says which rule stopped it and shows the convergence figure
    from topoloss.report import make_report

    files = make_report(Run(tmp_path / "run"), plane=False)
    assert any(f.name == "convergence.png" for f in files)
    assert "stopped by max_paths=2" in (tmp_path / "run" / "report" / "summary.md").read_text()
    # resumed with a larger budget (the stopping rules may change): both paths are reused
    again = run_pipeline(land, base, store=Run(tmp_path / "run", base.to_dict()), progress=False)
    reference = tl.analyze(land, **{k: v for k, v in QUICK.items() if k != "landscape"}, group=1, progress=False)
    assert again.reused_paths == 2 and again.computed_paths == len(reference.paths) - 2 and again.stopped is None
    assert again.barcode.intervals.tolist() == reference.barcode.intervals.tolist()
    history = read_history(tmp_path / "run")
    assert [h.reused for h in history] == [True, True] + [False] * (len(reference.paths) - 2)
    assert read_progress(tmp_path / "run")["status"] == "finished"
    # other options are still refused
    with pytest.raises(ConfigMismatch):
        Run(tmp_path / "run", base.with_options(steps=21).to_dict())


def test_a_stored_config_without_the_stopping_rules_resumes(tmp_path):
    config = StudyConfig().with_options(**QUICK)
    run = Run(tmp_path / "run", config.to_dict())
    stored = json.loads((run.dir / "config.json").read_text())
    for key in ("max_paths", "max_seconds", "until"):
        del stored["execution"][key]
    (run.dir / "config.json").write_text(json.dumps(stored))
    run.close()
    Run(tmp_path / "run", config.to_dict())  # no ConfigMismatch
    Run(tmp_path / "run", config.with_options(max_paths=3).to_dict())


def test_max_seconds_stops_before_the_next_pair_and_the_cli_says_so(tmp_path, capsys):
    code = main(["analyze", "gaussian-wells", "--steps", "10", "--max-seconds", "1e-9", "--run",
                 str(tmp_path / "run"), "-q", "--resolution", "33"])
    out = capsys.readouterr().out
    assert code == 0 and "stopped by max_seconds=1e-09 after 0 paths" in out
    assert read_progress(tmp_path / "run")["stopped"] == "max_seconds"
    assert main(["analyze", "gaussian-wells", "--steps", "10", "--max-paths", "1", "--run",
                 str(tmp_path / "run"), "-q", "--resolution", "33"]) == 0
    assert "stopped by max_paths=1 after 1 paths" in capsys.readouterr().out


def test_an_executor_without_stop_gets_one_pair_at_a_time_under_a_rule(shuffled):
    land = _single_well()
    result = tl.analyze(land, minima=ALONG, pairs="all", steps=30, progress=False, until="certified",
                        executor="shuffled")
    assert len(result.paths) == 5 and result.stopped == "certified"


# ---------------------------------------------------------------------- watch
def _tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest()
                                         if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def test_watch_reads_without_writing_into_the_run(tmp_path, capsys):
    config = StudyConfig().with_options(**QUICK)
    run_pipeline(get_landscape("himmelblau"), config, store=Run(tmp_path / "run", config.to_dict()), progress=False)
    import shutil

    ro = tmp_path / "readonly"
    shutil.copytree(tmp_path / "run", ro)
    for p in [ro, *ro.rglob("*")]:
        p.chmod(p.stat().st_mode & ~0o222)
    before = _tree(ro)
    try:
        assert main(["watch", str(ro), "--once"]) == 0
        once = capsys.readouterr().out
        assert main(["watch", str(ro), "--interval", "0.01"]) == 0  # a finished run: one snapshot, then done
        live = capsys.readouterr().out
    finally:
        for p in [ro, *ro.rglob("*")]:
            p.chmod(p.stat().st_mode | 0o200)
    assert _tree(ro) == before and sorted(os.listdir(ro)) == sorted(os.listdir(tmp_path / "run"))
    snap = read_progress(ro)
    assert f"paths {snap['paths_done']} of {snap['paths_done']} done" in once and ": finished" in once
    assert f"bars: {snap['certified']} of {len(snap['bars'])} certified" in once
    assert once.strip() == live.strip() or "\x1b" not in live  # not a terminal: plain text


@pytest.mark.parametrize("make, needle", [
    (lambda d: None, "no such run directory"),
    (lambda d: d.mkdir(), "no progress.json"),
    (lambda d: (d.mkdir(), (d / PROGRESS_FILE).write_text('{"format": "topoloss.progress", ')), "not valid JSON"),
])
def test_watch_errors_are_one_line_with_exit_2(tmp_path, capsys, make, needle):
    make(tmp_path / "run")
    assert main(["watch", str(tmp_path / "run"), "--once"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and "Traceback" not in err[0]


WRITER = """
import os, sys, time
from pathlib import Path
import topoloss as tl
from topoloss.analytic import get_landscape
from topoloss.engine.store import Run
folder, mode = Path(sys.argv[1]), sys.argv[2]
config = tl.StudyConfig().with_options(landscape="himmelblau", steps=20, n_minima=8, seed=0, group=1)
import topoloss.engine.progress as progress
calls = {"n": 0}
if mode == "kill-after-append":  # SIGKILL between the history line and progress.json
    original = progress._append
    def append(file, text):
        original(file, text)
        calls["n"] += 1
        if calls["n"] == 2:  # the first line is written with the file, then paths 2 and 3 are appended
            os.kill(os.getpid(), 9)
    progress._append = append
if mode == "kill-in-write":  # SIGKILL half-way through writing progress.json's temporary file
    original_write = progress.atomic_write_text
    def write(path, text):
        if Path(path).name == "progress.json" and '"paths_done": 3,' in text:
            with open(Path(path).parent / ".progress.json.killed.tmp", "w") as fh:
                fh.write(text[: len(text) // 2])
                fh.flush()
            os.kill(os.getpid(), 9)
        original_write(path, text)
    progress.atomic_write_text = write
def after(path):
    if mode == "pause":
        done = len(list((folder / "paths").glob("*.safetensors")))
        if done == 2:
            (folder.parent / "ready").write_text("2")
            deadline = time.monotonic() + 120
            while not (folder.parent / "go").exists() and time.monotonic() < deadline:
                time.sleep(0.02)
tl.run_pipeline(get_landscape("himmelblau"), config, store=Run(folder, config.to_dict()), progress=False,
                on_path=after)
"""


def _writer(tmp_path: Path, mode: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(WRITER), str(tmp_path / "run"), mode], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_watch_once_on_a_run_another_process_is_writing(tmp_path, capsys):
    proc = _writer(tmp_path, "pause")
    try:
        deadline = time.monotonic() + 180
        while not (tmp_path / "ready").exists():  # the writer says it has stored two paths and waits
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert main(["watch", str(tmp_path / "run"), "--once"]) == 0
        out = capsys.readouterr().out
        snap = read_progress(tmp_path / "run")
        assert snap["paths_done"] == 2 and snap["status"] == "running"
        assert ": running" in out and f"paths 2 of {snap['paths_planned']} done" in out and "ETA" in out
        assert "next:" in out and "tree round" in out
    finally:
        (tmp_path / "go").write_text("go")
        _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert main(["watch", str(tmp_path / "run"), "--once"]) == 0
    assert ": finished" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["kill-after-append", "kill-in-write"])
def test_a_sigkill_between_writes_leaves_a_valid_record(tmp_path, capsys, mode):
    proc = _writer(tmp_path, mode)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == -9, err
    folder = tmp_path / "run"
    snap = read_progress(folder)  # valid JSON, the snapshot after the second path
    history = read_history(folder)
    assert snap["paths_done"] == 2 and snap["status"] == "running"
    assert [h.paths_done for h in history] == [1, 2, 3]
    assert main(["watch", str(folder), "--once"]) == 0 and "paths 2 of" in capsys.readouterr().out
    # the run resumes and its record is whole again
    config = StudyConfig().with_options(**QUICK, group=1)
    result = run_pipeline(get_landscape("himmelblau"), config, store=Run(folder, config.to_dict()), progress=False)
    final, history = read_progress(folder), read_history(folder)
    assert final["status"] == "finished" and final["paths_done"] == len(result.paths) == len(history)
    assert [h.paths_done for h in history] == list(range(1, len(history) + 1))
    assert np.array_equal(np.array([[_num(d) for d in i] for i in final["intervals"]]), result.barcode.intervals)
