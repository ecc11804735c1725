"""``topoloss exact``: the exact barcode and TO-score of an analytic landscape (registered or your own)."""

from __future__ import annotations

import argparse
import math
import warnings

from topoloss.cli._options import landscape_flags, landscape_from_args
from topoloss.errors import InputError, TopolossWarning
from topoloss.topology.score import to_score

__all__ = ["register"]


def _point(p) -> list[float] | None:
    return None if any(math.isnan(float(x)) for x in p) else [float(x) for x in p]


def _run(args: argparse.Namespace) -> int:
    from topoloss._validate import check_number
    from topoloss.analytic import LANDSCAPES, available_landscapes, exact_minima
    from topoloss.analytic.compare import artifact_length, drop_short_bars
    from topoloss.cli import emit_json
    from topoloss.topology.score import barcode_summary

    if args.list or (args.name is None and args.coeffs is None):
        if not args.list:
            raise InputError(f"give a landscape NAME; known: {', '.join(available_landscapes())}")
        for name in available_landscapes():
            print(f"{name:20s} {LANDSCAPES.get(name).description}")
        return 0
    if args.min_length is not None:
        check_number(args.min_length, "--min-length", low=0.0)
    land = landscape_from_args(args)
    gm = exact_minima(land, resolution=args.resolution)
    min_length = artifact_length(gm.barcode) if args.min_length is None else args.min_length
    bc = drop_short_bars(gm.barcode, min_length)
    if len(bc) == 1:
        warnings.warn(f"{land.name} has one minimum at this resolution: its barcode is trivial (TO-score 0)",
                      TopolossWarning, stacklevel=1)
    dropped = len(gm.barcode) - len(bc)
    keep = [int(n) for n in bc.names]  # type: ignore[call-overload]
    if args.json:
        report = {
            "landscape": land.name,
            "bounds": [list(b) for b in land.bounds],
            "resolution": [a.shape[0] for a in gm.axes],
            **barcode_summary(bc),
            "minima": [[float(x) for x in gm.points[i]] for i in keep],
            "saddle_points": [_point(gm.saddle_points[i]) for i in keep],
        }
        if emit_json(args.json, report):
            return 0
    shape = "x".join(str(a.shape[0]) for a in gm.axes)
    print(f"{land.name} on {list(land.bounds)}, grid {shape}")
    print(bc)
    print("minima (grid coordinates):")
    for i in keep:
        coords = ", ".join(f"{float(x):.6g}" for x in gm.points[i])
        print(f"  {i}: ({coords})  value {gm.values[i]:.6g}")
    print(f"TO-score (bottleneck): {to_score(bc):.6g}")
    print(f"TO-score (1-Wasserstein): {to_score(bc, metric='wasserstein'):.6g}")
    if dropped:
        print(f"({dropped} grid artifact bar(s) of length <= {min_length:.3g} dropped; "
              "--min-length 0 keeps them)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "exact",
        help="exact barcode and TO-score of a built-in analytic landscape",
        description=(
            "Sample an analytic landscape (registered, your own function with --bounds, or a "
            "polynomial by --coeffs) on a grid over its box and print its "
            "exact loss barcode (0-dimensional lower-star persistence by GUDHI), the grid "
            "minima and the TO-score. --list shows the names."
        ),
    )
    landscape_flags(p)
    p.add_argument("--list", action="store_true", help="list the registered landscapes and exit")
    p.add_argument(
        "--resolution",
        metavar="R",
        type=int,
        default=None,
        help="grid points per axis (default: about 2**18 grid points in all)",
    )
    p.add_argument(
        "--min-length",
        metavar="EPS",
        type=float,
        default=None,
        help="drop finite bars of length <= EPS: minima that only the grid creates, e.g. in "
        "diagonal valleys (default: 0.1%% of the span of the bars; 0 keeps all)",
    )
    p.add_argument(
        "--json",
        metavar="FILE",
        nargs="?",
        const="-",
        help="write bars, minima, saddles and TO-score as JSON to FILE (stdout if omitted)",
    )
    p.set_defaults(func=_run)
