"""``topoloss analyze``: the whole pipeline on an analytic landscape.

Finds minima, optimizes paths, prints the loss barcode and TO-score beside the exact
barcode of the grid ground truth, and optionally draws the contour map. With ``--run``
the results go to a run directory like any study (resumable).
"""

from __future__ import annotations

import argparse
import sys

from topoloss.cli._options import (
    FIRST_KEYS,
    add_config_flags,
    config_from_args,
    landscape_flags,
    landscape_from_args,
    say,
)
from topoloss.errors import InputError

__all__ = ["register"]

def _run(args: argparse.Namespace) -> int:
    from topoloss._validate import finite_or_none
    from topoloss.analytic import exact_barcode
    from topoloss.analytic.compare import artifact_length, compare_to_exact, drop_short_bars
    from topoloss.cli import emit_json
    from topoloss.config import StudyConfig
    from topoloss.engine.pipeline import run_pipeline
    from topoloss.engine.store import Run
    from topoloss.topology.score import to_score

    land = landscape_from_args(args)
    if args.run and (args.coeffs is not None or args.bounds is not None):
        raise InputError("--run stores registered landscapes only (--coeffs/--bounds are not part of a "
                         "run's config): register your function with topoloss.analytic.register_landscape")
    config = config_from_args(args, StudyConfig(landscape=args.name or "polynomial"))
    if args.plot is not None and land.dim != 2:
        raise InputError(f"--plot needs a two-dimensional landscape; {land.name} has dim={land.dim}")
    from topoloss.engine.executors import make_executor
    from topoloss.engine.planners import make_planner

    make_planner(config.paths.pairs)  # checked before the run directory is touched
    make_executor(config.execution.executor)
    store = Run(args.run, config.to_dict(), new=args.new, keys=FIRST_KEYS) if args.run else None
    progress = not args.quiet and sys.stderr.isatty()
    result = run_pipeline(land, config, store=store, progress=progress, log=lambda m: say(args, m))
    exact = exact_barcode(land, resolution=args.resolution)
    exact_clean = drop_short_bars(exact, artifact_length(exact))
    comparison = compare_to_exact(result.barcode, exact)
    exact_score = to_score(exact_clean)
    curve = config.paths.curve

    to_stdout = False
    if args.json:
        report = {
            "landscape": land.name,
            "bounds": [list(b) for b in land.bounds],
            "curve": curve.to_dict(),
            "seed": config.seed,
            **result.to_dict(),
            "exact_barcode": exact_clean.to_dict(),
            "exact_to_score": finite_or_none(exact_score),
            "bottleneck_to_exact": finite_or_none(comparison.distance),
            "comparison": comparison.to_dict(),
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
        print(f"bottleneck distance optimized vs exact: {comparison.distance:.6g} "
              f"({comparison.relative:.2%} of the exact value range {comparison.scale:.6g}; bars "
              f"<= {comparison.min_length:.3g} dropped on both sides)")
        if result.stopped is not None:
            from topoloss.engine.progress import describe_stop

            print(describe_stop(result.stopped, len(result.paths), config.execution))
    from topoloss.paths.fallback import fallback_summary

    line = fallback_summary(result.paths, where=str(store.layout.plan) if store is not None
                            else "the paths' 'fallback' in --json")
    if line is not None:
        say(args, line)
    if args.plot is not None:
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
        help="minima, paths, loss barcode and TO-score of an analytic landscape",
        description=(
            "Find minima of an analytic landscape (see 'topoloss exact --list'), "
            "optimize a path between each planned pair, and print the loss barcode and "
            "TO-score beside the exact barcode of the grid ground truth."
        ),
    )
    landscape_flags(p)
    add_config_flags(p, "", only=("seed",))
    add_config_flags(p, "minima", only=("n_minima",))
    add_config_flags(p, "paths")
    add_config_flags(p, "evaluation")
    add_config_flags(p, "execution")
    p.add_argument("--resolution", metavar="R", type=int, default=None,
                   help="grid points per axis of the exact barcode (default: about 2**18 in all)")
    p.add_argument("--plot", metavar="FILE", default=None,
                   help="draw the contour map with minima and paths to FILE (2-D only)")
    p.add_argument("--json", metavar="FILE", nargs="?", const="-",
                   help="write the results as JSON to FILE (stdout if FILE is omitted)")
    p.add_argument("--run", metavar="RUN_DIR", default=None,
                   help="also store everything in a run directory (resumable)")
    p.add_argument("--new", action="store_true", help="move an existing run in RUN_DIR aside first")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_run)
