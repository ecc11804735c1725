"""Pytest setup shared by tests/ and the doctests collected from topoloss/."""

import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("TQDM_DISABLE", "1")

# `python -m topoloss.cli` runs the CLI (sys.exit) when imported: not a module to collect.
collect_ignore = ["topoloss/cli/__main__.py"]
