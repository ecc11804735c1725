"""Time one curve-optimization step against one plain training step of the same model.

Usage::

    python benchmarks/bench_curve_step.py [--model cnn|fcn|digits-fcn|vgg16|resnet110|preresnet110]
        [--device cpu|cuda] [--batch 128] [--steps 10] [--repeat 5]
        [--train-size 256] [--eval-points 61] [--threads N] [--optimizer sgd|adam] [--clock wall|cpu]

In one run, on the same model and the same mini-batch, it times alternately:

* ``plain``: ``model(x)``, cross-entropy, ``backward``, ``SGD.step`` (momentum 0.9; or
  ``Adam`` with ``--optimizer adam``, for every step below too) on a normal module;
* ``leaf``: the same step through ``landscape.objective`` on a leaf point ``θ``
  (the cost of the stateless evaluation alone);
* ``reference``: the same ``Bezier(bends=1)`` step on a per-layer curve network in the
  style of the public mode-connectivity code (:mod:`curvenet_reference`: every layer
  combines its own control points in ``forward``), ``SGD.step`` on its bend tensors;
* ``curve``: one ``Bezier(bends=1)`` step as :func:`topoloss.connect` takes it on this
  device: ``t ~ U(0, 1)``, the objective and bend gradient of
  :func:`topoloss.paths._curve_step.curve_objective` (on a CPU each parameter's point
  and gradient written into persistent buffers), ``SGD.step`` on what it hands the
  optimizer;
* ``flat``: the same step with the flat design forced (``φ(t)`` of all ``P``
  coordinates by :meth:`~topoloss.paths.curves.Curve.at`, ``landscape.objective``,
  ``backward`` into the bend tensor) — the step of the earlier versions, and the one
  taken on an accelerator.

It checks that ``reference`` and ``curve`` give the same loss at the same ``t``,
prints the median time per step of each and their ratio to ``plain``, then (unless
``--eval-points 0``) the time to
evaluate a path's ``--eval-points`` points exactly with ``landscape.loss`` on a
training set of ``--train-size`` samples (BatchNorm statistics recomputed at every
point when the model has BatchNorm), next to a plain-torch loop doing the same work
(``vector_to_parameters``, ``reset_running_stats``, train-mode pass, eval pass),
after one warm-up point, the faster of two alternating runs each.
Data are random inputs (the timing does not depend on their values).

Models: ``cnn`` (default; the paper's CNN-2-16 with BatchNorm), ``fcn`` (3 hidden
layers of 256 on 3x32x32 inputs), ``digits-fcn`` (``get_model("fcn")`` for 8x8
digits: 2 hidden layers of 32), ``vgg16`` (VGG-16 with BatchNorm for 32x32 inputs,
15M parameters, built here) and ``resnet110`` (:func:`topoloss.models.resnet` ``(110)``:
the CIFAR ResNet-110, 1.7M parameters, post-activation) and ``preresnet110`` (the
PreResNet-110 of the public mode-connectivity code, built here: pre-activation bottleneck
blocks, 12 per stage, 1.1M parameters).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import vector_to_parameters

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _timing import CLOCKS, per_call  # noqa: E402
from curvenet_reference import CurveNet  # noqa: E402

from topoloss.landscapes.model import ModelLandscape  # noqa: E402
from topoloss.models import cnn, fcn, resnet  # noqa: E402
from topoloss.paths._curve_step import curve_objective  # noqa: E402
from topoloss.paths.curves import Bezier  # noqa: E402

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


class PreActBottleneck(nn.Module):
    """``BN-ReLU-conv1x1, BN-ReLU-conv3x3 (stride), BN-ReLU-conv1x1 (4x)`` plus a shortcut.

    The shortcut is the identity, or one strided ``1x1`` convolution (no BN) where the
    shape changes, as in the PreResNet of the public mode-connectivity code.
    """

    def __init__(self, c_in: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        out = 4 * planes
        self.bn1, self.conv1 = nn.BatchNorm2d(c_in), nn.Conv2d(c_in, planes, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn3, self.conv3 = nn.BatchNorm2d(planes), nn.Conv2d(planes, out, 1, bias=False)
        self.shortcut = (nn.Conv2d(c_in, out, 1, stride=stride, bias=False)
                         if stride != 1 or c_in != out else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.relu(self.bn1(x)))
        h = self.conv2(F.relu(self.bn2(h)))
        h = self.conv3(F.relu(self.bn3(h)))
        return h + (x if self.shortcut is None else self.shortcut(x))


def preresnet(depth: int = 110, num_classes: int = 10) -> nn.Sequential:
    """PreResNet-``depth`` (``9 n + 2``) for 32x32 images: a 3x3 stem of 16 channels, three
    stages of ``n`` :class:`PreActBottleneck` blocks (16, 32, 64 planes, 4x expansion; the
    last two stages start with stride 2), BN-ReLU, global average pooling, a linear layer."""
    if depth < 11 or (depth - 2) % 9:
        raise ValueError(f"depth must be 9 n + 2 (11, 20, ..., 110, 164), got {depth=}")
    n = (depth - 2) // 9
    layers: list[nn.Module] = [nn.Conv2d(3, 16, 3, padding=1, bias=False)]
    c = 16
    for stage, planes in enumerate((16, 32, 64)):
        for j in range(n):
            layers.append(PreActBottleneck(c, planes, stride=2 if stage and not j else 1))
            c = 4 * planes
    layers += [nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes)]
    return nn.Sequential(*layers)


#: name -> (factory, input shape of one sample)
MODELS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
    "cnn": (lambda: cnn(2, 16, batch_norm=True), (3, 32, 32)),
    "cnn-nobn": (lambda: cnn(2, 16), (3, 32, 32)),
    "fcn": (lambda: fcn(3 * 32 * 32, 10, depth=3, width=256), (3, 32, 32)),
    "digits-fcn": (lambda: fcn(64, 10), (1, 8, 8)),
    "vgg16": (vgg16, (3, 32, 32)),
    "resnet110": (lambda: resnet(110), (3, 32, 32)),
    "preresnet110": (lambda: preresnet(110), (3, 32, 32)),
    # small stand-ins for quick checks on a CPU (gpu_check.py --quick)
    "tiny-cnn": (lambda: cnn(1, 4, batch_norm=True, image_size=8), (3, 8, 8)),
    "tiny-cnn-nobn": (lambda: cnn(1, 4, image_size=8), (3, 8, 8)),
}

#: The steps timed, in order, with their labels.
STEP_LABELS = {"plain": "plain training step", "leaf": "landscape step, leaf point",
               "reference": "per-layer reference curve", "curve": "topoloss Bezier(1) step",
               "flat": "  same, flat point (Curve.at)"}


def random_landscape(model: str, *, samples: int, batch: int, device: torch.device,
                     seed: int = 0) -> ModelLandscape:
    """``MODELS[model]`` on ``samples`` seeded random inputs with 10 random classes."""
    factory, shape = MODELS[model]
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, *shape, generator=g)
    y = torch.randint(0, 10, (samples,), generator=g)
    return ModelLandscape(factory, (x, y), batch_size=batch, device=device, seed=seed)


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


def _path_eval(args: argparse.Namespace, land: ModelLandscape, factory: Callable[[], nn.Module],
               points: torch.Tensor, n: int, device: torch.device) -> None:
    bn = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in land.model.modules())
    xs, ys = land.tensors()
    evals = {"ours": lambda q: land.loss(q),
             "plain": lambda q: _plain_path_eval(factory, q, xs, ys, args.batch, device)}
    for fn in evals.values():  # warm-up on one point (allocator, kernel selection)
        fn(points[:1] + 1e-3)
    spent: dict[str, list[float]] = {k: [] for k in evals}
    for _ in range(2):  # alternate; keep the faster of two
        for key, fn in evals.items():
            spent[key].append(per_call(lambda fn=fn: fn(points), 1, device, args.clock))
    ours, ref = min(spent["ours"]), min(spent["plain"])
    print(f"path of {args.eval_points} points on {n} samples (BN recompute: {bn}): "
          f"landscape.loss {ours:.3f} s ({ours / args.eval_points * 1e3:.1f} ms/point), "
          f"plain torch {ref:.3f} s, ratio {ours / ref:.3f}")


def step_functions(land: ModelLandscape, model: str, *, optimizer: str = "sgd",
                   ) -> tuple[dict[str, Callable[[], None]], tuple[float, float]]:
    """The steps of :data:`STEP_LABELS` on one mini-batch of ``land``, and the losses of
    topoloss's curve and of the per-layer reference at ``t = 0.3`` before any step."""
    factory = MODELS[model][0]
    device = land.device
    lr, momentum = 1e-3, 0.9

    def make_opt(params: list[torch.Tensor] | Iterator[nn.Parameter]) -> torch.optim.Optimizer:
        if optimizer == "adam":
            return torch.optim.Adam(params, lr=lr)
        return torch.optim.SGD(params, lr=lr, momentum=momentum)

    # plain training step
    net = factory().to(device).train()
    opt = make_opt(net.parameters())
    xb, yb = next(land.batches())

    def plain() -> None:
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(xb), yb).backward()
        opt.step()

    # the landscape alone: the same step on a leaf point (no curve around it)
    curve = Bezier(bends=1)
    a, b = land.initial_point(1), land.initial_point(2)
    theta = a.clone().requires_grad_(True)
    lopt = make_opt([theta])

    def leaf_step() -> None:
        lopt.zero_grad(set_to_none=True)
        land.objective(theta.unsqueeze(0), (xb, yb)).sum().backward()
        lopt.step()

    bend0 = curve.init_bends(a, b)
    tgen = torch.Generator().manual_seed(0)

    def draw_t() -> torch.Tensor:
        return torch.rand(1, 1, generator=tgen, dtype=torch.float64).to(device, land.dtype)

    # the per-layer reference: each layer combines its own control points in forward
    ref = CurveNet(land.model, [land.params(a), land.params(bend0[0]), land.params(b)]).to(device).train()
    ropt = make_opt(ref.bends())

    def reference_step() -> None:
        coeffs = curve.weights(draw_t()[0, 0], 1)
        ropt.zero_grad(set_to_none=True)
        F.cross_entropy(ref(xb, coeffs), yb).backward()
        ropt.step()

    # topoloss's step as connect takes it here, and the flat design forced
    def topoloss_step(method: str) -> Callable[[], None]:
        bends = bend0.clone().unsqueeze(0).requires_grad_(True)
        objective = curve_objective(land, curve, a.unsqueeze(0), b.unsqueeze(0), bends, 0.0,
                                    method=method)  # type: ignore[arg-type]
        copt = make_opt(objective.parameters())

        def step() -> None:
            copt.zero_grad(set_to_none=True)
            objective(draw_t(), [(xb, yb)])
            copt.step()
        return step

    # the two curve implementations agree at the same t, before any step
    check_t = torch.tensor([[0.3]], dtype=land.dtype, device=device)
    with torch.no_grad():
        ours = land.objective(curve.at(a, b, bend0, check_t[0]), (xb, yb))
    refnet = CurveNet(land.model, [land.params(a), land.params(bend0[0]), land.params(b)]).to(device).train()
    with torch.no_grad():
        theirs = F.cross_entropy(refnet(xb, curve.weights(check_t[0, 0], 1)), yb)
    steps = {"plain": plain, "leaf": leaf_step, "reference": reference_step,
             "curve": topoloss_step("auto"), "flat": topoloss_step("flat")}
    return steps, (float(ours), float(theirs))


