"""Pictures: every function takes ``ax=None`` and returns the matplotlib Axes."""

from topoloss.plot.barcode import (
    plot_barcode,
    plot_barcodes,
    plot_comparison,
    plot_diagram,
)
from topoloss.plot.convergence import certified_since, plot_convergence
from topoloss.plot.disconnectivity import MergeNode, merge_tree, plot_disconnectivity
from topoloss.plot.landscape2d import plot_landscape_2d
from topoloss.plot.plane import PlaneSlice, plane_slice, plot_plane
from topoloss.plot.profiles import plot_path_metrics, plot_profiles

__all__ = [
    "MergeNode",
    "PlaneSlice",
    "certified_since",
    "merge_tree",
    "plane_slice",
    "plot_barcode",
    "plot_barcodes",
    "plot_comparison",
    "plot_convergence",
    "plot_diagram",
    "plot_disconnectivity",
    "plot_landscape_2d",
    "plot_path_metrics",
    "plot_plane",
    "plot_profiles",
]
