"""``topoloss analyze``: the whole pipeline on a built-in analytic landscape.

Finds minima, optimizes paths, prints the loss barcode and TO-score beside the exact
barcode of the grid ground truth, and optionally draws the contour map.
"""

from __future__ import annotations

import argparse
import math
import sys

import gudhi

__all__ = ["register"]

_CURVES = ("bezier", "polychain", "chain")
#: Exact bars at most this fraction of the value range are grid artifacts.
_ARTIFACT = 1e-3
#: Bars at most this fraction of the value range are left out of the comparison.
_COMPARE = 0.02


def _curve(name: str, bends: int | None):  # -> Curve
    from topoloss.paths.curves import Bezier, Chain, PolyChain

    if bends is not None and bends < 0:
        raise ValueError(f"--bends={bends}; expected an integer >= 0")
    if name == "bezier":
        return Bezier(bends=3 if bends is None else bends)
    if name == "polychain":
        return PolyChain(bends=3 if bends is None else bends)
    if bends is not None and bends < 1:
        raise ValueError(f"--bends={bends}; a chain needs at least one movable point")
    return Chain(points=7 if bends is None else bends)


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _run(args: argparse.Namespace) -> int:
    from topoloss.engine.pipeline import analyze
    from topoloss.analytic import builtin, exact_barcode
    from topoloss.cli import emit_json
    from topoloss.topology.score import to_score

    land = builtin(args.name)
    curve = _curve(args.curve, args.bends)
    if args.n_minima < 1:
        raise ValueError(f"--n-minima={args.n_minima}; expected a positive integer")
    if args.epochs is not None and args.epochs < 1:
        raise ValueError(f"--epochs={args.epochs}; expected a positive integer")
    if args.plot is not None and land.dim != 2:
        raise ValueError(f"--plot needs a two-dimensional landscape; {land.name} has dim={land.dim}")
    progress = not args.quiet and sys.stderr.isatty()
    result = analyze(
        land,
        n_minima=args.n_minima,
        curve=curve,
        pairs=args.pairs,
        seed=args.seed,
        epochs=args.epochs,
        progress=progress,
    )
    exact = exact_barcode(land, resolution=args.resolution)
    _, values = land.grid(257 if land.dim <= 2 else 33)
    span = float(values.max() - values.min()) or 1.0
    exact_clean = exact.drop_short(_ARTIFACT * span)
    distance = float(gudhi.bottleneck_distance(
        result.barcode.drop_short(_COMPARE * span).to_diagram(),
        exact.drop_short(_COMPARE * span).to_diagram(),
    ))
    exact_score = to_score(exact_clean)

    to_stdout = False
    if args.json:
        report = {
            "landscape": land.name,
            "bounds": [list(b) for b in land.bounds],
            "curve": curve.to_dict(),
            "seed": args.seed,
            **result.to_dict(),
            "exact_barcode": exact_clean.to_dict(),
            "exact_to_score": _num(exact_score),
            "bottleneck_to_exact": _num(distance),
        }
        to_stdout = emit_json(args.json, report)
    if not to_stdout:
        times = sum(p.seconds_optimize + p.seconds_evaluate for p in result.paths)
        print(f"{land.name} on {list(land.bounds)}: {len(result.minima)} minima, "
              f"{len(result.paths)} paths ({curve!r}, {times:.2f} s)")
        print(f"optimized {result.barcode}")
        print(f"TO-score: {result.to_score:.6g}")
        print(f"exact {exact_clean}")
        print(f"exact TO-score: {exact_score:.6g}")
        print(f"bottleneck distance optimized vs exact (bars <= {_COMPARE:.0%} of the "
              f"value range {span:.6g} dropped): {distance:.6g}")
    if args.plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from topoloss.plot import plot_landscape_2d

        fig, ax = plt.subplots(figsize=(6, 5))
        plot_landscape_2d(land, result, ax=ax)
        fig.savefig(args.plot, dpi=120, bbox_inches="tight")
        plt.close(fig)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="minima, paths, loss barcode and TO-score of a built-in analytic landscape",
        description=(
            "Find minima of a built-in analytic landscape (see 'topoloss exact --list'), "
            "optimize a path between each pair, and print the loss barcode and TO-score "
            "beside the exact barcode of the grid ground truth."
        ),
    )
    p.add_argument("name", metavar="NAME", help="built-in landscape")
    p.add_argument("--curve", choices=_CURVES, default="bezier", help="curve family (default bezier)")
    p.add_argument("--bends", metavar="K", type=int, default=None,
                   help="bends (movable points of a chain); default 3 (chain: 7)")
    p.add_argument("--n-minima", metavar="N", type=int, default=32,
                   help="descents when searching for minima (default 32)")
    p.add_argument("--pairs", choices=("all", "mst", "nearest"), default="all",
                   help="which pairs of minima to connect (default all)")
    p.add_argument("--epochs", metavar="E", type=int, default=None,
                   help="optimizer steps per path (default 400)")
    p.add_argument("--seed", metavar="S", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--resolution", metavar="R", type=int, default=None,
                   help="grid points per axis of the exact barcode (default: about 2**18 in all)")
    p.add_argument("--plot", metavar="FILE", default=None,
                   help="draw the contour map with minima and paths to FILE (2-D only)")
    p.add_argument("--json", metavar="FILE", nargs="?", const="-",
                   help="write the results as JSON to FILE (stdout if FILE is omitted)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_run)
