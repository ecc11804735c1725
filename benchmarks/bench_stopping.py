"""What ``until="certified"`` saves against the adaptive planner's 3N budget, and at what cost.

For each landscape, on the *same* minima: the all-pairs barcode (the reference), the
adaptive planner spending its budget (``until="budget"``, default), and the adaptive
planner stopping as soon as every bar is certified (``until="certified"``). Reports paths
run, bars certified at the end, and the bottleneck distance of each barcode to the
all-pairs one as a fraction of the all-pairs barcode's span (as ``bench_planner.py``).
Every run is a real run of the engine (``group=1`` so that a stop can fall between pairs).

    PYTHONPATH=. python benchmarks/bench_stopping.py [--skip-digits | --skip-analytic] [--digits 8 16]
        [--json rows.json]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import gudhi
import torch

import topoloss as tl
from topoloss.analytic import get_landscape
from topoloss.analytic.compare import value_range
from topoloss.analytic.functions import rastrigin
from topoloss.errors import TopolossWarning
from topoloss.minima.find import find_minima


def row(name: str, land, minima, **kw) -> dict:
    runs = {}
    for label, options in (("all", {"pairs": "all"}), ("budget", {"pairs": "adaptive"}),
                           ("certified", {"pairs": "adaptive", "until": "certified"})):
        t0 = time.process_time()
        runs[label] = tl.analyze(land, minima=minima, progress=False, group=1, **options, **kw)
        runs[label + "_cpu"] = time.process_time() - t0
    ref = runs["all"].barcode
    span = value_range(ref) or 1.0
    out = {"landscape": name, "n": len(minima), "all": len(runs["all"].paths)}
    for label in ("budget", "certified"):
        r = runs[label]
        out[label] = len(r.paths)
        out[label + "_off"] = gudhi.bottleneck_distance(r.barcode.intervals, ref.intervals) / span
        out[label + "_certified"] = sum(c.certified for c in r.bar_checks())
        out[label + "_stopped"] = r.stopped
        out[label + "_cpu"] = runs[label + "_cpu"]
    print(f"| {name} | {out['n']} | {out['all']} | {out['budget']} | {out['budget_certified']} of {out['n']} | "
          f"{out['budget_off']:.2%} | {out['certified']} | {out['budget'] - out['certified']} | "
          f"{out['certified_off']:.2%} | {out['certified_stopped'] or '-'} |", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=100, help="path steps on the analytic landscapes")
    ap.add_argument("--digits", type=int, nargs="*", default=[8], help="numbers of digits minima")
    ap.add_argument("--skip-digits", action="store_true")
    ap.add_argument("--skip-analytic", action="store_true")
    ap.add_argument("--json", help="write the rows to this JSON file")
    args = ap.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", TopolossWarning)
    print("| landscape | N | all pairs | budget: paths | budget: certified | budget: off / span | "
          "certified: paths | saved | certified: off / span | stopped by |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    rows = []
    for name in () if args.skip_analytic else ("six-hump-camel", "holder-table", "styblinski-tang-3d"):
        land = get_landscape(name)
        rows.append(row(name, land, find_minima(land, 32, seed=0), steps=args.steps, seed=0))
    land = rastrigin(bounds=(-3.5, 3.5))
    found = find_minima(land, 160, seed=0)
    for n in () if args.skip_analytic else (8, 16):
        rows.append(row("rastrigin 7×7", land, found.subset(range(n)), steps=args.steps, seed=0))
    if not args.skip_digits and args.digits:
        from topoloss.data import digits
        from topoloss.models import fcn

        train, test = digits()
        net = tl.ModelLandscape(lambda: fcn(64, 10, depth=2, width=32), train, test_data=test)
        trained = tl.train_minima(net, seeds=range(max(args.digits)), epochs=20, progress=False)
        for n in args.digits:
            rows.append(row("digits fcn 2×32", net, trained.subset(range(n)), curve=tl.Bezier(bends=1), epochs=40,
                            seed=0))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
