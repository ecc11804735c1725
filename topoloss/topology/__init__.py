"""Graph -> barcode -> score: the landscape graph, its loss barcode and the TO-score.

This layer needs numpy, networkx and GUDHI only; it never imports torch.
"""

from topoloss.topology.barcode import Bar, Barcode
from topoloss.topology.graph import LandscapeGraph
from topoloss.topology.persistence import loss_barcode
from topoloss.topology.score import (
    barcode_summary,
    ideal_diagram,
    to_score,
    wasserstein_to_ideal,
)

__all__ = [
    "Bar",
    "Barcode",
    "LandscapeGraph",
    "barcode_summary",
    "ideal_diagram",
    "loss_barcode",
    "to_score",
    "wasserstein_to_ideal",
]
