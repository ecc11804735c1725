"""The GPU path in one run: the CUDA tests, the curve step, the vmapped evaluation, one pair.

Usage::

    python benchmarks/gpu_check.py [--json FILE] [--quick | --full] [--device DEV] [--no-tests]
        [--pair-samples N] [--pair-steps N]

On a CUDA device (the default when one is visible) it runs, in this order:

* ``cuda_tests``: ``pytest -k cuda tests`` in a subprocess (the tests that skip
  themselves without a CUDA device), with the counts of passed, failed, skipped;
* ``curve_step``: one curve-optimization step ÷ one plain training step for VGG-16-BN
  and PreResNet-110 (the mode-connectivity code's architecture) at batch 128, with
  :mod:`bench_curve_step`'s steps (plain, leaf point, per-layer reference, topoloss's
  step as ``connect`` takes it on this device, the flat step forced); goal ``<= 1.10``;
* ``vmap``: the exact loss of 61 points of a path with ``ModelLandscape.loss``, one
  vectorized pass (``vmap_evaluation = True``) against the loop over points, on two
  networks without buffers (``fcn`` 3x256 and CNN-2-16 without BatchNorm), with the
  largest relative difference of the two answers;
* ``pair``: one pair end to end through :func:`topoloss.connect` (VGG-16-BN, default
  path options, 400 steps at batch 128) between two minima made from seeds, on
  CIFAR-sized random data (3x32x32, 10 classes, seeded), reading
  ``PathRecord.seconds_optimize`` and ``seconds_evaluate``;

then prints one table and, with ``--json FILE``, writes every number (the device named by
``torch.cuda.get_device_name``). Every ratio in the JSON is the quotient of two times in
the same JSON. With default sizes the whole run fits 10 minutes on an H100/H200.

Times on CUDA are wall time between ``torch.cuda.synchronize`` calls; on a CPU they are the
CPU time of this process (``time.process_time``), except the pair's, which are the wall times
that ``PathRecord`` stores. On a CPU, or with ``--quick``, every section runs reduced (small
models, tiny batches, 2-3 steps) in seconds, and the CUDA tests are skipped with a line that
says so; the test suite runs it that way (``tests/test_gpu_check.py``). The exit status is 1
when a CUDA test failed or a section raised (its error is in the table and the JSON), else 0.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _timing import per_call  # noqa: E402
from bench_curve_step import MODELS, random_landscape, step_functions, time_steps  # noqa: E402

import topoloss as tl  # noqa: E402
from topoloss.paths.curves import Bezier  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: The curve-step goal of issue 17 (curve step / plain step at batch 128).
STEP_GOAL = 1.10


@dataclass(frozen=True)
class Sizes:
    """What each section runs: the full sizes on a GPU, or the quick ones."""

    step_models: tuple[str, ...]
    step_batch: int
    step_n: int
    step_repeat: int
    vmap_models: tuple[str, ...]
    vmap_samples: int
    vmap_points: int
    pair_model: str
    pair_samples: int
    pair_batch: int
    pair_steps: int
    pair_n_eval: int | None  # None: the default evaluation


FULL = Sizes(("vgg16", "preresnet110"), 128, 20, 5, ("fcn", "cnn-nobn"), 10_000, 61,
             "vgg16", 10_000, 128, 400, None)
QUICK = Sizes(("digits-fcn", "tiny-cnn"), 8, 2, 2, ("digits-fcn", "tiny-cnn-nobn"), 64, 9,
              "tiny-cnn", 64, 16, 3, 5)

#: Parameter counts of the two reference networks (built in every run; the test checks them).
REFERENCE_MODELS = ("vgg16", "preresnet110")


def run_cuda_tests() -> dict[str, Any]:
    """``pytest -q -k cuda tests`` in a subprocess, counted from its JUnit XML."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "cuda.xml")
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "cuda",
               f"--junitxml={report}", "tests"]
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
        seconds = time.perf_counter() - start
        suite = ET.parse(report).getroot()
    if suite.tag == "testsuites":
        suite = suite[0]
    failing = [f"{case.get('classname')}::{case.get('name')}" for case in suite.iter("testcase")
               if case.find("failure") is not None or case.find("error") is not None]
    counts = {key: int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped")}
    passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    return {"ran": True, "command": " ".join(cmd[1:]), "returncode": done.returncode,
            "passed": passed, "failed": counts["failures"], "errors": counts["errors"],
            "skipped": counts["skipped"], "failing": failing, "seconds": seconds,
            "ok": done.returncode == 0 and passed > 0 and counts["skipped"] == 0,
            "tail": done.stdout[-2000:] if done.returncode else ""}


def check_curve_step(model: str, sizes: Sizes, device: torch.device, clock: str, *,
                     goal: float | None) -> dict[str, Any]:
    """Median seconds per step of :data:`bench_curve_step.STEP_LABELS` and their ratios to plain
    (``goal``: the ratio the curve step should stay within; ``None`` for the quick stand-ins)."""
    land = random_landscape(model, samples=sizes.step_batch, batch=sizes.step_batch, device=device)
    steps, (ours, theirs) = step_functions(land, model)
    if abs(ours - theirs) > 1e-3 * max(1.0, abs(theirs)):  # TF32 kernels on a GPU: not 1e-6
        raise RuntimeError(f"the reference curve network ({theirs:.6g}) and topoloss ({ours:.6g}) disagree "
                           "at t = 0.3; the comparison is void")
    med = time_steps(steps, n=sizes.step_n, repeat=sizes.step_repeat, device=device, clock=clock)
    out: dict[str, Any] = {"model": model, "P": land.dim, "batch": sizes.step_batch,
                           "loss_topoloss": ours, "loss_reference": theirs}
    out.update({f"{k}_s": v for k, v in med.items()})
    out.update({f"{k}_ratio": v / med["plain"] for k, v in med.items() if k != "plain"})
    out["goal"] = goal
    out["met"] = None if goal is None else bool(out["curve_ratio"] <= goal)
    return out


def check_vmap(model: str, sizes: Sizes, device: torch.device, clock: str) -> dict[str, Any]:
    """``ModelLandscape.loss`` of the points of one path, vectorized against the loop."""
    lands = {}
    for key, flag in (("loop", False), ("vmap", True)):
        lands[key] = random_landscape(model, samples=sizes.vmap_samples, batch=128, device=device)
        lands[key].vmap_evaluation = flag  # before the first loss: the points per pass are measured then
    land = lands["loop"]
    curve = Bezier(bends=1)
    a, b = land.initial_point(1), land.initial_point(2)
    t = torch.linspace(0, 1, sizes.vmap_points, device=device, dtype=land.dtype)
    with torch.no_grad():
        points = curve.at(a, b, curve.init_bends(a, b), t)
    values = {k: lnd.loss(points[:2]) for k, lnd in lands.items()}  # warm-up (and the per-pass probe)
    spent: dict[str, list[float]] = {k: [] for k in lands}
    for _ in range(2):  # alternate; keep the faster of two
        for key, lnd in lands.items():
            spent[key].append(per_call(lambda lnd=lnd, key=key: values.__setitem__(key, lnd.loss(points)),
                                       1, device, clock))
    loop_s, vmap_s = min(spent["loop"]), min(spent["vmap"])
    diff = float(((values["vmap"] - values["loop"]).abs() / values["loop"].abs().clamp_min(1e-12)).max())
    return {"model": model, "P": land.dim, "points": sizes.vmap_points, "samples": sizes.vmap_samples,
            "points_per_pass": lands["vmap"]._points_per_pass(), "loop_s": loop_s, "vmap_s": vmap_s,
            "speedup": loop_s / vmap_s, "max_rel_diff": diff}


def check_pair(sizes: Sizes, device: torch.device) -> dict[str, Any]:
    """One pair through :func:`topoloss.connect`; the record's optimization and evaluation times."""
    land = random_landscape(sizes.pair_model, samples=sizes.pair_samples, batch=sizes.pair_batch,
                            device=device)
    points = torch.stack([land.initial_point(seed) for seed in (1, 2)])
    options: dict[str, Any] = {"steps": sizes.pair_steps, "pairs": "all", "seed": 0}
    if sizes.pair_n_eval is not None:
        options["n_eval"] = sizes.pair_n_eval
    start = time.perf_counter()
    (path,) = tl.connect(land, points, progress=False, **options)
    total = time.perf_counter() - start
    return {"model": sizes.pair_model, "P": land.dim, "samples": sizes.pair_samples,
            "batch": sizes.pair_batch, "steps": sizes.pair_steps, "points_evaluated": int(len(path.t)),
            "barrier": float(path.barrier), "seconds_optimize": path.seconds_optimize,
            "seconds_evaluate": path.seconds_evaluate,
            "evaluate_over_optimize": path.seconds_evaluate / path.seconds_optimize,
            "seconds_connect": total}


def _guard(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``fn()``, or its error: one failing section does not cost the others."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - reported in the table and the JSON, exit 1
        traceback.print_exc()
        return {"error": f"{type(exc).__name__}: {exc}"}


def _device_info(device: torch.device) -> dict[str, Any]:
    info: dict[str, Any] = {"type": device.type, "torch": torch.__version__,
                            "threads": torch.get_num_threads()}
    if device.type == "cuda":
        info.update(name=torch.cuda.get_device_name(device), cuda=torch.version.cuda,
                    tf32_matmul=torch.backends.cuda.matmul.allow_tf32,
                    tf32_cudnn=torch.backends.cudnn.allow_tf32,
                    memory_gib=torch.cuda.get_device_properties(device).total_memory / 2**30)
    else:
        import platform

        info["name"] = platform.processor() or platform.machine()
    return info


def _table(report: dict[str, Any]) -> str:
    """The report as one plain-text table."""
    rows = [("section", "item", "time A", "time B", "ratio", "goal / note")]
    tests = report["cuda_tests"]
    if not tests.get("ran"):
        rows.append(("cuda tests", "skipped", "", "", "", tests.get("reason", tests.get("error", ""))))
    else:
        rows.append(("cuda tests", f"{tests['passed']} passed, {tests['failed']} failed, "
                     f"{tests['errors']} errors, {tests['skipped']} skipped", f"{tests['seconds']:.1f} s", "",
                     "", "ok" if tests["ok"] else "FAILED " + " ".join(tests["failing"])))
    for r in report["curve_step"]:
        if "error" in r:
            rows.append(("curve step", r.get("model", "?"), "", "", "", r["error"]))
            continue
        item = f"{r['model']} P={r['P']:,} batch {r['batch']}"
        rows.append(("curve step", item, f"plain {r['plain_s'] * 1e3:.2f} ms",
                     f"curve {r['curve_s'] * 1e3:.2f} ms", f"{r['curve_ratio']:.3f}",
                     (f"<= {r['goal']:.2f} {'met' if r['met'] else 'MISSED'}" if r["goal"] else "no goal (quick)")
                     + f"; flat {r['flat_ratio']:.3f}, "
                     f"reference {r['reference_ratio']:.3f}, leaf {r['leaf_ratio']:.3f}"))
    for r in report["vmap"]:
        if "error" in r:
            rows.append(("vmap eval", r.get("model", "?"), "", "", "", r["error"]))
            continue
        item = f"{r['model']} P={r['P']:,}, {r['points']} pts x {r['samples']} samples"
        rows.append(("vmap eval", item, f"loop {r['loop_s']:.3f} s", f"vmap {r['vmap_s']:.3f} s",
                     f"{r['speedup']:.2f}x", f"{r['points_per_pass']} pts/pass, max rel diff "
                     f"{r['max_rel_diff']:.1e}"))
    r = report["pair"]
    if "error" in r:
        rows.append(("pair", "", "", "", "", r["error"]))
    else:
        rows.append(("pair", f"{r['model']} {r['steps']} steps, batch {r['batch']}, {r['samples']} samples",
                     f"optimize {r['seconds_optimize']:.2f} s", f"evaluate {r['seconds_evaluate']:.2f} s",
                     f"{r['evaluate_over_optimize']:.2f}", f"evaluate / optimize; {r['points_evaluated']} "
                     f"points, barrier {r['barrier']:.4g}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row[:-1], widths)) + "  " + row[-1] for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def _finite(value: Any) -> bool:
    """Every number in ``value`` (nested dicts and lists) is finite."""
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="FILE", help="write every number to FILE")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="the reduced run (the default on a CPU)")
    size.add_argument("--full", action="store_true", help="the full sizes even on a CPU (slow)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--no-tests", action="store_true", help="do not run the CUDA tests")
    parser.add_argument("--pair-samples", type=int, default=None, help="training samples of the pair section")
    parser.add_argument("--pair-steps", type=int, default=None, help="optimizer steps of the pair section")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error(f"--device {args.device}: this torch sees no CUDA device")
    quick = args.quick or (device.type != "cuda" and not args.full)
    sizes = QUICK if quick else FULL
    if args.pair_samples is not None or args.pair_steps is not None:
        sizes = Sizes(**{**sizes.__dict__, "pair_samples": args.pair_samples or sizes.pair_samples,
                         "pair_steps": args.pair_steps or sizes.pair_steps})
    clock = "wall" if device.type == "cuda" else "cpu"
    if device.type == "cpu" and quick:
        torch.set_num_threads(1)
    start = time.perf_counter()
    report: dict[str, Any] = {"device": _device_info(device), "quick": quick, "clock": clock,
                              "sizes": sizes.__dict__}
    print(f"gpu_check on {report['device']['name']} ({device}), torch {torch.__version__}, "
          f"{'quick' if quick else 'full'} sizes, clock {clock}", flush=True)
    if device.type != "cuda":
        report["cuda_tests"] = {"ran": False, "reason": "no CUDA device: the CUDA tests were not run"}
        print("no CUDA: the CUDA tests are skipped", flush=True)
    elif args.no_tests:
        report["cuda_tests"] = {"ran": False, "reason": "--no-tests"}
    else:
        report["cuda_tests"] = _guard(run_cuda_tests)
    report["models"] = {name: sum(p.numel() for p in MODELS[name][0]().parameters()) for name in REFERENCE_MODELS}
    goal = None if quick else STEP_GOAL
    report["curve_step"] = [_guard(lambda m=m: check_curve_step(m, sizes, device, clock, goal=goal))
                            for m in sizes.step_models]
    report["vmap"] = [_guard(lambda m=m: check_vmap(m, sizes, device, clock)) for m in sizes.vmap_models]
    report["pair"] = _guard(lambda: check_pair(sizes, device))
    report["seconds_total"] = time.perf_counter() - start
    print(_table(report))
    print(f"total {report['seconds_total']:.1f} s wall")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2)
    sections = [report["cuda_tests"], *report["curve_step"], *report["vmap"], report["pair"]]
    failed = any("error" in s for s in sections) or (report["cuda_tests"].get("ran")
                                                     and not report["cuda_tests"].get("ok"))
    if not _finite(report):
        print("a number in the report is not finite", file=sys.stderr)
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
