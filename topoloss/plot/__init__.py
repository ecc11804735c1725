"""Pictures: every function takes ``ax=None`` and returns the matplotlib Axes."""

from topoloss.plot.barcode import plot_barcode, plot_comparison, plot_diagram
from topoloss.plot.disconnectivity import MergeNode, merge_tree, plot_disconnectivity

__all__ = [
    "MergeNode",
    "merge_tree",
    "plot_barcode",
    "plot_comparison",
    "plot_diagram",
    "plot_disconnectivity",
]
