"""Screened against dense barrier evaluation: data passes, barrier agreement, and the CIFAR-scale
evaluation/optimization ratio, side by side in one run::

    nice -n 10 python benchmarks/bench_evaluation.py [--threads 1] [--screen 1024]

1. **Passes per pair.** One pair, Bézier(1), 60 steps, on: a 30-feature MLP with 400
   training samples (``make_classification``, seed 0), a small BatchNorm CNN
   (``CNN-1-16-BN``) on the digits images, and the small GPT on the shipped text. A forward
   hook on the model counts every sample it sees during the evaluation (curve + straight
   segment); ``passes`` = samples / training-set size (BatchNorm recompute passes
   included), split into the screening stage and the exact (full-data) stage.
2. **Agreement.** For >= 200 pairs (the same landscapes with more minima and seeds, a
   4000-sample MLP, and the analytic built-ins) each trained curve and its straight
   segment are evaluated densely and screened; the relative difference of the barriers
   (curve and straight, the larger) is reported: the share within 1e-3, the worst case,
   and every pair where screening missed the dense maximum by more than 1e-4.
3. **CIFAR-sized random data, VGG-16-BN, 400 steps, batch 128** (CPU): a few optimizer
   steps of the curve and a few forward passes are *timed*, and the cost of 400 steps and
   of each evaluation route (dense: 154 points x (BatchNorm pass + loss pass) over 50,000
   images; screened: the screening subsample at every point plus the exact points per
   pair measured on the BN CNN in part 1) is *extrapolated* from them.
4. **BatchNorm from a subsample.** At the dense arg-max of 6 BN-CNN pairs: the full-data
   loss with statistics from m samples against full-data statistics, and the screening
   estimate (statistics and loss on the subsample) against the exact loss.

CPU time (``time.process_time``), one torch thread.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling benchmark module below

import topoloss as tl  # noqa: E402
import topoloss.paths.optimize as optimize_module  # noqa: E402
from topoloss.config import EvaluationConfig, PathConfig  # noqa: E402
from topoloss.data import dataset_info, load_dataset  # noqa: E402
from topoloss.errors import TopolossWarning  # noqa: E402
from topoloss.models import get_model, gpt, sequence_cross_entropy  # noqa: E402
from topoloss.paths.optimize import optimize_pairs  # noqa: E402
from topoloss.paths.record import _straight  # noqa: E402
from topoloss.paths.screen import evaluate_screened, screen_size  # noqa: E402

GOAL_REL = 1e-3


# ---------------------------------------------------------------------- landscapes
def mlp(n: int) -> tl.ModelLandscape:
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=n, n_features=30, n_informative=10, random_state=0)
    return tl.ModelLandscape(lambda: nn.Sequential(nn.Linear(30, 32), nn.ReLU(), nn.Linear(32, 2)),
                             (torch.tensor(x, dtype=torch.float32), torch.tensor(y)), batch_size=64)


def bn_cnn() -> tl.ModelLandscape:
    train, _ = load_dataset("digits-images")
    info = dataset_info(train)
    return tl.ModelLandscape(lambda: get_model("CNN-1-16-BN", input_shape=info.input_shape,
                                               num_classes=info.num_classes), train, batch_size=64)


def text_gpt() -> tl.ModelLandscape:
    train, _ = load_dataset("text")
    info = dataset_info(train)
    return tl.ModelLandscape(lambda: gpt(info.num_classes, block_size=info.input_shape[0], n_layer=1,
                                         n_head=2, n_embd=16), train, loss=sequence_cross_entropy, batch_size=64)


class Counter:
    """Samples the model sees (a forward hook), in units of the training set."""

    def __init__(self, land: tl.ModelLandscape) -> None:
        self.n, self.size = 0, land.n_train
        land.model.register_forward_hook(self._hook)
        self.land = land

    def _hook(self, _m: nn.Module, args: tuple, _out: object) -> None:
        self.n += int(args[0].shape[0])

    def passes(self, fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
        start = self.n
        out = fn(*args, **kwargs)
        return (self.n - start) / self.size, out


def _train(land: tl.ModelLandscape, k: int, epochs: int) -> tl.Minima:
    return tl.train_minima(land, seeds=range(k), epochs=epochs, lr=0.05, progress=False)


def _evaluate_both(land, paths, minima, screen: int, seed: int, counter: Counter | None):  # noqa: ANN001, ANN202
    """Dense records -> screened profiles of the same curves; per pair: (rel diff, screened passes,
    screening passes, exact points)."""
    out = []
    names = list(minima.names)
    for p in paths:
        items = [(p.curve, p.start, p.end, p.bends), _straight(p.start, p.end)]
        ends = [(float(minima.losses[names.index(p.u)]), float(minima.losses[names.index(p.v)]))] * 2
        screening = [0]
        orig = land.sample_losses

        def counted(points, indices, orig=orig, screening=screening):  # noqa: ANN001, ANN202
            screening[0] += points.shape[0] * len(indices)
            return orig(points, indices)

        land.sample_losses = counted
        try:
            if counter is not None:
                passes, prof = counter.passes(evaluate_screened, land, items, screen=screen, seed=seed, ends=ends)
            else:
                passes, prof = math.nan, evaluate_screened(land, items, screen=screen, seed=seed, ends=ends)
        finally:
            del land.sample_losses
        curve, line = (float(np.max(q.losses)) for q in prof)
        rel = max(abs(curve - float(np.max(p.losses))) / abs(float(np.max(p.losses))),
                  abs(line - p.linear_barrier) / abs(p.linear_barrier))
        missed = max((float(np.max(p.losses)) - curve) / abs(float(np.max(p.losses))),
                     (p.linear_barrier - line) / abs(p.linear_barrier))
        n = max(1, getattr(land, "n_samples", 0))
        exact = sum(q.t.size - 2 for q in prof)  # the endpoints come with the minima
        out.append((rel, missed, passes, screening[0] / n, exact, f"{p.u}-{p.v}"))
    return out


def _connect(land, minima, pairs, seed: int, steps: int = 60):  # noqa: ANN001, ANN202
    paths = PathConfig(curve=tl.Bezier(bends=1), steps=steps, lr=None)
    return optimize_pairs(land, minima, pairs, paths=paths, evaluation=EvaluationConfig(screen=0), seed=seed,
                          progress=False)


# ---------------------------------------------------------------------- part 1
def passes_per_pair(screen: int) -> dict[str, float]:
    print("## 1. evaluation passes per pair (curve + straight), forward hook; Bezier(1), 60 steps\n")
    print("| landscape | N | subsample | dense passes | screened passes | of which screening | exact points "
          "| rel. barrier diff |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    exact_bn = math.nan
    for label, make, epochs in (("MLP 30 features", lambda: mlp(400), 10), ("CNN-1-16-BN digits", bn_cnn, 4),
                                ("GPT (1 layer) text", text_gpt, 2)):
        land = make()
        counter = Counter(land)
        minima = _train(land, 2, epochs)
        dense_passes, (path,) = counter.passes(_connect, land, minima, [(0, 1)], seed=0)
        # subtract the optimization (60 mini-batch steps, counted the same way)
        opt = 60 * min(land.batch_size, land.n_train) / land.n_train
        ((rel, _missed, passes, screening, exact, _),) = _evaluate_both(land, [path], minima, screen, 0, counter)
        print(f"| {label} | {land.n_train} | {screen_size(screen, land.n_train)} | {dense_passes - opt:.1f} | "
              f"{passes:.1f} | {screening:.1f} | {exact} | {rel:.1e} |")
        if "BN" in label:
            exact_bn = exact
    print()
    return {"exact_bn": exact_bn}


# ---------------------------------------------------------------------- part 2
def agreement(screen: int) -> None:
    print("## 2. barrier agreement, screened vs dense, same curves\n")
    rows = []
    specs = [("MLP N=400", lambda: mlp(400), 7, 10, (0, 1, 2)),
             ("MLP N=4000", lambda: mlp(4000), 6, 5, (0, 1)),
             ("CNN-1-16-BN digits", bn_cnn, 4, 4, (0, 1)),
             ("GPT text", text_gpt, 3, 2, (0, 1))]
    for label, make, k, epochs, seeds in specs:
        land = make()
        minima = _train(land, k, epochs)
        pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
        for seed in seeds:
            paths = _connect(land, minima, pairs, seed=seed)
            rows += [(label, *r) for r in _evaluate_both(land, paths, minima, screen, seed, None)]
    for name in ("himmelblau", "six-hump-camel", "rastrigin", "styblinski-tang", "holder-table", "sextic",
                 "gaussian-wells", "styblinski-tang-3d"):
        land = tl.analytic.get_landscape(name)
        minima = tl.find_minima(land, 16, seed=0)
        k = min(len(minima), 7)
        pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
        paths = _connect(land, minima, pairs, seed=0)
        rows += [(name, *r) for r in _evaluate_both(land, paths, minima, screen, 0, None)]
    rel = np.array([r[1] for r in rows])
    print(f"pairs: {len(rows)}; within {GOAL_REL:g} relative: {np.mean(rel <= GOAL_REL):.1%}; "
          f"worst {rel.max():.2e} ({rows[int(rel.argmax())][0]}, {rows[int(rel.argmax())][-1]})")
    by = {}
    for r in rows:
        by.setdefault(r[0], []).append(r)
    print("\n| landscape | pairs | worst rel. diff | exact points per pair (mean, max) | screening passes |")
    print("|---|---:|---:|---:|---:|")
    for label, rs in by.items():
        ex = [r[5] for r in rs]
        print(f"| {label} | {len(rs)} | {max(r[1] for r in rs):.1e} | {np.mean(ex):.1f}, {max(ex)} | "
              f"{np.mean([r[4] for r in rs]):.1f} |")
    missed = [r for r in rows if r[2] > 1e-4]
    print(f"\npairs where screening missed the dense maximum by > 1e-4 relative: {len(missed)}")
    for r in missed:
        print(f"  {r[0]} {r[-1]}: {r[2]:.2e}")
    print()


# ---------------------------------------------------------------------- part 3
def cifar_ratio(screen: int, exact_points: float, threads: int) -> None:
    from bench_curve_step import vgg16

    from topoloss.paths._curve_step import curve_objective

    print("## 3. VGG-16-BN on CIFAR-sized random data (50,000 x 3x32x32, 10 classes), 400 steps, batch 128\n")
    gen = torch.Generator().manual_seed(0)
    n_probe = 256  # the landscape holds a few batches; the counts are scaled to 50,000 images
    x = torch.randn(n_probe, 3, 32, 32, generator=gen)
    y = torch.randint(0, 10, (n_probe,), generator=gen)
    torch.manual_seed(0)
    land = tl.ModelLandscape(vgg16, (x, y), batch_size=128)
    a, b = land.initial_point(0), land.initial_point(1)
    curve = tl.Bezier(bends=1)
    bends = curve.init_bends(a.unsqueeze(0), b.unsqueeze(0))[0].requires_grad_(True)
    objective = curve_objective(land, curve, a.unsqueeze(0), b.unsqueeze(0), bends.unsqueeze(0), 0.0)
    opt = torch.optim.Adam(objective.parameters(), lr=1e-3)
    batches = land.batches(generator=torch.Generator().manual_seed(0))
    steps = 3
    objective(torch.rand(1, 1), [next(batches)])  # warm-up
    t0 = time.process_time()
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        objective(torch.rand(1, 1), [next(batches)])
        opt.step()
    step = (time.process_time() - t0) / steps
    model = land.model
    with torch.no_grad():
        model.eval()
        model(x[:128])
        t0 = time.process_time()
        for _ in range(2):
            model(x[:128])
        per_image = (time.process_time() - t0) / (2 * 128)
    big = 50_000
    n = screen_size(screen, big)
    points = 2 * 77  # curve + straight segment: 61 grid points + 16 refinement candidates each
    dense_images = points * 2 * big  # BatchNorm recompute pass + loss pass per point
    screened_images = points * 2 * n + exact_points * 2 * big
    optimization = 400 * step
    print(f"timed: {steps} curve steps at batch 128: {step:.2f} s/step; forward {per_image * 1e3:.2f} ms/image "
          f"(eval mode, batch 128); extrapolated:")
    print("\n| route | evaluation images per pair | evaluation (s) | optimization (s) | evaluation / optimization |")
    print("|---|---:|---:|---:|---:|")
    for route, images in (("dense (screen=0)", dense_images), (f"screened (screen={screen}, n={n})",
                                                                screened_images)):
        seconds = images * per_image
        print(f"| {route} | {images / 1e6:.2f} M | {seconds:.0f} | {optimization:.0f} | "
              f"{seconds / optimization:.2f} |")
    print(f"\n(exact points per pair: {exact_points:g}, measured on the BN CNN in part 1; each costs a "
          f"BatchNorm pass and a loss pass over the 50,000 images; threads={threads})\n")


# ---------------------------------------------------------------------- part 4
def batchnorm_subsample(screen: int) -> None:
    """The loss at each pair's dense arg-max with BatchNorm statistics from m samples against the
    full-data statistics (both evaluated on the full data), and the screening estimate there."""
    print("## 4. BatchNorm statistics from a subsample, CNN-1-16-BN digits, at the dense arg-max of 6 pairs\n")
    land = bn_cnn()
    minima = _train(land, 4, 4)
    paths = _connect(land, minima, [(i, j) for i in range(4) for j in range(i + 1, 4)], seed=0)
    x, y = land.tensors("train")
    n = screen_size(screen, land.n_train)
    sizes = (n, 128, 256, 512)
    diffs: dict[int, list[float]] = {m: [] for m in sizes}
    est = []
    for p in paths:
        theta = p.points([p.t_max])[0]
        exact = float(land.loss(theta.unsqueeze(0))[0])
        for m in sizes:
            rows = torch.randperm(land.n_train, generator=torch.Generator().manual_seed(0))[:m]
            state = {**land.params(theta), **land._statistics(theta, rows)}
            land._set_mode(False)
            with torch.no_grad():
                value = float(land.loss_fn(land._forward(state, x), y))
            diffs[m].append(abs(value - exact) / exact)
        rows = torch.randperm(land.n_train, generator=torch.Generator().manual_seed(0))[:n]
        est.append(abs(float(land.sample_losses(theta.unsqueeze(0), rows).mean()) - exact) / exact)
    print("| BatchNorm statistics from | median rel. diff of the loss | max |")
    print("|---|---:|---:|")
    for m in sizes:
        print(f"| {m} samples | {np.median(diffs[m]):.1e} | {max(diffs[m]):.1e} |")
    print(f"\nscreening estimate (n={n}, statistics and loss on the subsample) vs exact: median "
          f"{np.median(est):.1e}, max {max(est):.1e}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--screen", type=int, default=EvaluationConfig().screen)
    parser.add_argument("--parts", default="1234")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", TopolossWarning)
    assert optimize_module.evaluate_screened is evaluate_screened
    t0 = time.process_time()
    found = {"exact_bn": 8.0}
    if "1" in args.parts:
        found = passes_per_pair(args.screen)
    if "2" in args.parts:
        agreement(args.screen)
    if "3" in args.parts:
        cifar_ratio(args.screen, found["exact_bn"], args.threads)
    if "4" in args.parts:
        batchnorm_subsample(args.screen)
    print(f"CPU time: {time.process_time() - t0:.0f} s")


if __name__ == "__main__":
    main()
