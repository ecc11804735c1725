"""The documentation stays true: CLI reference up to date, README's commands = CI's."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_up_to_date():
    proc = subprocess.run([sys.executable, str(ROOT / "docs" / "generate_cli_reference.py"), "--check"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, "docs/cli.md is stale: run python docs/generate_cli_reference.py"


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = next(line for line in ci.splitlines() if "pytest" in line).strip()
    assert command in readme
    assert "topoloss demo" in readme.split(command)[0]  # the main job comes first


def test_docs_link_to_existing_files():
    for page in ("getting-started.md", "own-checkpoints.md", "cli.md", "spec.md", "performance.md"):
        assert (ROOT / "docs" / page).is_file(), page
    text = (ROOT / "docs" / "getting-started.md").read_text()
    for fig in ("barcode", "disconnectivity", "profiles", "plane"):
        assert f"figures/{fig}.png" in text
        assert (ROOT / "docs" / "figures" / f"{fig}.png").is_file()
