"""Progress output when stderr is not a terminal: plain, occasional lines, no cursor codes."""

from __future__ import annotations

import io
import re

import pytest

import topoloss as tl
from topoloss._progress import PlainProgress, interactive, progress_bar
from topoloss.analytic import get_landscape

ESCAPES = re.compile(r"\x1b\[|\r")


@pytest.fixture(autouse=True)
def _no_env_override(monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_keeps_tqdm_and_a_file_gets_plain_bars(monkeypatch):
    from tqdm import tqdm

    monkeypatch.setattr("sys.stderr", _Tty())
    assert interactive() and isinstance(progress_bar(total=2, desc="paths", kind="inner"), tqdm)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert not interactive()
    assert isinstance(progress_bar(total=2, desc="paths"), PlainProgress)
    assert isinstance(progress_bar(total=2, desc="seed 0", kind="task"), PlainProgress)
    inner = progress_bar(total=2, desc="m0-m1", kind="inner")
    assert isinstance(inner, tqdm) and inner.disable


def test_plain_lines_count_time_and_eta(capsys):
    with progress_bar(total=3, desc="paths", unit="path") as bar:
        bar.min_interval = 0.0
        for _ in range(3):
            bar.update(1)
    with progress_bar(total=50, desc="seed 0", unit="step", kind="task") as bar:
        bar.update(50)
        bar.set_postfix(loss="0.25")
    with progress_bar(total=10, desc="m0-m1", unit="step", kind="inner") as bar:
        bar.update(10)
    err = capsys.readouterr().err
    assert not ESCAPES.search(err)
    lines = err.splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "paths: 1/3 paths", "paths: 2/3 paths", "paths: 3/3 paths", "seed 0: 50 steps in 00:00 (loss=0.25)"]
    assert "ETA" in lines[0] and "ETA" in lines[1] and "ETA" not in lines[2] and "elapsed" in lines[2]


def test_plain_lines_are_at_most_one_a_second_but_always_the_last(capsys, monkeypatch):
    now = [0.0]
    monkeypatch.setattr("topoloss._progress.time.monotonic", lambda: now[0])
    bar = PlainProgress(total=5, desc="paths", unit="path", kind="outer")
    for t in (0.2, 0.4, 1.5, 1.6, 1.7):
        now[0] = t
        bar.update(1)
    bar.close()
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["paths: 3/5 paths, 00:01 elapsed, ETA 00:01", "paths: 5/5 paths, 00:01 elapsed"]


def test_a_study_logged_to_a_file_has_no_escape_codes(capsys):
    land = get_landscape("himmelblau")
    result = tl.analyze(land, steps=20, n_minima=4, seed=1, pairs="all", progress=True)
    err = capsys.readouterr().err
    assert not ESCAPES.search(err), err[:300]
    lines = [line for line in err.splitlines() if line.startswith("paths: ")]
    assert lines and lines[-1].startswith(f"paths: {len(result.paths)}/{len(result.paths)} paths")
    assert len(lines) <= len(result.paths)
