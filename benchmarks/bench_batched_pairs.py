"""Pairs per second when G pairs are optimized together (one vmapped forward/backward) against
the serial loop, on the digits nets, side by side in one run::

    python benchmarks/bench_batched_pairs.py [--threads 1] [--epochs 3]

Each row optimizes the same pairs with ``group=G``; barriers are printed to show that
the paths are those of the serial loop.
"""

from __future__ import annotations

import argparse
import time

import torch

import topoloss as tl
from topoloss.data import digits
from topoloss.models import fcn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3, help="path epochs")
    parser.add_argument("--groups", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train, _ = digits()
    for label, width, depth in (("fcn depth 2 width 32", 32, 2), ("fcn depth 1 width 8", 8, 1)):
        land = tl.ModelLandscape(lambda w=width, d=depth: fcn(64, 10, depth=d, width=w), train)
        minima = tl.train_minima(land, seeds=range(7), epochs=5, progress=False)
        pairs = [(i, j) for i in range(7) for j in range(i + 1, 7)][:16]
        base: float | None = None
        ref: list[tl.PathRecord] = []
        for g in args.groups:
            t0 = time.perf_counter()
            paths = tl.connect(land, minima, pairs=pairs, epochs=args.epochs, curve=tl.Bezier(bends=1),
                               group=g, progress=False)
            rate = len(pairs) / (time.perf_counter() - t0)
            base = base or rate
            ref = ref or paths
            worst = max(abs(p.barrier - q.barrier) / q.barrier for p, q in zip(paths, ref))
            optimize = sum(p.seconds_optimize for p in paths)
            print(f"{label}: G={g:2d}: {rate:6.2f} pairs/s ({rate / base:.2f}x serial), "
                  f"optimization {optimize:.1f} s, largest relative barrier difference to serial {worst:.1e}")


if __name__ == "__main__":
    main()