def time_steps(steps: dict[str, Callable[[], None]], *, n: int, repeat: int, device: torch.device,
               clock: str = "wall") -> dict[str, float]:
    """Median seconds per step of each of ``steps``: two warm-up steps each, then
    ``repeat`` alternating blocks of ``n`` steps (so that load changes hit all alike)."""
    for fn in steps.values():
        per_call(fn, 2, device, clock)
    times: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(repeat):
        for key, fn in steps.items():
            times[key].append(per_call(fn, n, device, clock))
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="cnn")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10, help="steps per timed block")
    parser.add_argument("--repeat", type=int, default=5, help="alternating blocks of each")
    parser.add_argument("--train-size", type=int, default=256)
    parser.add_argument("--eval-points", type=int, default=61, help="0: skip the path evaluation")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd",
                        help="optimizer of every step (SGD with momentum 0.9, or Adam)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="step timings in wall time or in this process's CPU time (a shared CPU)")
    args = parser.parse_args(argv)
    if args.clock == "cpu" and args.device != "cpu":
        parser.error("--clock cpu times CPU work only; use --clock wall with an accelerator")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    n = max(args.train_size, args.batch)
    land = random_landscape(args.model, samples=n, batch=args.batch, device=device)
    print(f"model={args.model} P={land.dim:,} device={device} batch={args.batch} "
          f"threads={torch.get_num_threads()} clock={args.clock} optimizer={args.optimizer} "
          f"torch={torch.__version__} "
          f"load={' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    steps, (ours, theirs) = step_functions(land, args.model, optimizer=args.optimizer)
    print(f"loss at t=0.3: topoloss {ours:.6f}, reference {theirs:.6f}")
    if abs(ours - theirs) > 1e-4 * max(1.0, abs(theirs)):
        raise SystemExit("the reference curve network and topoloss disagree; the comparison is void")
    med = time_steps(steps, n=args.steps, repeat=args.repeat, device=device, clock=args.clock)
    p = med["plain"]
    for key, label in STEP_LABELS.items():
        print(f"{label:30s}: {med[key] * 1e3:9.3f} ms  ratio to plain {med[key] / p:.3f}  "
              f"(median of {args.repeat} x {args.steps})")
    print(f"load={' '.join(f'{v:.2f}' for v in os.getloadavg())}")

    if args.eval_points > 0:
        curve = Bezier(bends=1)
        a, b = land.initial_point(1), land.initial_point(2)
        with torch.no_grad():
            pts = curve.at(a, b, curve.init_bends(a, b),
                           torch.linspace(0, 1, args.eval_points, device=device, dtype=land.dtype))
        _path_eval(args, land, MODELS[args.model][0], pts, n, device)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
