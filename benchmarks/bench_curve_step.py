"""Time one curve-optimization step against one plain training step of the same model.

Usage::

    python benchmarks/bench_curve_step.py [--model cnn|fcn|vgg16|resnet110]
        [--device cpu|cuda] [--batch 128] [--steps 10] [--repeat 5]
        [--train-size 256] [--eval-points 61] [--threads N]

In one run, on the same model and the same mini-batch, it times alternately:

* ``plain``: ``model(x)``, cross-entropy, ``backward``, ``SGD.step`` on a normal module;
* ``leaf``: the same step through ``landscape.objective`` on a leaf point ``θ``
  (the cost of the stateless evaluation alone);
* ``curve``: one step of a ``Bezier(bends=1)`` curve as :func:`topoloss.connect`
  takes it: ``t ~ U(0, 1)``, the point ``φ(t)`` as one fused combination of
  ``[a; bend; b]`` (:meth:`topoloss.paths.curves.Curve.at`), ``landscape.objective``
  (``torch.func.functional_call`` on views of the flat point), ``backward`` into the
  bend tensor, ``SGD.step`` on it;
* ``fused``: the same curve step with the point built as
  ``addmm(w_b b + w_a a, w_bend, bends)`` instead of ``Curve.at``'s matrix product
  with the concatenated ``[a; bends; b]`` (a reference for what the point
  construction costs: its backward then writes only the ``(k, P)`` bend gradient).

It prints the median time per step of each and their ratio, then the time to
evaluate a path's ``--eval-points`` points exactly with ``landscape.loss`` on a
training set of ``--train-size`` samples (BatchNorm statistics recomputed at every
point when the model has BatchNorm), next to a plain-torch loop doing the same work
(``vector_to_parameters``, ``reset_running_stats``, train-mode pass, eval pass),
after one warm-up point, the faster of two alternating runs each.
Data are random images (the timing does not depend on their values).

Models: ``cnn`` (default; the paper's CNN-2-16 with BatchNorm), ``fcn`` (3 hidden
layers of 256), ``vgg16`` (VGG-16 with BatchNorm for 32x32 inputs, 15M parameters,
built here) and ``resnet110`` (:func:`topoloss.models.resnet` ``(110)``: the CIFAR
ResNet-110, 1.7M parameters, post-activation; same size as PreResNet-110).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import vector_to_parameters

from topoloss.landscapes.model import ModelLandscape
from topoloss.models import cnn, fcn, resnet
from topoloss.paths.curves import Bezier

_VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def vgg16(num_classes: int = 10) -> nn.Sequential:
    """VGG-16 with BatchNorm for 32x32 images (as in mode-connectivity work)."""
    layers: list[nn.Module] = []
    c = 3
    for v in _VGG16:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(c, int(v), 3, padding=1), nn.BatchNorm2d(int(v)), nn.ReLU()]
            c = int(v)
    layers += [nn.Flatten(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
               nn.Linear(512, num_classes)]
    return nn.Sequential(*layers)


MODELS: dict[str, Callable[[], nn.Module]] = {
    "cnn": lambda: cnn(2, 16, batch_norm=True),
    "fcn": lambda: fcn(3 * 32 * 32, 10, depth=3, width=256),
    "vgg16": vgg16,
    "resnet110": lambda: resnet(110),
}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(step: Callable[[], None], n: int, device: torch.device) -> float:
    _sync(device)
    start = time.perf_counter()
    for _ in range(n):
        step()
    _sync(device)
    return (time.perf_counter() - start) / n


def _plain_path_eval(factory: Callable[[], nn.Module], points: torch.Tensor, x: torch.Tensor,
                     y: torch.Tensor, batch: int, device: torch.device) -> None:
    model = factory().to(device)
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.momentum = None
    with torch.no_grad():
        for p in points:
            vector_to_parameters(p, model.parameters())
            if norms:
                for m in norms:
                    m.reset_running_stats()
                model.train()
                for s in range(0, len(x) - batch + 1, batch):
                    model(x[s:s + batch])
            model.eval()
            total = torch.zeros((), device=device)
            for s in range(0, len(x), 1024):
                total += F.cross_entropy(model(x[s:s + 1024]), y[s:s + 1024]) * len(x[s:s + 1024])
            float(total)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="cnn")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10, help="steps per timed block")
    parser.add_argument("--repeat", type=int, default=5, help="alternating blocks of each")
    parser.add_argument("--train-size", type=int, default=256)
    parser.add_argument("--eval-points", type=int, default=61)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    factory = MODELS[args.model]
    g = torch.Generator().manual_seed(0)
    n = max(args.train_size, args.batch)
    x = torch.randn(n, 3, 32, 32, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    land = ModelLandscape(factory, (x, y), batch_size=args.batch, device=device, seed=0)
    print(f"model={args.model} P={land.dim:,} device={device} batch={args.batch} "
          f"threads={torch.get_num_threads()} torch={torch.__version__}")

    # plain training step
    model = factory().to(device).train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    xb, yb = next(land.batches())

    def plain() -> None:
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(xb), yb).backward()
        opt.step()

    # Bezier(bends=1) curve step, as topoloss.connect takes it
    curve = Bezier(bends=1)
    a, b = land.initial_point(1), land.initial_point(2)
    bends = curve.init_bends(a, b).requires_grad_(True)
    copt = torch.optim.SGD([bends], lr=1e-3, momentum=0.9)
    tgen = torch.Generator().manual_seed(0)

    def curve_step() -> None:
        t = torch.rand(1, generator=tgen, dtype=torch.float64).to(device, land.dtype)
        copt.zero_grad(set_to_none=True)
        land.objective(curve.at(a, b, bends, t), (xb, yb)).sum().backward()
        copt.step()

    # the same step with the point built without the (k + 2, P) control matrix:
    # w_a a + w_b b (no gradient) + w_bend @ bends, so backward writes only (k, P)
    fbends = bends.detach().clone().requires_grad_(True)
    fopt = torch.optim.SGD([fbends], lr=1e-3, momentum=0.9)

    def fused_step() -> None:
        t = torch.rand(1, generator=tgen, dtype=torch.float64).to(device, land.dtype)
        w = curve.weights(t, 1)
        point = torch.addmm(torch.mul(b, w[:, -1:]).addcmul_(w[:, :1], a), w[:, 1:-1], fbends)
        fopt.zero_grad(set_to_none=True)
        land.objective(point, (xb, yb)).sum().backward()
        fopt.step()

    # the landscape alone: the same step on a leaf point (no curve around it)
    theta = a.clone().requires_grad_(True)
    lopt = torch.optim.SGD([theta], lr=1e-3, momentum=0.9)

    def leaf_step() -> None:
        lopt.zero_grad(set_to_none=True)
        land.objective(theta.unsqueeze(0), (xb, yb)).sum().backward()
        lopt.step()

    steps = {"plain": plain, "leaf": leaf_step, "curve": curve_step, "fused": fused_step}
    for fn in steps.values():  # warm-up
        _timed(fn, 3, device)
    times: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(args.repeat):  # alternate, so that load changes hit all alike
        for key, fn in steps.items():
            times[key].append(_timed(fn, args.steps, device))
    p, f, c, u = (statistics.median(times[k]) for k in ("plain", "leaf", "curve", "fused"))
    print(f"plain training step          : {p * 1e3:9.3f} ms  (median of {args.repeat} x {args.steps})")
    print(f"landscape step, leaf point   : {f * 1e3:9.3f} ms  ratio to plain {f / p:.3f}")
    print(f"Bezier(bends=1) curve step   : {c * 1e3:9.3f} ms  ratio to plain {c / p:.3f}")
    print(f"  same, point via addmm      : {u * 1e3:9.3f} ms  ratio to plain {u / p:.3f}")

    # exact evaluation of a path's points
    with torch.no_grad():
        pts = curve.at(a, b, bends.detach(), torch.linspace(0, 1, args.eval_points))
    bn = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in land.model.modules())
    xs, ys = land.tensors()
    evals = {"ours": lambda q: land.loss(q),
             "plain": lambda q: _plain_path_eval(factory, q, xs, ys, args.batch, device)}
    for fn in evals.values():  # warm-up on one point (allocator, kernel selection)
        fn(pts[:1] + 1e-3)
    spent: dict[str, list[float]] = {k: [] for k in evals}
    for _ in range(2):  # alternate; keep the faster of two
        for key, fn in evals.items():
            spent[key].append(_timed(lambda fn=fn: fn(pts), 1, device))
    ours, ref = min(spent["ours"]), min(spent["plain"])
    print(f"path of {args.eval_points} points on {n} samples (BN recompute: {bn}): "
          f"landscape.loss {ours:.3f} s ({ours / args.eval_points * 1e3:.1f} ms/point), "
          f"plain torch {ref:.3f} s, ratio {ours / ref:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
