"""A loss-barcode study of a small neural network on scikit-learn's digits, in Python.

Step by step through the public API: a ``ModelLandscape`` (network + data + loss as a
function of the flat parameter vector), ``train_minima`` from four seeds, ``connect``
every pair with a Bézier curve of one bend, the landscape graph, its loss barcode and
TO-score, the loss along every path, and the loss on the plane through three minima.

Then the same study through a run directory (``topoloss.Run`` +
``topoloss.run_study``), where every finished minimum set and path is written to
disk at once: a second call reuses everything, and after deleting one path file only
that path is recomputed. ``make_report`` draws the run's figures.

    python examples/digits_study.py --out examples-output/digits
    python examples/digits_study.py --quick --out /tmp/digits    # seconds, tiny net
    python examples/digits_study.py --no-run                     # skip the run directory
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch

import topoloss as tl
from topoloss.data import digits
from topoloss.models import fcn


def build_graph(minima: tl.Minima, paths: Sequence[tl.PathRecord]) -> tl.LandscapeGraph:
    """Minima -> nodes (loss), paths -> edges (barrier)."""
    g = tl.LandscapeGraph()
    for name, loss in zip(minima.names, minima.losses):
        g.add_minimum(name, float(loss))
    for p in paths:
        g.add_path(p.u, p.v, p.barrier, linear_barrier=p.linear_barrier)
    return g


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples-output", help="folder for figures and the run")
    parser.add_argument("--quick", action="store_true", help="tiny net, a few epochs")
    parser.add_argument("--depth", type=int, default=None, help="hidden layers")
    parser.add_argument("--width", type=int, default=None, help="units per hidden layer")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs per minimum")
    parser.add_argument("--path-epochs", type=int, default=None, help="path-optimization epochs")
    parser.add_argument("--seeds", type=int, default=4, help="number of minima (seeds 0..n-1)")
    parser.add_argument("--no-run", action="store_true", help="skip the run-directory part")
    args = parser.parse_args(argv)
    depth = args.depth or (1 if args.quick else 2)
    width = args.width or (16 if args.quick else 32)
    epochs = args.epochs or (4 if args.quick else 20)
    path_epochs = args.path_epochs or (4 if args.quick else 40)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from topoloss.plot import plot_barcode, plot_disconnectivity
    from topoloss.plot.plane import plane_slice, plot_plane
    from topoloss.plot.profiles import plot_profiles

    t0 = time.perf_counter()
    train, test = digits()
    land = tl.ModelLandscape(lambda: fcn(64, 10, depth=depth, width=width), train, test_data=test)
    print(f"landscape: fcn depth={depth} width={width}, {land.dim} parameters, "
          f"{land.n_train} training / {land.n_test} test samples")

    minima = tl.train_minima(land, seeds=range(args.seeds), epochs=epochs, progress=False)
    for name, m in zip(minima.names, minima.metrics):
        print(f"  {name}: train loss {m['train_loss']:.4f}  train acc {m['train_accuracy']:.3f}  "
              f"test acc {m['test_accuracy']:.3f}")

    paths = tl.connect(land, minima, curve=tl.Bezier(bends=1), pairs="all",
                       epochs=path_epochs, progress=False)
    for p in paths:
        print(f"  path {p.u}-{p.v}: barrier {p.barrier:.4f} (straight segment {p.linear_barrier:.4f})")

    graph = build_graph(minima, paths)
    barcode = tl.loss_barcode(graph)
    score = tl.to_score(barcode)
    print(barcode)
    print(f"TO-score: {score:.6g}  (1-Wasserstein {tl.to_score(barcode, metric='wasserstein'):.6g})")
    print(f"python API part: {time.perf_counter() - t0:.1f} s")

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    plot_barcode(barcode, ax=axes[0], labels=True)
    plot_disconnectivity(barcode, ax=axes[1])
    plot_profiles(paths, ax=axes[2])
    fig.tight_layout()
    fig.savefig(out / "digits_barcode_profiles.png", dpi=100)
    plt.close(fig)
    print(f"figure written to {out / 'digits_barcode_profiles.png'}")

    order = sorted(range(len(minima)), key=lambda i: minima.losses[i])[:3]
    names = [minima.names[i] for i in order]
    sl = plane_slice(land, minima.points[order], names=names, resolution=9 if args.quick else 21)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    plot_plane(sl, paths=[p for p in paths if p.u in names and p.v in names], ax=ax)
    fig.tight_layout()
    fig.savefig(out / "digits_plane.png", dpi=100)
    plt.close(fig)
    print(f"figure written to {out / 'digits_plane.png'}")

    if args.no_run:
        return 0

    # ---------------------------------------------------------------- run directory
    from topoloss.engine.pipeline import run_study
    from topoloss.report import make_report

    run_dir = out / "digits-run"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    config = {
        "model": f"fcn:depth={depth},width={width}",
        "data": "digits",
        "minima": {"seeds": list(range(args.seeds)), "epochs": epochs},
        "paths": {"curve": "bezier:bends=1", "epochs": path_epochs},
    }
    run = tl.Run(run_dir, config)
    # The minima trained above are exactly what the config asks for: store them, so
    # the study reuses them instead of training again.
    run.save_minima(minima)
    t1 = time.perf_counter()
    first = run_study(run, landscape=land, progress=False, log=print)
    print(f"run 1: computed {first.computed_paths} path(s), reused {first.reused_paths} "
          f"({time.perf_counter() - t1:.1f} s), TO-score {first.to_score:.6g}")
    t1 = time.perf_counter()
    second = run_study(tl.Run(run_dir, config), landscape=land, progress=False, log=print)
    print(f"run 2: computed {second.computed_paths} path(s), reused {second.reused_paths} "
          f"({time.perf_counter() - t1:.1f} s)")
    lost = run.path_file(paths[0].u, paths[0].v)
    lost.unlink()
    print(f"deleted {lost.name}, as if the first run had been killed before it")
    t1 = time.perf_counter()
    third = run_study(tl.Run(run_dir, config), landscape=land, progress=False, log=print)
    print(f"run 3: computed {third.computed_paths} path(s), reused {third.reused_paths} "
          f"({time.perf_counter() - t1:.1f} s), TO-score {third.to_score:.6g}")
    files = make_report(run, landscape=land)
    print(f"report: {', '.join(f.name for f in files)} in {run_dir / 'report'}")
    ok = second.computed_paths == 0 and third.computed_paths == 1
    print(f"resuming works: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
