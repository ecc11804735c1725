"""docs/configuration.md is generated from topoloss/config.py, up to date, and its examples parse."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from topoloss.config import _SECTIONS, StudyConfig
from topoloss.paths.curves import Bezier, Chain

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "configuration.md"


@pytest.fixture(scope="module")
def ref():
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import generate_config_reference
    finally:
        sys.path.remove(str(ROOT / "docs"))
    return generate_config_reference


def test_configuration_reference_is_up_to_date():
    proc = subprocess.run([sys.executable, str(ROOT / "docs" / "generate_config_reference.py"), "--check"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr or "docs/configuration.md is stale"


def test_every_key_has_a_row_with_its_help(ref):
    text = PAGE.read_text()
    for section, cls in [("top level", StudyConfig), *_SECTIONS.items()]:
        part = text.split(f"## [{section}]", 1)[1].split("\n## ", 1)[0]
        for f in fields(cls):
            if f.name in _SECTIONS:
                continue
            row = next((line for line in part.splitlines() if line.startswith(f"| `{f.name}` |")), None)
            assert row is not None, f"[{section}] {f.name} has no row"
            assert f.metadata["help"], f"[{section}] {f.name} has no help text"
            assert ref._cell(f.metadata["help"]) in row
    assert "| `lr` | number (optional) | unset | `--lr` (train) |" in text  # [minima] lr: a flag of `train` only
    assert "| `checkpoints` | list of strings | `[]` | none |" in text


def test_the_example_is_a_complete_study(ref):
    examples = ref.toml_examples(PAGE.read_text())
    assert len(examples) >= 4
    for block in examples:
        assert isinstance(ref.parse_example(block), StudyConfig)
    full = ref.parse_example(examples[-1])
    assert tomllib.loads(examples[-1])["run"] == "runs/camel"
    assert full.landscape == "six-hump-camel"
    assert full.minima.n_minima == 16 and full.paths.pairs == "mst" and full.paths.steps == 200
    assert full.paths.curve == Bezier(bends=2) and full.evaluation.linear is True
    assert ref.parse_example('[paths.curve]\nkind = "chain"\npoints = 5\n').paths.curve == Chain(points=5)


def test_check_fails_on_a_stale_page(ref, tmp_path, monkeypatch):
    monkeypatch.setattr(ref, "TARGET", tmp_path / "configuration.md")
    ref.TARGET.write_text(ref.reference().replace("| `n_eval` |", "| `n_evals` |"))
    assert any("stale" in p for p in ref.check())
    ref.TARGET.write_text(ref.reference())
    assert ref.check() == []
    monkeypatch.setattr(ref, "EXAMPLE", ref.EXAMPLE + "\n[paths]\ncolour = 1\n")
    assert any("does not parse" in p for p in ref.check())
