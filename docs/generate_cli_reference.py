"""Write docs/cli.md from the parsers themselves: ``python docs/generate_cli_reference.py``.

A test (tests/test_docs.py) checks that docs/cli.md is up to date.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from contextlib import redirect_stdout
from pathlib import Path

HERE = Path(__file__).resolve().parent


def reference() -> str:
    os.environ["COLUMNS"] = "100"
    from topoloss.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = [
        "# Command-line reference",
        "",
        "Generated from the parsers by `python docs/generate_cli_reference.py`; "
        "`topoloss COMMAND --help` prints the same.",
        "",
        "Exit codes: 0 success; 2 a user mistake (bad arguments, a missing or malformed file, a "
        "checkpoint of another architecture, a run directory with another configuration); "
        "1 a failed computation (a diverged optimization, a corrupt stored result, an I/O error); "
        "each reported as one line on stderr; 130 interrupted. The study options are generated "
        "from `topoloss.config` (see configuration.md).",
        "",
        "```",
        parser.format_help().rstrip(),
        "```",
    ]
    for name, p in sub.choices.items():
        buf = io.StringIO()
        with redirect_stdout(buf):
            p.print_help()
        out += ["", f"## `topoloss {name}`", "", "```", buf.getvalue().rstrip(), "```"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    text = reference()
    if "--check" in sys.argv:
        sys.exit(0 if (HERE / "cli.md").read_text() == text else 1)
    (HERE / "cli.md").write_text(text)
