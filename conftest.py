"""Pytest setup shared by tests/ and the doctests collected from topoloss/."""

import os
import random

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
os.environ.setdefault("TQDM_DISABLE", "1")

# `python -m topoloss.cli` runs the CLI (sys.exit) when imported: not a module to collect.
collect_ignore = ["topoloss/cli/__main__.py"]


@pytest.fixture(autouse=True)
def _seed_global_random_state():
    """Every test and doctest starts from the same global random state, whatever ran before it.

    Tests should draw from their own seeded generators (``torch.Generator().manual_seed``,
    ``np.random.default_rng``); this covers what they cannot reach (a module's default
    initialization, a library drawing from the global generators), so that no result depends
    on the order or the selection of the tests (``pytest -p randomly`` finds no difference).
    """
    import torch

    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield
