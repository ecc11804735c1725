"""From a landscape graph to the loss barcode and the TO-score — no torch, no training.

A loss landscape is summarized by a *landscape graph*: one node per minimum, weighted by
its loss, and one edge per optimized path, weighted by the path's barrier (its highest
loss). Its 0-dimensional persistence (GUDHI) is the *loss barcode*: one bar per minimum,
from its loss up to the saddle at which its basin merges into that of a lower minimum.
The TO-score is the bottleneck distance from that barcode to the ideal one-bar barcode,
i.e. half the longest finite bar (``inf`` if the graph is disconnected).

This example builds graphs by hand and from a barrier matrix with a missing path, prints
every bar with its saddle and merge partner, both TO-scores (bottleneck and
1-Wasserstein), checks a JSON round trip, and draws the barcode, the persistence
diagram and the disconnectivity graph (plus those of a disconnected graph).

    python examples/graph_barcode.py --out examples-output/graph_barcode
    python examples/graph_barcode.py --quick            # same, it is instantaneous
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import topoloss as tl


def by_hand() -> tl.LandscapeGraph:
    """Five minima of a made-up landscape, connected by six paths."""
    g = tl.LandscapeGraph()
    for name, loss in [("A", 0.05), ("B", 0.10), ("C", 0.12), ("D", 0.30), ("E", 0.32)]:
        g.add_minimum(name, loss)
    # two barriers for A-B: the graph keeps the lower one, and every record
    g.add_path("A", "B", 0.60, curve="linear")
    g.add_path("A", "B", 0.40, curve="bezier")
    g.add_path("B", "C", 0.25)
    g.add_path("A", "D", 0.90)
    g.add_path("C", "D", 0.70)
    g.add_path("D", "E", 0.35)
    return g


def from_matrix() -> tl.LandscapeGraph:
    """Four minima from a symmetric barrier matrix; ``inf`` marks a pair never connected."""
    losses = [0.0, 0.2, 0.5, 0.1]
    inf = math.inf
    barriers = [
        [0.0, 1.0, 2.0, inf],  # no path between w and z ...
        [1.0, 0.0, 1.5, 0.8],  # ... but z reaches w through x
        [2.0, 1.5, 0.0, 3.0],
        [inf, 0.8, 3.0, 0.0],
    ]
    return tl.LandscapeGraph.from_barriers(losses, barriers, names=["w", "x", "y", "z"])


def disconnected() -> tl.LandscapeGraph:
    """Two groups of minima with no path between them: two infinite bars."""
    inf = math.inf
    barriers = [
        [0.0, 0.5, inf, inf],
        [0.5, 0.0, inf, inf],
        [inf, inf, 0.0, 0.9],
        [inf, inf, 0.9, 0.0],
    ]
    return tl.LandscapeGraph.from_barriers([0.0, 0.3, 0.2, 0.4], barriers, names=["p", "q", "r", "s"])


def describe(label: str, graph: tl.LandscapeGraph) -> tl.Barcode:
    """Print the graph's barcode bar by bar and its TO-scores; return the barcode."""
    bc = tl.loss_barcode(graph)
    print(f"== {label}: {graph!r}, connected={graph.is_connected()}")
    for bar in sorted(bc.bars(), key=lambda b: (b.birth, b.death)):
        if bar.saddle is None:
            print(f"  {bar.name!s:>3}: [{bar.birth:.3f}, inf)   global minimum of its component")
        else:
            u, v = bar.saddle
            print(
                f"  {bar.name!s:>3}: [{bar.birth:.3f}, {bar.death:.3f}]  length {bar.length:.3f}"
                f"  saddle {u}-{v}  merges into {bar.merges_into}"
            )
    bottleneck = tl.to_score(bc)
    wasserstein = tl.to_score(bc, metric="wasserstein", order=1)
    print(f"  TO-score (bottleneck): {bottleneck:.6g}")
    print(f"  TO-score (1-Wasserstein): {wasserstein:.6g}")
    if bc.n_components == 1:
        # the closed forms of SPEC §6: max and sum of the finite half-lengths
        half = (bc.finite()[:, 1] - bc.finite()[:, 0]) / 2
        assert math.isclose(bottleneck, half.max(initial=0.0), abs_tol=1e-12)
        assert math.isclose(wasserstein, half.sum(), abs_tol=1e-9)
    return bc


def round_trip(graph: tl.LandscapeGraph, bc: tl.Barcode, out: Path) -> bool:
    """Write the graph to JSON, read it back, and compare graphs and barcodes."""
    file = out / "graph.json"
    graph.to_json(file)
    again = tl.LandscapeGraph.from_json(file)
    same_graph = again.nodes == graph.nodes and np.array_equal(
        again.barrier_matrix(), graph.barrier_matrix()
    )
    same_barcode = tl.loss_barcode(again) == bc and tl.Barcode.from_dict(bc.to_dict()) == bc
    print(f"JSON round trip ({file}): graph identical={same_graph}, barcode identical={same_barcode}")
    print(f"  path records kept for A-B: {again.paths('A', 'B')}")
    return same_graph and same_barcode


def draw(bc: tl.Barcode, bc_split: tl.Barcode, out: Path) -> list[Path]:
    """The barcode pictures, one file each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from topoloss.plot import plot_barcode, plot_diagram, plot_disconnectivity

    files = []

    def save(fig: object, name: str) -> None:
        path = out / name
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        files.append(path)

    fig, ax = plt.subplots(figsize=(5, 4))
    plot_barcode(bc, ax=ax, labels=True)
    save(fig, "barcode.png")
    fig, ax = plt.subplots(figsize=(5, 4))
    plot_diagram(bc, ax=ax)
    save(fig, "diagram.png")
    fig, ax = plt.subplots(figsize=(5, 4))
    plot_disconnectivity(bc, ax=ax)
    save(fig, "disconnectivity.png")
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9, 4))
    plot_barcode(bc_split, ax=ax0, labels=True, title="barcode, 2 components")
    plot_disconnectivity(bc_split, ax=ax1, title="disconnectivity, 2 components")
    save(fig, "disconnected.png")
    return files


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples-output", help="folder for the figures")
    parser.add_argument("--quick", action="store_true", help="accepted for uniformity (always quick)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    g = by_hand()
    bc = describe("graph built by hand", g)
    describe("graph from a barrier matrix with a missing path", from_matrix())
    bc_split = describe("disconnected graph", disconnected())
    # the minimum spanning tree by barrier carries the same barcode
    assert tl.loss_barcode(g.minimum_spanning_tree()).intervals.tolist() == bc.intervals.tolist()
    ok = round_trip(g, bc, out)
    for f in draw(bc, bc_split, out):
        print(f"figure written to {f}")
    print(f"TO-score: {tl.to_score(bc):.6g}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
