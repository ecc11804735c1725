"""Large landscape graphs: the networkx route before against the array route, side by side.

Usage::

    python benchmarks/bench_graph_scale.py [--sizes 1e3 1e4 1e5 1e6] [--repeat 3] [--old COMMIT]

The *old* route is the code of ``--old`` (default: the last commit before the array-backed
graph), extracted with ``git archive`` into a temporary directory and imported from
there: ``LandscapeGraph.from_barriers`` built a networkx graph path by path, and
``loss_barcode`` ran GUDHI on every edge. The *new* route is this tree's:
``from_barriers`` on arrays, ``loss_barcode`` on the minimum spanning forest.

Part 1, in this process: for a dense random barrier matrix of ``E`` edges
(``n (n-1) / 2 >= E`` minima; random losses, barriers above both endpoints) it times,
best of ``--repeat`` (old route: once from 10^5 edges on), building the graph and the
barcode with saddles and merge partners, checks that both routes give the same bars,
saddles and merge partners, and prints the ratios. The row marked ``ties`` repeats the
largest size with barriers rounded to 0.01 (many equal barriers: the stable sort).

Part 2, in subprocesses: ``topoloss barcode FILE`` of both trees on the largest matrix
written as NPZ and as JSON (``LandscapeGraph.to_json``), wall time and peak resident
memory (the child's own ``ru_maxrss``); it checks the outputs agree.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
from _timing import best_of

REPO = Path(__file__).resolve().parents[1]
OLD_COMMIT = "304b9b6"  # the networkx-backed LandscapeGraph


def dense_matrix(n_edges: int, rng: np.random.Generator, *, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    n = math.ceil((1 + math.sqrt(1 + 8 * n_edges)) / 2)
    losses = rng.random(n)
    b = rng.random((n, n))
    if ties:
        b = np.round(b, 2)
    b = np.maximum(b, b.T) + np.maximum.outer(losses, losses)
    return losses, b


def extract(commit: str, into: str) -> Path:
    data = subprocess.run(["git", "-C", str(REPO), "archive", commit, "topoloss"],
                          check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return Path(into)




_OLD_WORKER = r"""
import pickle, sys, time
sys.path.insert(0, sys.argv[1])
from topoloss.topology.graph import LandscapeGraph
from topoloss.topology.persistence import loss_barcode
losses, b, repeat = pickle.load(sys.stdin.buffer)
loss_barcode(LandscapeGraph.from_barriers([0.0, 1.0], [[0, 2], [2, 0]]))  # warm: first-call imports
tb = tc = float("inf")
for _ in range(repeat):
    t0 = time.perf_counter(); g = LandscapeGraph.from_barriers(losses, b)
    t1 = time.perf_counter(); bc = loss_barcode(g); t2 = time.perf_counter()
    tb, tc = min(tb, t1 - t0), min(tc, t2 - t1)
pickle.dump((tb, tc, bc.intervals, bc.saddles, bc.merges_into), sys.stdout.buffer)
"""


def old_route(root: Path, losses: np.ndarray, b: np.ndarray, repeat: int) -> tuple:
    """Build + barcode with the old tree, in a child process (its own ``topoloss``)."""
    import pickle

    out = subprocess.run([sys.executable, "-c", _OLD_WORKER, str(root)], input=pickle.dumps((losses, b, repeat)),
                         capture_output=True, check=True, env={**os.environ, "PYTHONPATH": str(root)})
    return pickle.loads(out.stdout)


_CLI = ("import resource, sys; from topoloss.cli import main; code = main(); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(code)")


def run_cli(root: Path, path: Path) -> tuple[float, float, bytes]:
    """Wall seconds, peak MB and stdout of ``topoloss barcode PATH`` run from ``root``.

    Python runs under ``sh`` (a small process) in a scratch directory: a child forked
    straight from this large process would inherit its memory high-water mark, and
    ``python -c`` puts the working directory first on ``sys.path``. The child reports
    its own ``ru_maxrss`` (kB on Linux).
    """
    cmd = ["sh", "-c", f'"{sys.executable}" -c "$0" barcode "$1"', _CLI, str(path)]
    with tempfile.TemporaryDirectory() as cwd:
        t0 = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, cwd=cwd, env={**os.environ, "PYTHONPATH": str(root)})
        wall = time.perf_counter() - t0
    if out.returncode:
        raise RuntimeError(f"{cmd} exited with {out.returncode}: {out.stderr.decode()[-500:]}")
    return wall, int(out.stderr.decode().split()[-1]) / 1024, out.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e3, 1e4, 1e5, 1e6])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--old", default=OLD_COMMIT, help="commit of the networkx route")
    ap.add_argument("--no-cli", action="store_true", help="skip part 2")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from topoloss import LandscapeGraph, loss_barcode

    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; old route: {args.old}")
    loss_barcode(LandscapeGraph.from_barriers([0.0, 1.0], [[0, 2], [2, 0]]))  # warm: first-call imports (scipy)
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = extract(args.old, os.path.join(tmp, "old"))
        print(f"{'edges':>9} {'minima':>6} {'old build s':>11} {'old barcode s':>13} {'new build s':>11} "
              f"{'new barcode s':>13} {'old/new':>8}  same")
        cases = [(int(s), False) for s in args.sizes] + [(int(max(args.sizes)), True)]
        for size, ties in cases:
            losses, b = dense_matrix(size, rng, ties=ties)
            t_build, g = best_of(partial(LandscapeGraph.from_barriers, losses, b), args.repeat)
            t_bc, bc = best_of(partial(loss_barcode, g), args.repeat)
            old_repeat = args.repeat if size < 1e5 else 1
            o_build, o_bc, o_iv, o_sad, o_mer = old_route(root, losses, b, old_repeat)
            same = (np.array_equal(o_iv, bc.intervals) and o_sad == bc.saddles and o_mer == bc.merges_into)
            label = f"{size:>9}" if not ties else f"{'ties':>4}{size:>5.0e}"
            print(f"{label} {len(losses):>6} {o_build:>11.3f} {o_bc:>13.3f} {t_build:>11.3f} {t_bc:>13.3f} "
                  f"{(o_build + o_bc) / (t_build + t_bc):>8.1f}  {same}")
            assert same, "the two routes disagree"
        if args.no_cli:
            return
        losses, b = dense_matrix(int(max(args.sizes)), rng)
        files = {"npz": Path(tmp, "g.npz"), "json": Path(tmp, "g.json")}
        np.savez(files["npz"], losses=losses, barriers=b)
        LandscapeGraph.from_barriers(losses, b).to_json(files["json"])
        print(f"\n`topoloss barcode FILE`, {len(losses)} minima, {len(losses) * (len(losses) - 1) // 2} edges")
        print(f"{'file':>5} {'MB':>6} {'old s':>7} {'old peak MB':>11} {'new s':>7} {'new peak MB':>11}  same")
        for fmt, path in files.items():
            o_s, o_mb, o_out = run_cli(root, path)
            n_s, n_mb, n_out = run_cli(REPO, path)
            print(f"{fmt:>5} {path.stat().st_size / 2**20:>6.0f} {o_s:>7.2f} {o_mb:>11.0f} {n_s:>7.2f} {n_mb:>11.0f}  "
                  f"{o_out == n_out}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
