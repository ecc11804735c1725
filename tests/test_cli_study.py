"""The researcher's workflow through the `topoloss` command, as subprocesses.

Covers resuming after SIGKILL, a corrupt path file, and bad input for every command.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import safetensors.torch
import torch

from topoloss.data import digits
from topoloss.landscapes.model import ModelLandscape
from topoloss.minima.train import save_minimum, train_minima
from topoloss.models import fcn

MODEL = "fcn:depth=1,width=8"
ENV = {**os.environ, "TQDM_DISABLE": "1", "PYTHONUNBUFFERED": "1"}


def topoloss(*args: str, check: bool = False) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "topoloss.cli", *map(str, args)],
        capture_output=True, text=True, env=ENV, timeout=300,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"topoloss {args} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Bytes and modification time of every file below ``folder`` (but the writers' lock file)."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".lock"
    }


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("ckpt")
    train, _ = digits()
    land = ModelLandscape(lambda: fcn(64, 10, depth=1, width=8), train)
    minima = train_minima(land, seeds=range(4), epochs=3, progress=False)
    return [save_minimum(land, p, folder / f"{n}.safetensors") for n, p in zip(minima.names, minima.points)]


def connect_args(ckpts, run, epochs=4):
    return ["connect", *ckpts, "--model", MODEL, "--data", "digits", "--run", run,
            "--epochs", str(epochs), "--seed", "3", "--pairs", "all", "--quiet"]


#: ``topoloss`` whose run directory, after writing its first path file, tells the test so (a
#: marker file) and blocks there: the test's SIGKILL then falls between two writes by construction.
BLOCK_AFTER_FIRST_PATH = """
import sys
import time
from pathlib import Path

from topoloss.cli import main
from topoloss.engine.store import Run

save = Run.save_path


def save_then_block(self, path, **kw):
    out = save(self, path, **kw)
    Path(sys.argv[1]).write_text(f"{path.u}-{path.v}")
    time.sleep(3600)
    return out


Run.save_path = save_then_block
sys.exit(main(sys.argv[2:]))
"""


def wait_for(marker: Path, proc: subprocess.Popen, timeout: float = 240) -> None:
    """Until ``marker`` exists (the event), or fail if ``proc`` ends first; ``timeout`` only
    bounds a hang, it is no part of the test's logic."""
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert proc.poll() is None, f"the process ended ({proc.returncode}) before the event"
        assert time.monotonic() < deadline, "the event did not happen"
        time.sleep(0.05)


@pytest.mark.slow
def test_connect_survives_sigkill_and_resumes_identically(checkpoints, tmp_path):
    run, marker = tmp_path / "run", tmp_path / "first-path-written"
    proc = subprocess.Popen(
        [sys.executable, "-c", BLOCK_AFTER_FIRST_PATH, str(marker), *connect_args(checkpoints, run, epochs=12)],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(marker, proc)
        assert proc.poll() is None  # blocked after its first path file, by construction
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    before = snapshot(run / "paths")
    assert len(before) == 1, before.keys()  # killed between the first path file and the second

    topoloss(*connect_args(checkpoints, run, epochs=12), check=True)
    after = snapshot(run / "paths")
    assert len(after) == 6
    for name, (data, mtime) in before.items():
        assert after[name] == (data, mtime), f"{name} was rewritten"

    fresh = tmp_path / "fresh"
    topoloss(*connect_args(checkpoints, fresh, epochs=12), check=True)
    resumed = json.loads((run / "barcode.json").read_text())
    uninterrupted = json.loads((fresh / "barcode.json").read_text())
    assert resumed["intervals"] == uninterrupted["intervals"]
    assert resumed["to_score"] == uninterrupted["to_score"]


@pytest.mark.slow
def test_corrupt_path_file_is_reported_and_only_it_recomputed(checkpoints, tmp_path):
    run = tmp_path / "run"
    first = topoloss(*connect_args(checkpoints, run), "--json", check=True)
    before = snapshot(run / "paths")
    victim = sorted(before)[2]
    (run / "paths" / victim).write_bytes(b"\x00garbage" * 10)
    time.sleep(0.01)
    proc = topoloss(*[a for a in connect_args(checkpoints, run) if a != "--quiet"], "--json", check=True)
    assert victim in proc.stderr and "corrupt" in proc.stderr
    after = snapshot(run / "paths")
    # recomputed to the same path (only the recorded timings differ)
    old, new = (safetensors.torch.load(before[victim][0]), safetensors.torch.load(after[victim][0]))
    assert old.keys() == new.keys() and all(torch.equal(old[k], new[k]) for k in old)
    for name in before:
        if name != victim:
            assert after[name] == before[name]
    assert json.loads(proc.stdout)["intervals"] == json.loads(first.stdout)["intervals"]


@pytest.mark.slow
def test_train_then_connect_barcode_report(tmp_path):
    run = tmp_path / "run"
    topoloss("train", "--model", MODEL, "--data", "digits", "--seeds", "0-2", "--epochs", "2",
             "--run", run, "--quiet", check=True)
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "seed0.safetensors", "seed1.safetensors", "seed2.safetensors"]
    topoloss("connect", "--run", run, "--epochs", "2", "--quiet", check=True)
    proc = topoloss("barcode", run, "--json", check=True)
    data = json.loads(proc.stdout)
    assert len(data["intervals"]) == 3
    assert sum(d is None for _, d in data["intervals"]) == 1  # connected: one essential bar
    finite = [(b, d) for b, d in data["intervals"] if d is not None]
    assert data["to_score"] == pytest.approx(max(d - b for b, d in finite) / 2)
    proc = topoloss("report", run, check=True)
    for name in ("barcode", "diagram", "disconnectivity", "profiles", "plane"):
        png = run / "report" / f"{name}.png"
        assert png.stat().st_size > 5000 and png.read_bytes()[:4] == b"\x89PNG"
    assert "TO-score" in (run / "report" / "summary.md").read_text()
    assert "<table>" in (run / "report" / "summary.html").read_text()


