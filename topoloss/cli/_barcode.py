"""``topoloss barcode``: graph file -> loss barcode and TO-score."""

from __future__ import annotations

import argparse
import warnings

from topoloss.cli import emit_json
from topoloss.errors import TopolossWarning
from topoloss.topology.graph import LandscapeGraph
from topoloss.topology.persistence import loss_barcode
from topoloss.topology.score import barcode_summary, to_score

__all__ = ["register"]


def _run(args: argparse.Namespace) -> int:
    graph = LandscapeGraph.read(args.graph)
    if len(graph) == 1:
        warnings.warn(f"{args.graph} holds one minimum: its barcode is trivial (one infinite bar, TO-score 0)",
                      TopolossWarning, stacklevel=1)
    bc = loss_barcode(graph)
    if args.json and emit_json(args.json, barcode_summary(bc)):
        return 0
    print(bc)
    print(f"TO-score (bottleneck): {to_score(bc):.6g}")
    print(f"TO-score (1-Wasserstein): {to_score(bc, metric='wasserstein'):.6g}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "barcode",
        help="loss barcode and TO-score of a landscape graph",
        description=(
            "Compute the loss barcode (0-dimensional persistence) and TO-score of a "
            "landscape graph. GRAPH is a JSON graph written by topoloss, an NPZ file with "
            "arrays 'losses' (n,) and 'barriers' (n, n) (or, for a sparse graph, 'edges' (E, 2) "
            "and 'barriers' (E,)), a CSV of n rows "
            "'loss, barrier_1, ..., barrier_n' (an empty cell or inf = no path; NaN, -inf and "
            "text are errors), or GraphML / GEXF "
            "with node attribute 'loss' and edge attribute 'barrier'."
        ),
    )
    p.add_argument("graph", metavar="GRAPH", help="run directory, or graph file (.json, .npz, .csv, .graphml, .gexf)")
    p.add_argument(
        "--json",
        metavar="FILE",
        nargs="?",
        const="-",
        help="write bars, saddles and TO-score as JSON to FILE (stdout if FILE is omitted)",
    )
    p.set_defaults(func=_run)
