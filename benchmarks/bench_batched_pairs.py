"""Pairs per second when G pairs are optimized together (one vmapped forward/backward) against
the serial loop, and batched against looped exact evaluation, side by side in one run::

    python benchmarks/bench_batched_pairs.py [--threads 1] [--epochs 3 40] [--groups 1 4 16]

Models: the digits ``fcn`` (depth 2, width 32; depth 1, width 8) and the paper's
``cnn`` (1 layer of 8 channels, no BatchNorm) on 512 digits as 8x8 images. For each,
16 pairs of 7 trained minima are connected with ``group=G`` (Bézier(1)); the row
prints pairs per second end to end, the time spent optimizing and evaluating, and the
largest relative barrier difference to ``G=1`` (the paths are those of the serial
loop). Then 64 points are evaluated exactly with ``ModelLandscape.loss`` looped
(one point at a time, the CPU default) and vectorized (``vmap_evaluation=True``).
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch
from _timing import best_of

import topoloss as tl
from topoloss.data import dataset_info, load_dataset
from topoloss.errors import TopolossWarning
from topoloss.models import get_model

#: (label, dataset, model, training samples; None: all 1437)
MODELS = (
    ("fcn depth 2 width 32", "digits", "fcn:depth=2,width=32", None),
    ("fcn depth 1 width 8", "digits", "fcn:depth=1,width=8", None),
    ("cnn 1 layer 8 channels", "digits-images", "cnn:n_layers=1,channels=8", 512),
)


def landscape(data: str, model: str, samples: int | None) -> tl.ModelLandscape:
    train, _ = load_dataset(data)
    info = dataset_info(train)
    if samples is not None:
        train = torch.utils.data.Subset(train, range(samples))
    return tl.ModelLandscape(
        lambda: get_model(model, input_shape=info.input_shape, num_classes=info.num_classes), train)




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, nargs="+", default=[3], help="path epochs")
    parser.add_argument("--groups", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", TopolossWarning)  # straight-segment fallbacks of short runs
    for label, data, model, samples in MODELS:
        land = landscape(data, model, samples)
        minima = tl.train_minima(land, seeds=range(7), epochs=5, progress=False)
        pairs = [(i, j) for i in range(7) for j in range(i + 1, 7)][:16]
        for epochs in args.epochs:
            base: float | None = None
            ref: list[tl.PathRecord] = []
            for g in args.groups:
                t0 = time.perf_counter()
                paths = tl.connect(land, minima, pairs=pairs, epochs=epochs, curve=tl.Bezier(bends=1),
                                   group=g, progress=False)
                rate = len(pairs) / (time.perf_counter() - t0)
                base = base or rate
                ref = ref or paths
                worst = max(abs(p.barrier - q.barrier) / q.barrier for p, q in zip(paths, ref))
                optimize = sum(p.seconds_optimize for p in paths)
                evaluate = sum(p.seconds_evaluate for p in paths)
                print(f"{label}: {epochs} epochs, G={g:2d}: {rate:6.2f} pairs/s ({rate / base:.2f}x serial), "
                      f"optimization {optimize:.2f} s, evaluation {evaluate:.2f} s, "
                      f"largest relative barrier difference to serial {worst:.1e}", flush=True)
        points = torch.stack([land.initial_point(s) for s in range(64)])
        timings = {}
        for vmapped in (False, True, False, True):
            land.vmap_evaluation, land._per_pass = vmapped, None
            land.loss(points[:2])  # warm-up, and the points-per-pass probe
            timings.setdefault(vmapped, []).append(best_of(lambda land=land, points=points: land.loss(points))[0])
        looped, batched = min(timings[False]), min(timings[True])
        print(f"{label}: exact evaluation of 64 points over {land.n_train} samples: looped {looped:.3f} s, "
              f"vmapped {batched:.3f} s ({looped / batched:.2f}x the loop, {land._per_pass} points per pass)",
              flush=True)


if __name__ == "__main__":
    main()