@pytest.mark.slow
def test_run_from_toml_config(tmp_path, checkpoints):
    cfg = tmp_path / "study.toml"
    cfg.write_text(
        f'model = "{MODEL}"\ndata = "digits"\n[minima]\n'
        f"checkpoints = {json.dumps([str(c) for c in checkpoints[:3]])}\n"
        '[paths]\ncurve = "polychain:bends=1"\nepochs = 2\n'
    )
    proc = topoloss("run", cfg, "--quiet", "--no-report", "--json", check=True)
    assert len(json.loads(proc.stdout)["bars"]) == 3
    # same command again: everything reused
    again = topoloss("run", cfg, "--no-report", "--json")
    assert again.returncode == 0 and "3 reused" in again.stderr


@pytest.mark.slow
def test_bad_input_one_line_errors_and_run_untouched(checkpoints, tmp_path):
    run = tmp_path / "run"
    topoloss(*connect_args(checkpoints[:2], run, epochs=1), check=True)
    before = snapshot(run)

    proc = topoloss(*connect_args([checkpoints[0], tmp_path / "missing.pt"], run))
    assert_one_line_error(proc, "missing.pt")

    other = tmp_path / "other.safetensors"
    train, _ = digits()
    land = ModelLandscape(lambda: fcn(64, 10, depth=1, width=16), train)
    point = land.initial_point(0) if hasattr(land, "initial_point") else land.flatten(land.model)
    save_minimum(land, point, other)
    proc = topoloss(*connect_args([checkpoints[0], other], tmp_path / "run2"))
    assert_one_line_error(proc, "other.safetensors")
    assert "shape" in proc.stderr

    proc = topoloss("connect", *checkpoints[:2], "--model", "nosuchnet:depth=2", "--data", "digits",
                    "--run", run)
    assert_one_line_error(proc, "nosuchnet")

    proc = topoloss(*connect_args(checkpoints[:2], run, epochs=2))  # a changed config
    assert_one_line_error(proc, "different configuration", "epochs")

    bad = tmp_path / "bad.toml"
    bad.write_text('model = "fcn\n[paths\n')
    assert_one_line_error(topoloss("run", bad, "--run", run), "malformed config")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('model = "fcn"\nwidth = 3\n')
    assert_one_line_error(topoloss("run", unknown, "--run", run), "width")

    assert_one_line_error(topoloss("barcode", tmp_path / "nope.json"), "nope.json")
    assert_one_line_error(topoloss("report", tmp_path / "empty"), "empty")
    assert_one_line_error(topoloss("train", "--model", MODEL, "--data", "mnist:/nonexistent",
                                   "--run", run), "/nonexistent")
    assert snapshot(run) == before
    # invalid values are refused before a run directory is created
    fresh = tmp_path / "fresh"
    assert_one_line_error(topoloss("train", "--model", MODEL, "--data", "digits", "--epochs", "0",
                                   "--run", fresh), "[minima] epochs=0")
    assert_one_line_error(topoloss(*connect_args(checkpoints[:2], fresh), "--lr", "-1"), "[paths] lr=-1.0")
    assert_one_line_error(topoloss("train", "--model", MODEL, "--data", "nosuchdata", "--run", fresh),
                          "nosuchdata")
    assert not fresh.exists()


def test_help_explains_every_command():
    for cmd in ("train", "connect", "barcode", "report", "run", "demo"):
        proc = topoloss(cmd, "--help", check=True)
        assert "usage: topoloss " + cmd in proc.stdout
        assert "--" in proc.stdout


@pytest.mark.slow
def test_demo_is_the_main_job(tmp_path):
    proc = topoloss("demo", "--run", tmp_path / "demo", check=True)
    report = tmp_path / "demo" / "report"
    for name in ("barcode", "diagram", "disconnectivity", "profiles", "plane"):
        png = report / f"{name}.png"
        assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 5000, name
    summary = (report / "summary.md").read_text()
    assert "TO-score" in summary and summary.count("| seed") >= 8  # bars + minima tables
    assert "TO-score (bottleneck)" in proc.stdout and "report:" in proc.stdout
    data = json.loads((tmp_path / "demo" / "barcode.json").read_text())
    assert len(data["bars"]) == 4 and data["connected"]
    # resuming the finished demo recomputes nothing
    again = topoloss("demo", "--run", tmp_path / "demo")
    assert again.returncode == 0 and "6 reused" in again.stderr
