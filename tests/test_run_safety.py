"""Run directories that never give a silently wrong result: provenance of every stored
result, one writer at a time, no code imported from a run directory, nothing written
before the options are validated, and user code specs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from topoloss.analytic import get_landscape
from topoloss.cli import main
from topoloss.config import StudyConfig
from topoloss.engine.factories import is_import_spec, make_landscape
from topoloss.engine.pipeline import run_pipeline
from topoloss.engine.provenance import minimum_fingerprint, path_fingerprint
from topoloss.engine.store import Run, RunLocked
from topoloss.minima.find import Minima
from topoloss.minima.train import save_minimum, train_minima
from topoloss.paths.curves import Bezier

ENV = {**os.environ, "TQDM_DISABLE": "1", "PYTHONUNBUFFERED": "1"}
MODEL = "fcn:depth=1,width=8"
A, B = torch.tensor([0.0, 1.0]), torch.tensor([2.0, -1.0])


def cli(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "topoloss.cli", *map(str, args)], capture_output=True,
                          text=True, env=ENV, timeout=300, cwd=cwd)


def one_line(proc: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# ------------------------------------------------------------------ provenance
@pytest.mark.parametrize("option", [
    {"curve": Bezier(bends=1)}, {"epochs": 3}, {"steps": 7}, {"lr": 0.5}, {"optimizer": "sgd"},
    {"momentum": 0.5}, {"schedule": "constant"}, {"t_batch": 3}, {"weight_decay": 0.1}, {"jitter": 0.5},
    {"n_eval": 11}, {"refine": 0}, {"linear": False}, {"seed": 9},
])
def test_every_option_of_a_path_changes_its_fingerprint(option):
    base = StudyConfig()
    assert path_fingerprint(base.with_options(**option), 0, 1, "a", "b", A, B) != \
        path_fingerprint(base, 0, 1, "a", "b", A, B)


def test_pairs_group_and_executor_leave_the_fingerprint_but_endpoints_change_it():
    base = StudyConfig()
    f = path_fingerprint(base, 0, 1, "a", "b", A, B)
    for same in ({"pairs": "mst"}, {"pairs": [("a", "b")]}, {"group": 3}, {"executor": "other"}):
        assert path_fingerprint(base.with_options(**same), 0, 1, "a", "b", A, B) == f, same
    assert path_fingerprint(base, 0, 1, "a", "c", A, B) != f  # another name
    assert path_fingerprint(base, 1, 0, "a", "b", A, B) != f  # another random stream
    assert path_fingerprint(base, 0, 1, "a", "b", A, B + 1e-3) != f  # another point
    assert minimum_fingerprint(base, 0) != minimum_fingerprint(base, 1)
    assert minimum_fingerprint(base, 0) != minimum_fingerprint(base.with_options(batch_size=7), 0)
    assert minimum_fingerprint(base, 0) == minimum_fingerprint(base.with_options(steps=3, seed=4), 0)


def test_a_path_file_made_with_other_options_is_recomputed_not_reused(tmp_path):
    land = get_landscape("himmelblau")
    good = StudyConfig(landscape="himmelblau").with_options(steps=30, n_minima=8, pairs="mst")
    other = good.with_options(steps=3)
    reference = run_pipeline(land, good, store=Run(tmp_path / "ref", good.to_dict()), progress=False)
    run_pipeline(land, other, store=Run(tmp_path / "other", other.to_dict()), progress=False)
    # the run holds every path, one of them swapped for the file made with 3 steps
    shutil.copytree(tmp_path / "ref", tmp_path / "run")
    swapped = sorted((tmp_path / "other" / "paths").iterdir())[0]
    shutil.copy(swapped, tmp_path / "run" / "paths" / swapped.name)
    messages: list[str] = []
    again = run_pipeline(land, good, store=Run(tmp_path / "run", good.to_dict()), progress=False,
                         log=messages.append)
    assert (again.computed_paths, again.reused_paths) == (1, len(reference.paths) - 1)
    assert any(swapped.name in m and "other options" in m for m in messages), messages
    assert again.to_score == reference.to_score
    assert [p.barrier for p in again.paths] == [p.barrier for p in reference.paths]
    (_, now, stamp), = [f for f in Run(tmp_path / "run").stored_paths()[0] if f[0].name == swapped.name]
    (_, ref, ref_stamp), = [f for f in Run(tmp_path / "ref").stored_paths()[0] if f[0].name == swapped.name]
    assert stamp == ref_stamp and torch.equal(now.tensors()["bends"], ref.tensors()["bends"])


def test_a_trained_minimum_made_with_other_options_is_trained_again(tmp_path):
    cfg = StudyConfig(model=MODEL, data="moons:n_samples=60").with_options(seeds=(0, 1), epochs=2)
    land = make_landscape(cfg)
    run = Run(tmp_path / "run", cfg.to_dict())
    # seed1 as if trained with 1 epoch and dropped into the run
    wrong = cfg.minima.replace(epochs=1)
    part = train_minima(land, seeds=[1], progress=False, **wrong.training_options())
    run.save_minimum_part(part, provenance=minimum_fingerprint(cfg.replace(minima=wrong), 1))
    messages: list[str] = []
    from topoloss.engine.pipeline import prepare_minima

    found = prepare_minima(land, cfg, store=run, progress=False, log=messages.append)
    direct = train_minima(land, seeds=[0, 1], progress=False, **cfg.minima.training_options())
    assert torch.equal(found.points, direct.points)
    assert any("seed1" in m and "other options" in m for m in messages), messages


# ------------------------------------------------------------------ locking
HOLD = """
import sys, time
from topoloss.engine.store import Run
run = Run(sys.argv[1], {"seed": 1})
print("held", flush=True)
time.sleep(120)
"""


def _holder(run: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(run)], stdout=subprocess.PIPE, text=True, env=ENV)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


@pytest.mark.slow
def test_a_second_writer_is_refused_and_a_killed_holder_leaves_no_stale_lock(tmp_path):
    run = tmp_path / "run"
    holder = _holder(run)
    try:
        with pytest.raises(RunLocked, match=f"pid {holder.pid}"):
            Run(run, {"seed": 1})
        assert Run(run).config == {"seed": 1}  # a reader needs no lock
        with pytest.raises(RunLocked):
            Run(run).save_graph(None)  # type: ignore[arg-type]  # a write through a reader locks first
        line = one_line(cli("analyze", "himmelblau", "--run", run, "--steps", "5"), 2, str(holder.pid))
        assert "being written by another process" in line
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    Run(run, {"seed": 1}).commit()  # the OS released the dead holder's lock
    assert f"pid {os.getpid()}" in (run / ".lock").read_text()


def test_new_twice_in_the_same_second_moves_both_aside(tmp_path):
    run = tmp_path / "run"
    Run(run, {"seed": 1})
    Run(run, {"seed": 2}, new=True)
    Run(run, {"seed": 3}, new=True)
    asides = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("run.old-"))
    assert len(asides) == 2
    assert sorted(json.loads((tmp_path / a / "config.json").read_text())["seed"] for a in asides) == [1, 2]
    assert Run(run).config == {"seed": 3}


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("ckpt")
    cfg = StudyConfig(model=MODEL, data="digits")
    land = make_landscape(cfg)
    minima = train_minima(land, seeds=range(2), epochs=1, progress=False)
    return [save_minimum(land, p, folder / f"{n}.safetensors") for n, p in zip(minima.names, minima.points)]


RACE = """
import json, os, sys
from topoloss.cli import main
ckpts, runs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
children = {}
for wave in range(0, len(runs), 4):  # 4 races (8 writers) at a time
    for run in runs[wave:wave + 4]:
        for steps in ("2", "3"):
            pid = os.fork()
            if pid == 0:  # a writer: its own process, its own file descriptors
                err = os.open(f"{run}.{steps}.err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                os.dup2(err, 2)
                os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # stdout is the parent's report channel
                code = main(["connect", *ckpts, "--model", "fcn:depth=1,width=8", "--data", "digits",
                             "--run", run, "--steps", steps, "--n-eval", "5", "--refine", "0",
                             "--no-linear", "-q"])
                os._exit(code)
            children[pid] = (run, steps)
    while children:
        pid, status = os.wait()
        run, steps = children.pop(pid)
        print(json.dumps([run, steps, os.waitstatus_to_exitcode(status)]), flush=True)
        if len(children) % 8 == 0:
            break
"""


@pytest.mark.slow
def test_two_writers_with_different_options_never_both_succeed(checkpoints, tmp_path):
    # The writers are forked from one process that imported topoloss once: 40 `topoloss
    # connect` processes without 40 interpreter start-ups.
    races = [tmp_path / f"race{k}" for k in range(20)]
    proc = subprocess.run([sys.executable, "-c", RACE, json.dumps([str(c) for c in checkpoints]),
                           json.dumps([str(r) for r in races])], capture_output=True, text=True, env=ENV,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    codes: dict[str, dict[str, int]] = {}
    for line in proc.stdout.splitlines():
        run, steps, code = json.loads(line)
        codes.setdefault(run, {})[steps] = code
    assert len(codes) == 20
    for run in races:
        got = codes[str(run)]
        errors = {s: Path(f"{run}.{s}.err").read_text() for s in got}
        assert sorted(got.values()) == [0, 2], errors
        loser = next(s for s, c in got.items() if c == 2)
        assert "being written by another process" in errors[loser] or "different configuration" in errors[loser]
        # no file mixes the two: every path's fingerprint is the one the stored config gives
        stored = Run(run)
        cfg = StudyConfig.from_dict(stored.config)
        assert cfg.paths.steps == int(next(s for s, c in got.items() if c == 0))
        minima = stored.load_minima()
        files, bad = stored.stored_paths()
        assert files and not bad
        for _, path, stamp in files:
            i, j = minima.index(path.u), minima.index(path.v)
            assert stamp == path_fingerprint(cfg, i, j, path.u, path.v, minima.points[i], minima.points[j])


# ------------------------------------------------------------------ no code from a run directory
MARKER = """
import pathlib
pathlib.Path(__file__).with_name("IMPORTED").write_text("yes")
from topoloss.data import digits
from topoloss.models import fcn
def load():
    return digits()
def make():
    return fcn(64, 10, depth=1, width=8)
"""


@pytest.fixture()
def evil_run(tmp_path) -> Path:
    """A finished run whose config names code (``evilmark:...``) never imported to make it."""
    (tmp_path / "evilmark.py").write_text(MARKER)
    run = Run(tmp_path / "run", {"model": "evilmark:make", "data": "evilmark:load"})
    g = torch.Generator().manual_seed(0)
    minima = Minima(torch.randn(3, 650, generator=g), [0.1, 0.2, 0.3], ("a", "b", "c"), [0] * 3, [True] * 3,
                    [False] * 3)
    run.save_minima(minima)
    from topoloss.engine.pipeline import build_graph
    from topoloss.topology.persistence import loss_barcode

    graph = build_graph(minima, [])
    run.save_graph(graph)
    run.save_barcode(loss_barcode(graph))
    run.close()
    return tmp_path


@pytest.mark.slow
def test_a_run_directory_never_imports_the_code_its_config_names(evil_run):
    marker = evil_run / "IMPORTED"
    assert cli("report", "run", cwd=evil_run).returncode == 0
    assert "plane figure left out" in (evil_run / "run" / "report" / "summary.md").read_text()
    assert cli("barcode", "run", cwd=evil_run).returncode == 0
    assert cli("compare", "run", "--out", "c.png", cwd=evil_run).returncode == 0
    one_line(cli("connect", "--run", "run", cwd=evil_run), 2, "--model evilmark:make", "--trust")
    (evil_run / "study.toml").write_text('model = "evilmark:make"\ndata = "evilmark:load"\n')
    one_line(cli("run", "study.toml", "--run", "run2", cwd=evil_run), 2, "study.toml", "--trust")
    assert not (evil_run / "run2").exists()
    assert not marker.exists()
    # given on the command line, the same spec is the user's own: it is imported
    proc = cli("connect", "--run", "run", "--model", "evilmark:make", "--data", "evilmark:load",
               "--steps", "1", "--n-eval", "3", "--refine", "0", "-q", cwd=evil_run)
    assert marker.exists(), proc.stderr


# ------------------------------------------------------------------ user code specs
def test_module_and_file_specs_from_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "mynets_rs.py").write_text(
        "from torch import nn\nfrom topoloss.data import load_dataset\n"
        "def make_net():\n    return nn.Sequential(nn.Flatten(), nn.Linear(2, 2))\n"
        "def load():\n    return load_dataset('moons:n_samples=40')\n")
    (tmp_path / "sub").mkdir()
    shutil.copy(tmp_path / "mynets_rs.py", tmp_path / "sub" / "other_nets.py")
    monkeypatch.chdir(tmp_path)
    path_before = list(sys.path)
    try:
        land = make_landscape(StudyConfig(model="mynets_rs:make_net", data="mynets_rs:load"))
        assert land.dim == 6
        land = make_landscape(StudyConfig(model="sub/other_nets.py:make_net", data="sub/other_nets.py:load"))
        assert land.dim == 6
        assert sys.path == path_before
    finally:
        sys.modules.pop("mynets_rs", None)
    assert is_import_spec("fcn:depth=1", "model") is False  # registered wins
    assert is_import_spec("mynets_rs:make_net", "model") is True
    with pytest.raises(ValueError, match=r"module:attr .* path/to/file.py:attr"):
        make_landscape(StudyConfig(data="nosuchdata"))
    with pytest.raises(ValueError, match=r"cannot import module 'nosuchmod'.*registered"):
        make_landscape(StudyConfig(data="nosuchmod:load"))


def test_a_registered_name_wins_over_a_module_of_that_name(tmp_path, monkeypatch):
    (tmp_path / "moons.py").write_text("raise RuntimeError('imported moons.py')\n")
    monkeypatch.chdir(tmp_path)
    land = make_landscape(StudyConfig(model=MODEL, data="moons:n_samples=40"))
    assert land.dim == 2 * 8 + 8 + 8 * 2 + 2


# ------------------------------------------------------------------ validation before side effects
@pytest.mark.parametrize("bad", [("--pairs", "none"), ("--seed", "-1"), ("--lr", "inf"), ("--executor", "nope")])
def test_a_bad_option_writes_nothing(tmp_path, bad, capsys):
    run = tmp_path / "run"
    assert main(["analyze", "himmelblau", "--run", str(run), "--steps", "5", "-q", *bad]) == 2
    assert not run.exists()
    assert main(["analyze", "himmelblau", "--run", str(run), "--steps", "5", "-q"]) == 0


def test_pairs_naming_unknown_minima_store_no_path_options(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["analyze", "himmelblau", "--run", str(run), "--steps", "5", "-q", "--pairs", "m0-nope"]) == 2
    assert "nope" in capsys.readouterr().err
    assert "paths" not in json.loads((run / "config.json").read_text())
    assert not (run / "paths").exists()
    assert main(["analyze", "himmelblau", "--run", str(run), "--steps", "5", "-q", "--pairs", "m0-m1"]) == 0
    assert len(list((run / "paths").iterdir())) == 1


def test_a_landscape_that_cannot_be_built_writes_nothing(tmp_path, capsys):
    study = tmp_path / "study.toml"
    study.write_text('model = "nosuchmodel"\ndata = "digits"\n')
    assert main(["run", str(study), "--run", str(tmp_path / "run")]) == 2
    assert "nosuchmodel" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_the_lock_file_names_its_holder(tmp_path):
    run = Run(tmp_path / "run", {"seed": 0})
    text = (tmp_path / "run" / ".lock").read_text()
    assert text.startswith(f"pid {os.getpid()} on ")
    run.close()
    del run
    time.sleep(0)  # the last Run gone: the lock is released, another process may take it
    proc = subprocess.run([sys.executable, "-c", "import sys; from topoloss.engine.store import Run; "
                           "Run(sys.argv[1], {'seed': 0})", str(tmp_path / "run")], env=ENV, capture_output=True)
    assert proc.returncode == 0, proc.stderr


def _edit_record(file: Path, **changes: object) -> None:
    """Rewrite fields of the JSON record stored in a path file (the tensors kept)."""
    import safetensors
    import safetensors.torch

    with safetensors.safe_open(str(file), framework="pt") as fh:
        meta = dict(fh.metadata())
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - safe_open is no dict
    record = json.loads(meta["record"])
    record.update(changes)
    meta["record"] = json.dumps(record)
    safetensors.torch.save_file(tensors, str(file), metadata=meta)


def test_a_record_inconsistent_with_itself_is_recomputed_never_used(tmp_path):
    """Issue 18 item 11: a barrier edited to 1e-6 (profile unchanged), graph.json deleted and a
    resume gave another barcode with exit 0. Now the record is CorruptResult: warned, recomputed."""
    from topoloss.engine.pipeline import run_study
    from topoloss.errors import CorruptResult, TopolossWarning

    config = StudyConfig(landscape="six-hump-camel").with_options(steps=30, n_minima=4, pairs="all")
    run = Run(tmp_path / "r", config.to_dict())
    first = run_study(run, progress=False)
    run.close()
    victim = sorted((tmp_path / "r" / "paths").glob("*.safetensors"))[0]
    _edit_record(victim, barrier=1e-6)
    (tmp_path / "r" / "graph.json").unlink()
    again = Run(tmp_path / "r")
    with pytest.raises(CorruptResult, match=r"inconsistent with itself \(barrier 1e-06 is not the maximum"):
        again._read_path(victim)
    with pytest.warns(TopolossWarning, match=rf"{victim.name} is inconsistent with itself.*recomputing it"):
        second = run_study(again, progress=False)
    assert second.barcode == first.barcode and second.computed_paths == 1
    assert [p.barrier for p in second.paths] == [p.barrier for p in first.paths]
    again._read_path(victim)  # replaced by a consistent record
    # a fallback record must keep the straight barrier below its curve's peak
    _edit_record(victim, fallback="straight", linear_losses=[0.0, 5.0, 0.0], linear_t=[0.0, 0.5, 1.0])
    with pytest.raises(CorruptResult, match=r"is not the straight fallback's 5\.0"):
        again._read_path(victim)


def test_an_unreadable_config_names_the_next_step_and_new_takes_it(tmp_path):
    """Issue 18, peer tools: a failing step names the next thing to try, and that step works."""
    from topoloss.errors import CorruptResult

    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "config.json").write_text("{not json")
    with pytest.raises(CorruptResult, match=r"unreadable config .*; start afresh with --new"):
        Run(tmp_path / "r", {"seed": 0})
    run = Run(tmp_path / "r", {"seed": 0}, new=True)
    assert run.config["seed"] == 0
    aside = [p for p in tmp_path.iterdir() if p.name != "r"]
    assert len(aside) == 1 and (aside[0] / "config.json").read_text() == "{not json"
