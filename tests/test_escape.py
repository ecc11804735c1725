"""Escape learning rate (SPEC §8): against a plain NumPy descent, a closed form, and the
linear trend of the example script."""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from topoloss.analytic import (
    escape_learning_rate,
    escape_steps,
    himmelblau,
    polynomial,
    sextic,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "escape_learning_rate.py"


def numpy_escapes(coeffs, lrs, start, basin, steps):
    """Reference: plain gradient descent in NumPy, one trajectory per learning rate."""
    dp = np.polynomial.polynomial.polyder(np.asarray(coeffs, float))
    lrs = np.atleast_1d(np.asarray(lrs, float))
    x = np.full(lrs.shape, float(start))
    out = np.zeros(lrs.shape, bool)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            x = np.where(out, x, x - lrs * np.polynomial.polynomial.polyval(x, dp))
            out |= ~((x > basin[0]) & (x < basin[1]))
    return out


@pytest.mark.parametrize("barrier", [0.17, 0.23, 0.27])
def test_escape_lr_is_the_threshold_of_plain_descent(barrier):
    s = sextic(barrier)
    basin = (-math.inf, s.saddle)
    tol = 1e-4
    lr = escape_learning_rate(barrier, tol=tol, steps=600)
    assert 2.0 < lr < 3.0  # beyond the linear-stability limit 2 / p''(0) = 2
    start = -0.1  # the default: 0.1 / sqrt(p''(0)) on the side away from the saddle
    # Descent is chaotic right at the threshold (rounding decides whether it escapes
    # within the budget), so the independent reference is checked one tol away.
    assert numpy_escapes(s.coeffs, [lr + tol, lr + 10 * tol], start, basin, 600).all()
    assert not numpy_escapes(s.coeffs, lr - tol, start, basin, 600)[0]
    # nothing below escapes either (scan in steps of 2e-3)
    below = np.arange(0.01, lr - tol, 2e-3)
    assert not numpy_escapes(s.coeffs, below, start, basin, 600).any()
    steps = escape_steps(s, [lr, lr - tol, 0.5])
    assert steps[0] >= 1 and steps[1] == -1 and steps[2] == -1


def test_one_jump_regime_matches_closed_form():
    # Far enough from the minimum, the first step jumps the saddle: lr = (saddle - x0) / -p'(x0).
    x0 = -0.35
    for barrier in (0.18, 0.22, 0.26):
        s = sextic(barrier)
        slope = np.polynomial.polynomial.polyval(x0, np.polynomial.polynomial.polyder(s.coeffs))
        lr = escape_learning_rate(s, start=x0, tol=1e-6, steps=200)
        assert lr == pytest.approx((s.saddle - x0) / -slope, abs=2e-6)
        assert escape_steps(s, lr, start=x0) == 1


def test_general_polynomial_escapes_its_higher_minimum():
    land = polynomial()  # tilted double well: local minimum near 0.95, global near -1.05
    cp = land.critical_points()
    lr = escape_learning_rate(land, tol=1e-4)
    x_min = cp.minima.max()
    curv = np.polynomial.polynomial.polyval(x_min, np.polynomial.polynomial.polyder(land.coeffs, 2))
    start = x_min + 0.1 / math.sqrt(curv)  # away from the wall at the maximum (left)
    basin = land.basin(x_min)
    assert basin[0] == pytest.approx(cp.maxima[0]) and basin[1] == math.inf
    assert numpy_escapes(land.coeffs, lr + 1e-4, start, basin, 1000)[0]
    assert not numpy_escapes(
        land.coeffs, np.arange(0.01, lr - 1e-4, 1e-3), start, basin, 1000
    ).any()


def test_example_core_is_linear():
    spec = importlib.util.spec_from_file_location("escape_example", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    barriers = mod.barrier_grid(5)
    lrs = mod.sweep(barriers, steps=600, tol=1e-3)
    slope, _, r2 = mod.linear_fit(barriers, lrs)
    assert slope > 0 and r2 >= 0.95
    assert np.all(np.diff(lrs) > 0)


def test_example_script_writes_figure(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("escape_example", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "fig.png"
    assert mod.main(["--n", "3", "--steps", "200", "--start", "-0.35", "--out", str(out)]) == 0
    assert out.stat().st_size > 0
    assert "R^2" in capsys.readouterr().out


def test_escape_errors_name_the_value():
    s = sextic(0.2)
    with pytest.raises(ValueError, match=r"start=2\.0"):
        escape_learning_rate(s, start=2.0)
    with pytest.raises(ValueError, match="minimum=0.5"):
        escape_learning_rate(s, minimum=0.5)
    with pytest.raises(ValueError, match="1 local minimum"):
        escape_learning_rate(polynomial([0, 0, 1]))
    with pytest.raises(ValueError, match="barrier=0.5"):
        escape_learning_rate(0.5)
    with pytest.raises(ValueError, match="lrs="):
        escape_steps(s, [0.1, -1.0])
    with pytest.raises(ValueError, match="lrs="):
        escape_learning_rate(s, lrs=[0.3, 0.2])
    with pytest.raises(ValueError, match="steps=0"):
        escape_steps(s, 0.1, steps=0)
    with pytest.raises(ValueError, match="tol=0"):
        escape_learning_rate(s, tol=0)
    with pytest.raises(TypeError):
        escape_learning_rate(himmelblau())
    assert escape_learning_rate(s, lrs=[0.1, 0.2]) == math.inf
