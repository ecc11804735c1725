"""What the metrics along a path cost next to its barrier evaluation (passes and CPU time).

For one pair (a Bézier curve with one bend, the default 61-point evaluation with 2
refinement rounds, plus the straight segment) on two networks, side by side in one run:
the full-data passes of the barrier evaluation and of :func:`topoloss.paths.metrics.metrics_along`
at the curve's ``t`` (counted with a forward hook on the model, by the batch size that
reaches it), and their CPU time (``time.process_time``, one torch thread, best of 3)::

    python benchmarks/bench_path_metrics.py

The metrics cost one training pass and one test pass per point of the curve's profile;
the training pass repeats the evaluation's pass at the same point (it gives the accuracy)
and can be fused with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import nn

from topoloss.landscapes.model import ModelLandscape
from topoloss.paths.curves import Bezier
from topoloss.paths.metrics import metrics_along
from topoloss.paths.record import _straight, evaluate_curves


def mlp30() -> ModelLandscape:
    """The issue's MLP: 30 features, 400 training and 100 test samples, 4 classes."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(500, 30, generator=g)
    y = x[:, :4].argmax(1)
    return ModelLandscape(lambda: nn.Sequential(nn.Linear(30, 64), nn.ReLU(), nn.Linear(64, 4)),
                          (x[:400], y[:400]), test_data=(x[400:], y[400:]))


def digits_fcn() -> ModelLandscape:
    """``fcn:depth=2,width=32`` on the digits (1 437 training, 360 test images)."""
    from topoloss.data import digits
    from topoloss.models import fcn

    train, test = digits()
    return ModelLandscape(lambda: fcn(64, 10, depth=2, width=32), train, test_data=test)


def measure(name: str, make: Callable[[], ModelLandscape]) -> None:
    land = make()
    counts = {"train": 0, "test": 0}
    sizes = {min(land.n_train, land.eval_batch_size): "train", min(land.n_test, land.eval_batch_size): "test"}

    def hook(module: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        split = sizes.get(args[0].shape[0])
        if split is not None:
            counts[split] += 1

    land.model.register_forward_hook(hook)
    a, b = land.initial_point(0), land.initial_point(1)
    curve = Bezier(bends=1)
    bends = curve.init_bends(a[None], b[None])[0] + 0.01 * torch.randn(1, land.dim, dtype=a.dtype,
                                                                        generator=torch.Generator().manual_seed(0))
    items = [(curve, a, b, bends), _straight(a, b)]
    best = [float("inf"), float("inf")]
    for _ in range(3):
        counts.update(train=0, test=0)
        c0 = time.process_time()
        (t, y), _ = evaluate_curves(land, items)
        c1 = time.process_time()
        evaluation = dict(counts)
        counts.update(train=0, test=0)
        metrics_along(land, items[0], t, y)
        c2 = time.process_time()
        best = [min(best[0], c1 - c0), min(best[1], c2 - c1)]
    print(f"| {name} | {evaluation['train']} | {best[0]:.3f} | {t.size} | {counts['train']} + {counts['test']} | "
          f"{best[1]:.3f} | {best[1] / best[0]:.2f} |")


def main() -> int:
    torch.set_num_threads(1)
    print("| network | evaluation: train passes | CPU s | profile points | metrics: train + test passes "
          "| CPU s | metrics / evaluation |")
    print("|---|---|---|---|---|---|---|")
    measure("MLP, 30 features, 400 + 100 samples", mlp30)
    measure("fcn:depth=2,width=32, digits", digits_fcn)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
