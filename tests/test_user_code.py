"""User code named by ``module:attr`` and ``path/to/file.py:attr`` specs: it imports its
neighbours as Python would, ``sys.path`` is left as it was, and its exceptions are one line
naming the spec and the user's own frame."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from topoloss.config import StudyConfig
from topoloss.engine.factories import make_landscape
from topoloss.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TQDM_DISABLE": "1", "PYTHONUNBUFFERED": "1",
       "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}

TRAIN = """\
import torch
from torch import nn


def make_net():
    return nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))


def load():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(48, 4, generator=g)
    return torch.utils.data.TensorDataset(x, (x[:, 0] > 0).long() + (x[:, 1] > 0).long())


def broken():
    scale = 0
    return make_net() if 1 / scale else None
"""


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """Research code as it is laid out: ``mynets_{n}.py`` imports its neighbour ``train_{n}.py``."""
    tag = tmp_path.name.replace("-", "_")  # module names unique per test: no stale sys.modules entries
    (tmp_path / f"train_{tag}.py").write_text(TRAIN)
    (tmp_path / f"mynets_{tag}.py").write_text(f"from train_{tag} import make_net, load, broken  # noqa\n")
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / f"helper_{tag}.py").write_text(TRAIN)
    (tmp_path / "code" / "nets.py").write_text(f"from helper_{tag} import make_net, load\n")
    (tmp_path / f"needs_{tag}.py").write_text(f"import missing_{tag}\n")
    return tmp_path


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "topoloss.cli", "train", *args, "--seeds", "0", "--epochs", "1",
                           "-q"], capture_output=True, text=True, env=ENV, cwd=cwd, timeout=300)


def _one_line(proc: subprocess.CompletedProcess, *needles: str) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "topoloss/" not in lines[0].replace("topoloss train:", "")  # no frame of ours
    return lines[0]


@pytest.mark.slow
def test_a_user_module_that_imports_its_neighbour_works_through_the_cli(project):
    tag = project.name.replace("-", "_")
    ok = _cli(project, "--model", f"mynets_{tag}:make_net", "--data", f"mynets_{tag}:load", "--run", "r1")
    assert ok.returncode == 0, ok.stderr
    assert (project / "r1" / "minima.json").exists()
    # path/to/file.py:attr imports from that file's folder, run from anywhere
    elsewhere = project / "elsewhere"
    elsewhere.mkdir()
    ok = _cli(elsewhere, "--model", "../code/nets.py:make_net", "--data", "../code/nets.py:load", "--run", "r2")
    assert ok.returncode == 0, ok.stderr
    # an exception inside the user's code: one line, the spec and the user's own frame, exit 2
    _one_line(_cli(project, "--model", f"mynets_{tag}:broken", "--data", f"mynets_{tag}:load", "--run", "r3"),
              f"model 'mynets_{tag}:broken'", "ZeroDivisionError", f"train_{tag}.py:17", "1 / scale")
    assert not (project / "r3").exists()


def test_imports_leave_sys_path_exactly_as_it_was(project, monkeypatch):
    tag = project.name.replace("-", "_")
    monkeypatch.chdir(project / "code")  # neither the working directory nor a folder on sys.path
    before = list(sys.path)
    try:
        land = make_landscape(StudyConfig(model=str(project / "code" / "nets.py") + ":make_net",
                                          data=str(project / "code" / "nets.py") + ":load"))
        assert land.dim == 4 * 6 + 6 + 6 * 3 + 3
        assert sys.path == before
        monkeypatch.chdir(project)
        with pytest.raises(InputError, match=rf"mynets_{tag}:broken.*ZeroDivisionError.*train_{tag}\.py:17"):
            make_landscape(StudyConfig(model=f"mynets_{tag}:broken", data=f"mynets_{tag}:load"))
        assert sys.path == before
        with pytest.raises(InputError, match=rf"cannot import module 'absent_{tag}'"):
            make_landscape(StudyConfig(model=f"absent_{tag}:make", data=f"mynets_{tag}:load"))
        with pytest.raises(InputError, match=rf"needs_{tag}.*No module named 'missing_{tag}'.*needs_{tag}\.py:1"):
            make_landscape(StudyConfig(model=f"needs_{tag}:make", data=f"mynets_{tag}:load"))
        assert sys.path == before
    finally:
        for name in [n for n in sys.modules if tag in n]:
            del sys.modules[name]
