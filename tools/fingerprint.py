"""Fingerprint the numbers topoloss computes, to check a refactor changed none of them.

Runs ``tl.analyze`` on six built-in analytic landscapes with every curve family and two
planners (``all``, ``adaptive``), and ``topoloss demo`` (digits, model minima, screened
evaluation, metrics), and writes every barcode, TO-score, barrier, straight barrier and
a hash of every path's grid, losses, bends and metrics (about 575 entries, ~20 s)::

    python tools/fingerprint.py before.json     # on the old commit
    python tools/fingerprint.py after.json      # on the new one
    python tools/fingerprint.py --compare before.json after.json   # exit 1 on any difference

Run it from the checkout to fingerprint (it imports topoloss from the working directory).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

LANDSCAPES = ("six-hump-camel", "himmelblau", "sextic", "gaussian-wells", "rastrigin", "styblinski-tang-3d")
CURVES = ("bezier", "polychain", "chain")
PLANNERS = ("all", "adaptive")


def digest(values: Any) -> str:
    import numpy as np

    array = np.ascontiguousarray(np.asarray(values, dtype=float))
    return hashlib.sha256(array.tobytes()).hexdigest()[:16]


def analytic_entries(out: dict[str, Any]) -> None:
    import topoloss as tl

    for name in LANDSCAPES:
        land = tl.analytic.get_landscape(name)
        for curve in CURVES:
            for pairs in PLANNERS:
                key = f"{name}/{curve}/{pairs}"
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = tl.analyze(land, progress=False, curve=tl.make_curve(curve), pairs=pairs, steps=40, seed=0)
                out[key + "/intervals"] = [[repr(float(b)), repr(float(d))] for b, d in res.barcode.intervals]
                out[key + "/to_score"] = repr(float(res.to_score))
                for p in res.paths:
                    path_key = f"{key}/path/{p.u}-{p.v}"
                    out[path_key] = [repr(float(p.barrier)), repr(float(p.linear_barrier)), digest(p.t),
                                     digest(p.losses), digest(p.bends.numpy())]
                    for metric, values in (p.metrics or {}).items():
                        out[f"{path_key}/{metric}"] = digest(values)


def demo_entries(out: dict[str, Any]) -> None:
    from safetensors.numpy import load_file

    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder) / "demo"
        proc = subprocess.run([sys.executable, "-m", "topoloss.cli", "demo", "-q", "--run", str(run)],
                              capture_output=True, text=True, check=False,
                              env={**os.environ, "PYTHONPATH": os.getcwd()})
        if proc.returncode != 0:
            raise SystemExit(f"topoloss demo failed:\n{proc.stderr[-2000:]}")
        out["demo/stdout"] = [line for line in proc.stdout.splitlines()[-6:] if "report:" not in line]
        out["demo/barcode.json"] = json.dumps(json.loads((run / "barcode.json").read_text()), sort_keys=True)
        for file in sorted((run / "paths").glob("*.safetensors")):
            out[f"demo/paths/{file.name}"] = {k: digest(v) for k, v in sorted(load_file(file).items())}


def compare(before: str, after: str) -> int:
    a, b = json.loads(Path(before).read_text()), json.loads(Path(after).read_text())
    differ = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    for key in differ[:40]:
        print(f"DIFF {key}\n  before: {a.get(key)}\n  after:  {b.get(key)}")
    print(f"{len(differ)} of {len(set(a) | set(b))} entries differ")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", help="OUT.json, or two files after --compare")
    parser.add_argument("--compare", action="store_true", help="compare two fingerprints")
    args = parser.parse_args()
    if args.compare:
        if len(args.files) != 2:
            parser.error("--compare takes two files")
        return compare(*args.files)
    sys.path.insert(0, os.getcwd())
    import torch

    torch.set_num_threads(1)
    out: dict[str, Any] = {}
    analytic_entries(out)
    demo_entries(out)
    Path(args.files[0]).write_text(json.dumps(out, indent=0, sort_keys=True))
    print(f"{len(out)} entries -> {args.files[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
