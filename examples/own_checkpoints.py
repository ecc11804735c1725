"""Bring your own checkpoints: the loss barcode of models you trained yourself.

"I have checkpoints from a few seeds; show me the loss barcode." Here the checkpoints
come from a model defined in this script (``make_net``) and trained with a plain
PyTorch loop, saved with ``torch.save`` in the usual ways: a bare state dict, one
wrapped as ``{"state_dict": ...}``, and one saved from ``nn.DataParallel`` (keys
prefixed ``module.``). ``topoloss.load_minima`` reads them with
``torch.load(weights_only=True)``, checks every key and shape against the model, and
evaluates each minimum; ``connect`` then optimizes a path between every pair and the
barcode follows. Two wrong checkpoints show the errors you get: one of a different
architecture (the message names the file, the key and both shapes) and one holding an
arbitrary pickled object (refused, never executed).

    python examples/own_checkpoints.py --out examples-output/own
    python examples/own_checkpoints.py --quick --out /tmp/own
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import topoloss as tl
from topoloss.data import digits


class Net(nn.Module):
    """The user's own model: a small MLP with named submodules."""

    def __init__(self, hidden: int = 24) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, hidden), nn.Tanh())
        self.head = nn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x.flatten(1)))


def make_net(hidden: int = 24) -> nn.Module:
    """What ``topoloss`` needs: a function returning the module the checkpoints fit."""
    return Net(hidden)


def train_and_save(seed: int, file: Path, data: tuple[torch.Tensor, torch.Tensor], epochs: int,
                   *, hidden: int = 24, how: str = "plain") -> None:
    """A user's ordinary training loop, then ``torch.save`` in one of the common forms."""
    torch.manual_seed(seed)
    net = make_net(hidden)
    x, y = data
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(64):
            opt.zero_grad()
            F.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
    if how == "wrapped":
        torch.save({"state_dict": net.state_dict(), "epoch": epochs}, file)
    elif how == "dataparallel":
        torch.save(nn.DataParallel(net).state_dict(), file)  # keys "module.encoder.0.weight", ...
    else:
        torch.save(net.state_dict(), file)


class Unsafe:
    """Any object that is not a tensor or a plain container."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples-output", help="folder for checkpoints and figures")
    parser.add_argument("--quick", action="store_true", help="three checkpoints, a few epochs")
    parser.add_argument("--seeds", type=int, default=None, help="number of checkpoints")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs per checkpoint")
    parser.add_argument("--path-epochs", type=int, default=None, help="path-optimization epochs")
    args = parser.parse_args(argv)
    n_seeds = args.seeds or (3 if args.quick else 5)
    epochs = args.epochs or (3 if args.quick else 30)
    path_epochs = args.path_epochs or (3 if args.quick else 40)
    out = Path(args.out)
    ckpt = out / "checkpoints"
    ckpt.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)

    train, test = digits()
    x = torch.stack([train[i][0] for i in range(len(train))])
    y = torch.tensor([int(train[i][1]) for i in range(len(train))])
    forms = ["plain", "wrapped", "dataparallel"]
    files = []
    for seed in range(n_seeds):
        file = ckpt / f"seed{seed}.pt"
        train_and_save(seed, file, (x, y), epochs, how=forms[seed % len(forms)])
        files.append(file)
    print(f"saved {len(files)} checkpoints in {ckpt} ({', '.join(forms[:n_seeds])} ...)")

    land = tl.ModelLandscape(make_net, train, test_data=test)
    minima = tl.load_minima(land, files)
    for name, m in zip(minima.names, minima.metrics):
        print(f"  {name}: train loss {m['train_loss']:.4f}  test accuracy {m['test_accuracy']:.3f}")

    paths = tl.connect(land, minima, curve=tl.Bezier(bends=1), epochs=path_epochs, progress=False)
    g = tl.LandscapeGraph()
    for name, loss in zip(minima.names, minima.losses):
        g.add_minimum(name, float(loss))
    for p in paths:
        g.add_path(p.u, p.v, p.barrier)
    bc = tl.loss_barcode(g)
    print(bc)
    print(f"TO-score: {tl.to_score(bc):.6g}")

    # --- what goes wrong, and what you are told
    wrong = ckpt / "other-architecture.pt"
    train_and_save(99, wrong, (x, y), 1, hidden=32)
    try:
        tl.load_minima(land, [files[0], wrong])
    except ValueError as exc:
        print(f"different architecture -> ValueError: {exc}")
    else:
        print("different architecture: NOT refused (unexpected)")
        return 1
    unsafe = ckpt / "pickled-object.pt"
    torch.save({"state_dict": torch.load(files[0], weights_only=True), "extra": Unsafe()}, unsafe)
    try:
        tl.load_minima(land, unsafe)
    except ValueError as exc:
        print(f"pickled object -> ValueError: {exc}")
    else:
        print("pickled object: NOT refused (unexpected)")
        return 1

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from topoloss.plot import plot_barcode, plot_disconnectivity
    from topoloss.plot.profiles import plot_profiles

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    plot_barcode(bc, ax=axes[0], labels=True)
    plot_disconnectivity(bc, ax=axes[1])
    plot_profiles(paths, ax=axes[2])
    fig.tight_layout()
    path = out / "own_checkpoints.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"figure written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
