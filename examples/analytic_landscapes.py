"""Analytic test functions: the pipeline's barcode against the exact one.

On a closed-form function of two variables the exact loss barcode is known: sample the
function on a fine grid over its box and compute the grid's lower-star persistence with
GUDHI (``topoloss.analytic.exact_barcode``). The pipeline ``topoloss.analyze`` instead
finds minima by gradient descent, optimizes a path between every pair (a Bézier curve,
a polygonal chain, or the nudged chain with point insertion), and takes the persistence
of the resulting graph. This example runs all three curve families on several built-in
landscapes and on a user function (``topoloss.analytic.from_function``), prints the
bottleneck distance between each result and the exact barcode, and draws 2-D maps with
the minima and the optimized paths (saddle paths in red).

    python examples/analytic_landscapes.py --out examples-output/analytic
    python examples/analytic_landscapes.py --quick --out /tmp/analytic
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import gudhi
import numpy as np
import torch

import topoloss as tl
from topoloss.analytic import exact_barcode, from_function
from topoloss.plot import plot_landscape_2d


def ring(p: torch.Tensor) -> torch.Tensor:
    """A user landscape: a ring-shaped valley with three dents, slightly tilted.

    ``(r**2 - 1)**2 + 0.3 r**3 cos(3 phi) + 0.1 x``, written as a polynomial
    (``r**3 cos(3 phi) = x**3 - 3 x y**2``) so that it is smooth everywhere.
    """
    x, y = p[..., 0], p[..., 1]
    return (x**2 + y**2 - 1.0) ** 2 + 0.3 * (x**3 - 3 * x * y**2) + 0.1 * x


def landscapes(quick: bool) -> list[tl.AnalyticLandscape]:
    out = [
        tl.analytic.himmelblau(),
        tl.analytic.six_hump_camel(),
        tl.analytic.rastrigin(),
    ]
    if not quick:
        out.append(tl.analytic.gaussian_wells())
    out.append(from_function(ring, [(-1.6, 1.6), (-1.6, 1.6)], name="user-ring"))
    return out


def bottleneck(a: tl.Barcode, b: tl.Barcode, eps: float) -> float:
    """Bottleneck distance between two barcodes, after dropping bars of length <= eps
    (grid artifacts of the exact barcode, duplicate minima of the pipeline)."""
    return float(gudhi.bottleneck_distance(a.drop_short(eps).to_diagram("keep"), b.drop_short(eps).to_diagram("keep")))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples-output", help="folder for the figures")
    parser.add_argument("--quick", action="store_true", help="coarse grid, few steps")
    parser.add_argument("--resolution", type=int, default=None, help="exact-barcode grid per axis")
    parser.add_argument("--steps", type=int, default=None, help="path-optimization steps")
    parser.add_argument("--n-minima", type=int, default=None, help="descents searching for minima")
    args = parser.parse_args(argv)
    resolution = args.resolution or (129 if args.quick else 513)
    steps = args.steps or (80 if args.quick else 400)
    n_minima = args.n_minima or (24 if args.quick else 32)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = {
        "Bezier(3)": tl.Bezier(bends=3),
        "PolyChain(4)": tl.PolyChain(bends=4),
        "Chain(5)": tl.Chain(points=5, insert_every=max(steps // 8, 1)),
    }
    print(f"grid {resolution}^2, {n_minima} descents, {steps} path steps")
    print(f"{'landscape':<16} {'curve':<13} {'minima':>6} {'paths':>5} {'TO':>10} {'exact TO':>10} "
          f"{'bottleneck':>10} {'seconds':>7}")
    worst = 0.0
    for land in landscapes(args.quick):
        exact = exact_barcode(land, resolution=resolution)
        fin = exact.finite()
        scale = float(np.ptp(exact.intervals[:, 0])) if len(exact) > 1 else 1.0
        eps = 1e-3 * max(scale, float(np.ptp(fin)) if fin.size else 0.0, 1e-12)
        results = {}
        for label, curve in curves.items():
            t0 = time.perf_counter()
            res = tl.analyze(land, n_minima=n_minima, curve=curve, seed=0, epochs=steps, progress=False)
            secs = time.perf_counter() - t0
            d = bottleneck(res.barcode, exact, eps)
            worst = max(worst, d) if math.isfinite(d) else worst
            results[label] = res
            print(f"{land.name:<16} {label:<13} {len(res.minima):>6} {len(res.paths):>5} "
                  f"{res.to_score:>10.5g} {tl.to_score(exact):>10.5g} {d:>10.3g} {secs:>7.2f}")
        fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 4.2))
        for ax, (label, res) in zip(axes, results.items()):
            plot_landscape_2d(land, res, ax=ax, resolution=120 if args.quick else 200,
                              title=f"{land.name}: {label}")
        fig.tight_layout()
        name = land.name.replace(":", "").replace(" ", "-")
        path = out / f"map_{name}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        print(f"figure written to {path}")
    print(f"largest bottleneck distance to the exact barcode: {worst:.4g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
