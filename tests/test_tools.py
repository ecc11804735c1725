"""tools/fingerprint.py --compare: equal fingerprints pass, any differing number fails."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[1] / "tools" / "fingerprint.py"


def _compare(tmp_path: Path, before: dict, after: dict) -> subprocess.CompletedProcess:
    (tmp_path / "a.json").write_text(json.dumps(before))
    (tmp_path / "b.json").write_text(json.dumps(after))
    return subprocess.run([sys.executable, str(TOOL), "--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")],
                          capture_output=True, text=True, check=False)


def test_compare_passes_on_equal_and_fails_on_one_differing_bit(tmp_path):
    entries = {"himmelblau/bezier/all/to_score": repr(52.02400000000001), "demo/paths/a--b.safetensors": {"t": "ab"}}
    same = _compare(tmp_path, entries, dict(entries))
    assert same.returncode == 0 and "0 of 2 entries differ" in same.stdout
    changed = {**entries, "himmelblau/bezier/all/to_score": repr(52.024)}  # one ulp-scale change
    diff = _compare(tmp_path, entries, changed)
    assert diff.returncode == 1 and "1 of 2 entries differ" in diff.stdout
    assert "DIFF himmelblau/bezier/all/to_score" in diff.stdout
    missing = _compare(tmp_path, entries, {"demo/paths/a--b.safetensors": {"t": "ab"}})
    assert missing.returncode == 1
