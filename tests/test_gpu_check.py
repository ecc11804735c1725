"""``benchmarks/gpu_check.py --quick``: every section runs and its JSON is consistent."""

from __future__ import annotations

import json
import math
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _vgg16_params(classes: int = 10) -> int:
    """VGG-16-BN for 32x32 inputs, counted layer by layer: conv weight + bias, BN weight + bias."""
    widths = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    total, c = 0, 3
    for w in widths:
        total += c * w * 9 + w + 2 * w
        c = w
    return total + 2 * (512 * 512 + 512) + 512 * classes + classes


def _preresnet_params(depth: int = 110, classes: int = 10) -> int:
    """PreResNet-(9n+2) with bottleneck blocks (4x expansion), no conv biases, 1x1 shortcuts."""
    n = (depth - 2) // 9
    total, c = 3 * 16 * 9, 16  # the stem
    for planes in (16, 32, 64):
        for j in range(n):
            block = 2 * c + c * planes + 2 * planes + 9 * planes**2 + 2 * planes + planes * 4 * planes
            if j == 0:
                block += c * 4 * planes  # the shortcut convolution
            total += block
            c = 4 * planes
    return total + 2 * c + c * classes + classes


def _finite_numbers(value: object) -> list[float]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _finite_numbers(v)]
    if isinstance(value, list):
        return [x for v in value for x in _finite_numbers(v)]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        assert math.isfinite(value), value
        return [float(value)]
    return []


@pytest.mark.slow
def test_gpu_check_quick_writes_every_section(tmp_path):
    out = tmp_path / "gpu.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "benchmarks/gpu_check.py", "--quick", "--device", "cpu",
                           "--json", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "no CUDA" in done.stdout
    report = json.loads(out.read_text())
    assert report["quick"] is True and report["clock"] == "cpu" and report["device"]["type"] == "cpu"
    assert report["cuda_tests"]["ran"] is False and "no CUDA" in report["cuda_tests"]["reason"]
    assert report["models"] == {"vgg16": _vgg16_params(), "preresnet110": _preresnet_params()}
    assert _finite_numbers(report)

    assert [r["model"] for r in report["curve_step"]] == list(report["sizes"]["step_models"])
    for r in report["curve_step"]:
        assert r["loss_topoloss"] == pytest.approx(r["loss_reference"], rel=1e-5)
        for kind in ("leaf", "reference", "curve", "flat"):
            assert r[f"{kind}_s"] > 0
            assert r[f"{kind}_ratio"] == pytest.approx(r[f"{kind}_s"] / r["plain_s"], rel=1e-12)
    assert len(report["vmap"]) == 2
    for r in report["vmap"]:
        assert r["loop_s"] > 0 and r["vmap_s"] > 0
        assert r["speedup"] == pytest.approx(r["loop_s"] / r["vmap_s"], rel=1e-12)
        assert r["points_per_pass"] > 1  # the vectorized landscape did take several points per pass
        assert r["max_rel_diff"] < 1e-5  # the same losses, up to float32 rounding
    pair = report["pair"]
    assert pair["seconds_optimize"] > 0 and pair["seconds_evaluate"] > 0
    assert pair["evaluate_over_optimize"] == pytest.approx(pair["seconds_evaluate"] / pair["seconds_optimize"],
                                                           rel=1e-12)
    assert pair["steps"] == report["sizes"]["pair_steps"] and math.isfinite(pair["barrier"])
