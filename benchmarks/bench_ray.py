"""The Ray executor with 2 local workers against the serial executor on the same pairs.

    PYTHONPATH=. python benchmarks/bench_ray.py [--pairs 16] [--epochs 2]

Digits ``fcn:depth=1,width=16``: 7 minima give 21 pairs, of which the first ``--pairs`` run
(explicit pairs), one pair per task, one torch thread per worker. Reports the seconds of
each, the speed-up, and the largest difference between the barriers.
"""

from __future__ import annotations

import argparse
import itertools
import time

import ray
import torch

import topoloss as tl
from topoloss.data import digits
from topoloss.models import fcn


def _model():
    return fcn(64, 10, depth=1, width=16)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pairs", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(1)  # the same arithmetic as one-thread workers; serial on one core
    train, test = digits()
    land = tl.ModelLandscape(_model, train, test_data=test)
    minima = tl.train_minima(land, seeds=range(7), epochs=2, progress=False)
    pairs = list(itertools.combinations(minima.names, 2))[: args.pairs]
    kw = dict(minima=minima, pairs=pairs, curve=tl.Bezier(bends=1), epochs=args.epochs, seed=0, progress=False)
    t0 = time.perf_counter()
    serial = tl.analyze(land, **kw)
    t_serial = time.perf_counter() - t0
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    t0 = time.perf_counter()
    far = tl.analyze(land, executor="ray", **kw)
    t_ray = time.perf_counter() - t0
    diff = max(abs(a.barrier - b.barrier) for a, b in zip(serial.paths, far.paths))
    print(f"pairs {len(pairs)}: serial {t_serial:.1f} s, ray (2 workers) {t_ray:.1f} s, "
          f"speed-up {t_serial / t_ray:.2f}x, max |barrier difference| {diff:.3g}")
    ray.shutdown()


if __name__ == "__main__":
    main()
