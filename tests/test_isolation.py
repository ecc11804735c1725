"""Every test starts from the same global random state (the autouse fixture in conftest.py)."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch


@pytest.mark.parametrize("draws_before", [0, 3])
def test_global_generators_are_seeded_per_test(request: pytest.FixtureRequest, draws_before: int) -> None:
    # Both cases see the same numbers: what an earlier test drew does not carry over.
    assert torch.equal(torch.rand(3), torch.rand(3, generator=torch.Generator().manual_seed(0)))
    # pytest-randomly (``-p randomly``) reseeds these two itself, per test, after the fixtures
    if not request.config.pluginmanager.hasplugin("randomly"):
        assert np.array_equal(np.random.rand(3), np.random.RandomState(0).rand(3))
        assert random.random() == random.Random(0).random()
    for _ in range(draws_before):  # leave the generators elsewhere for the next test
        torch.rand(5), np.random.rand(5), random.random()
