"""``topoloss barcode``: graph file -> loss barcode and TO-score."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from topoloss.topology.barcode import loss_barcode
from topoloss.topology.graph import LandscapeGraph
from topoloss.cli import emit_json
from topoloss.topology.score import barcode_summary, to_score

__all__ = ["read_graph", "register"]


def read_graph(path: str | Path) -> LandscapeGraph:
    """Read a landscape graph from a run directory, JSON, NPZ (``losses``, ``barriers``) or CSV.

    The CSV holds ``n`` rows of ``n + 1`` numbers: the loss of minimum ``i`` followed
    by row ``i`` of the barrier matrix (``inf``/``nan``/empty = no path). A line
    starting with ``#`` is a comment.
    """
    p = Path(path)
    if p.is_dir():  # a run directory
        if not (p / "graph.json").exists():
            raise FileNotFoundError(f"{p} holds no graph.json: run `topoloss connect --run {p}` first")
        p = p / "graph.json"
    if not p.exists():
        raise FileNotFoundError(f"graph file not found: {p}")
    suffix = p.suffix.lower()
    if suffix == ".json":
        return LandscapeGraph.from_json(p)
    if suffix == ".npz":
        with np.load(p, allow_pickle=False) as data:
            missing = [k for k in ("losses", "barriers") if k not in data]
            if missing:
                raise ValueError(f"{p}: NPZ file lacks array(s) {missing}; found {list(data)}")
            names = [str(x) for x in data["names"]] if "names" in data else None
            return LandscapeGraph.from_barriers(data["losses"], data["barriers"], names=names)
    if suffix in (".csv", ".txt"):
        try:
            table = np.genfromtxt(p, delimiter=",", comments="#", dtype=float, ndmin=2)
        except ValueError as exc:
            raise ValueError(f"{p}: malformed CSV: {exc}") from None
        if table.ndim != 2 or table.shape[1] != table.shape[0] + 1:
            raise ValueError(
                f"{p}: expected n rows of n+1 columns (loss, then the barrier row), "
                f"got shape {table.shape}"
            )
        return LandscapeGraph.from_barriers(table[:, 0], table[:, 1:])
    raise ValueError(f"{p}: unknown graph format {suffix!r}; expected .json, .npz or .csv")


def _run(args: argparse.Namespace) -> int:
    graph = read_graph(args.graph)
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
            "arrays 'losses' (n,) and 'barriers' (n, n), or a CSV of n rows "
            "'loss, barrier_1, ..., barrier_n' (inf or nan = no path)."
        ),
    )
    p.add_argument("graph", metavar="GRAPH", help="run directory, or graph file (.json, .npz, .csv)")
    p.add_argument(
        "--json",
        metavar="FILE",
        nargs="?",
        const="-",
        help="write bars, saddles and TO-score as JSON to FILE (stdout if FILE is omitted)",
    )
    p.set_defaults(func=_run)
