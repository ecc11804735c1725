"""topoloss: the topology of neural-network loss landscapes.

Minima and the low-loss paths between them form a weighted graph; its 0-dimensional
persistence is the *loss barcode*, and the bottleneck distance from that barcode to the
ideal one-bar barcode is the *TO-score*.
"""

from topoloss.barcode import Bar, Barcode, loss_barcode
from topoloss.graph import LandscapeGraph
from topoloss.score import ideal_diagram, to_score

__version__ = "0.1.0"

__all__ = [
    "Bar",
    "Barcode",
    "LandscapeGraph",
    "ideal_diagram",
    "loss_barcode",
    "to_score",
    "__version__",
]
