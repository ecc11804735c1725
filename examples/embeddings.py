"""Loss-preserving embeddings into wider and deeper nets (SPEC §9, the paper's Theorem 2).

A minimum of a small ReLU network is also a point of a larger one with exactly the same
outputs, hence the same loss:

- *widen*: every extra hidden unit gets zero incoming and zero outgoing weights;
- *deepen*: after a ReLU of width ``n``, a new layer with weight ``I_n`` and bias 0,
  followed by ReLU (``relu(I relu(h)) = relu(h)``).

Every path between two minima of the small net embeds too, with the same loss along it,
so the barcode of the larger net at the embedded minima is not higher than that of the
small net (Theorem 2). This example trains minima of a small fully connected net on
digits, embeds them with ``topoloss.models.embed_params`` into a wider and a deeper net,
checks that the losses agree, embeds the small net's optimized paths and checks their
losses too, then optimizes new paths in each larger net and compares the barcodes.

All nets use the same path learning rate (``--path-lr``): ``connect``'s default scales
with ``1 / sqrt(P)``, which would give the larger nets a smaller step for the same
minima (their extra coordinates are all zero) and so, at equal epochs, less optimized
paths — an unfair comparison.

    python examples/embeddings.py --out examples-output/embeddings
    python examples/embeddings.py --quick --out /tmp/embeddings
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

import topoloss as tl
from topoloss.data import digits
from topoloss.models import deepen, embed_params, fcn, widen

#: Relative tolerance of "the same loss" (float32 sums in a different order).
RTOL = 1e-5


def graph_of(minima: tl.Minima, paths: Sequence[tl.PathRecord], extra: Sequence[tuple] = ()) -> tl.LandscapeGraph:
    g = tl.LandscapeGraph()
    for name, loss in zip(minima.names, minima.losses):
        g.add_minimum(name, float(loss))
    for p in paths:
        g.add_path(p.u, p.v, p.barrier, source="optimized here")
    for u, v, barrier in extra:
        g.add_path(u, v, barrier, source="embedded small-net path")
    return g


def check_modules(small: nn.Sequential, width: int, depth: int) -> None:
    """``widen`` and ``deepen`` on modules: the outputs do not change."""
    x = torch.randn(32, 64)
    big = fcn(64, 10, depth=depth, width=width)
    big.load_state_dict(widen(small, big))
    deep = deepen(small, at=2)
    for label, net in (("widen", big), ("deepen", deep)):
        with torch.no_grad():
            diff = float((net(x) - small(x)).abs().max())
        print(f"  module check, {label}: max |output difference| = {diff:.3g}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples-output", help="folder for the figure")
    parser.add_argument("--quick", action="store_true", help="tiny nets, a few epochs")
    parser.add_argument("--width", type=int, default=None, help="hidden units of the small net")
    parser.add_argument("--seeds", type=int, default=None, help="number of minima")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs per minimum")
    parser.add_argument("--path-epochs", type=int, default=None, help="path-optimization epochs")
    parser.add_argument("--path-lr", type=float, default=3e-3, help="Adam learning rate of paths")
    args = parser.parse_args(argv)
    width = args.width or (8 if args.quick else 16)
    n_seeds = args.seeds or (3 if args.quick else 4)
    epochs = args.epochs or (4 if args.quick else 20)
    path_epochs = args.path_epochs or (4 if args.quick else 40)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)

    train, _ = digits()
    # the small net has one hidden layer: Flatten, Linear, ReLU (index 2), Linear
    archs: dict[str, tuple[Callable[[], nn.Module], int | None]] = {
        f"small (1x{width})": (lambda: fcn(64, 10, depth=1, width=width), None),
        f"wider (1x{2 * width})": (lambda: fcn(64, 10, depth=1, width=2 * width), None),
        f"deeper (2x{width})": (lambda: fcn(64, 10, depth=2, width=width), 2),
    }
    labels = list(archs)
    lands = {k: tl.ModelLandscape(f, train) for k, (f, _) in archs.items()}
    small_label = labels[0]
    small = lands[small_label]
    print("architectures: " + ", ".join(f"{k}: {lands[k].dim} parameters" for k in labels))
    check_modules(small.model, 2 * width, 1)

    minima = tl.train_minima(small, seeds=range(n_seeds), epochs=epochs, progress=False)
    paths_small = tl.connect(small, minima, curve=tl.Bezier(bends=1), epochs=path_epochs,
                       lr=args.path_lr, progress=False)

    barcodes: dict[str, tl.Barcode] = {small_label: tl.loss_barcode(graph_of(minima, paths_small))}
    combined: dict[str, tl.Barcode] = {}
    identical = True
    for label in labels[1:]:
        land, at = lands[label], archs[label][1]

        def embed(theta: torch.Tensor, land: tl.ModelLandscape = land, at: int | None = at) -> torch.Tensor:
            return embed_params(small.model, theta, land.model, at=at)

        points = torch.stack([embed(p) for p in minima.points])
        big = tl.Minima.from_points(land, points, names=minima.names)
        diff = np.abs(big.losses - minima.losses)
        same = bool(np.all(diff <= RTOL * np.abs(minima.losses)))
        identical &= same
        bitwise = np.array_equal(big.losses, minima.losses)
        print(f"{label}: losses at the embedded minima equal the small net's: {same} "
              f"(max |difference| {diff.max():.3g}; bitwise equal: {bitwise})")
        # the small net's optimized paths, embedded point by point, have the same losses
        worst = 0.0
        embedded = []
        for p in paths_small:
            pts = torch.stack([embed(q) for q in p.points(torch.tensor(np.array(p.t)))])
            losses = land.loss(pts).cpu().numpy()
            worst = max(worst, float(np.abs(losses - p.losses).max()))
            embedded.append((p.u, p.v, float(losses.max())))
        print(f"  embedded small-net paths: max |loss difference| along them {worst:.3g}")
        paths = tl.connect(land, big, curve=tl.Bezier(bends=1), epochs=path_epochs,
                       lr=args.path_lr, progress=False)
        barcodes[label] = tl.loss_barcode(graph_of(big, paths))
        combined[label] = tl.loss_barcode(graph_of(big, paths, embedded))

    print("barcodes (bar of each minimum: birth -> death):")
    ref = barcodes[small_label]
    holds_all = True
    for label in labels:
        bc = barcodes[label]
        bars = "  ".join(f"{b.name}: {b.birth:.4f}->{b.death:.4f}" for b in bc.bars())
        print(f"  {label:<16} TO-score {tl.to_score(bc):.5f}   {bars}")
        if label == small_label:
            continue
        tol = 1e-6 + RTOL * float(np.abs(ref.intervals[:, 0]).max())
        holds = bool(np.all(bc.intervals[:, 1] <= ref.intervals[:, 1] + tol))
        holds_comb = bool(np.all(combined[label].intervals[:, 1] <= ref.intervals[:, 1] + tol))
        holds_all &= holds_comb
        print(f"    not higher than the small net's (paths optimized in the larger net only): {holds}")
        print(f"    not higher with the embedded small-net paths added to its graph: {holds_comb} "
              f"(TO-score {tl.to_score(combined[label]):.5f})")
    print(f"losses identical after embedding: {identical}")
    print(f"Theorem 2 (larger barcode not higher) holds: {holds_all}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from topoloss.plot import plot_barcode

    fig, axes = plt.subplots(1, len(labels), figsize=(4.5 * len(labels), 3.8), sharey=True)
    for ax, label in zip(axes, labels):
        plot_barcode(barcodes[label], ax=ax, labels=True,
                     title=f"{label}: TO {tl.to_score(barcodes[label]):.4f}")
    fig.tight_layout()
    path = out / "embeddings_barcodes.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"figure written to {path}")
    return 0 if identical and holds_all else 1


if __name__ == "__main__":
    sys.exit(main())
