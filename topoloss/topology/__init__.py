"""Graph -> barcode -> score: the landscape graph, its loss barcode and the TO-score.

This layer needs numpy, networkx and GUDHI only; it never imports torch.

Importing it gives :class:`LandscapeGraph`'s builder, conversion and file methods their
implementations (see :mod:`topoloss.topology._graph_methods`): the array core
(:mod:`~topoloss.topology.graph`) does not import the modules that hold them.
"""

from topoloss.topology import graph_build, graph_convert, graph_io
from topoloss.topology._graph_methods import implement_graph_methods
from topoloss.topology.barcode import Bar, Barcode
from topoloss.topology.graph import LandscapeGraph
from topoloss.topology.persistence import loss_barcode
from topoloss.topology.score import (
    barcode_summary,
    ideal_diagram,
    to_score,
    wasserstein_to_ideal,
)

implement_graph_methods(
    from_barriers=graph_build.graph_from_barriers,
    from_edges=graph_build.graph_from_edges,
    from_paths=graph_build.graph_from_paths,
    to_networkx=graph_convert.graph_to_networkx,
    from_networkx=graph_convert.graph_from_networkx,
    to_dict=graph_convert.graph_to_dict,
    from_dict=graph_convert.graph_from_dict,
    to_json=graph_io.write_json,
    from_json=graph_io.read_json_source,
    read=graph_io.read_graph,
    write=graph_io.write_graph,
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
