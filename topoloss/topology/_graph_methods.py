"""The builder, conversion and file methods of :class:`~topoloss.topology.graph.LandscapeGraph`.

:class:`GraphMethods` holds them as thin methods; ``LandscapeGraph``, the array core in
:mod:`topoloss.topology.graph`, inherits them. Their implementations live in the modules
that import the core one way only, as networkx's ``readwrite`` functions do:

- :mod:`topoloss.topology.graph_build`: ``from_barriers``, ``from_edges``, ``from_paths``;
- :mod:`topoloss.topology.graph_convert`: ``to_networkx``, ``from_networkx``, ``to_dict``,
  ``from_dict``;
- :mod:`topoloss.topology.graph_io`: ``to_json``, ``from_json``, ``read``, ``write``.

:mod:`topoloss.topology` gives each method its implementation
(:func:`implement_graph_methods`) when it is imported, which Python does before any of
its modules runs; so the core imports none of those modules, not even lazily. This
module imports no other topoloss module.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Self

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

__all__ = ["GRAPH_METHODS", "GraphMethods", "graph_method", "implement_graph_methods"]

#: The methods of :class:`GraphMethods`, each delegating to the function registered under its name.
GRAPH_METHODS = ("from_barriers", "from_edges", "from_paths", "to_networkx", "from_networkx", "to_dict",
                 "from_dict", "to_json", "from_json", "read", "write")

_IMPLEMENTATIONS: dict[str, Callable[..., Any]] = {}


def implement_graph_methods(**functions: Callable[..., Any]) -> None:
    """Register the functions behind the methods named in :data:`GRAPH_METHODS`.

    :mod:`topoloss.topology` calls this once, on import. Each function is called with the
    arguments its method documents (see the method): the builders get a new empty graph
    first (``from_barriers(into, losses, barriers, names)``), the converters the graph or
    the data with ``into=`` a new graph, the file functions the graph and the path.

    Raises
    ------
    KeyError
        A name that is not in :data:`GRAPH_METHODS` (an internal error, not an input error).
    """
    unknown = sorted(set(functions) - set(GRAPH_METHODS))
    if unknown:
        raise KeyError(f"not a LandscapeGraph method: {', '.join(unknown)}")
    _IMPLEMENTATIONS.update(functions)


def graph_method(name: str) -> Callable[..., Any]:
    """The function registered for method ``name`` (see :func:`implement_graph_methods`).

    Raises
    ------
    RuntimeError
        Nothing is registered: :mod:`topoloss.topology` was not imported, which cannot
        happen through a normal import of any of its modules.
    """
    try:
        return _IMPLEMENTATIONS[name]
    except KeyError:
        raise RuntimeError(f"LandscapeGraph.{name} has no implementation: import topoloss.topology") from None


class GraphMethods:
    """Builders, conversions and files of a landscape graph; see the module docstring."""

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_barriers(
        cls,
        losses: Sequence[float] | np.ndarray,
        barriers: Sequence[Sequence[float]] | np.ndarray,
        *,
        names: Sequence[Hashable] | None = None,
    ) -> Self:
        """Build a graph from ``n`` losses and an ``(n, n)`` symmetric barrier matrix.

        Equal to adding the minima, then a path for each finite entry ``[i, j]``, ``i < j``,
        row by row; done on arrays.

        Parameters
        ----------
        losses : array_like, shape (n,)
            Loss of each minimum.
        barriers : array_like, shape (n, n)
            ``barriers[i, j]`` is the barrier between minima ``i`` and ``j``; ``inf``
            or ``nan`` means "no path". The diagonal is ignored.
        names : sequence of hashable, optional
            Node names; default ``0 .. n-1``.

        Raises
        ------
        InputError
            On shape mismatch, an asymmetric matrix, or any invalid loss/barrier.
        """
        return graph_method("from_barriers")(cls(), losses, barriers, names)

    @classmethod
    def from_edges(
        cls,
        losses: Sequence[float] | np.ndarray,
        edges: Sequence[Sequence[int]] | np.ndarray,
        barriers: Sequence[float] | np.ndarray,
        *,
        names: Sequence[Hashable] | None = None,
    ) -> Self:
        """Build a graph from ``n`` losses and ``E`` paths given as arrays (a sparse graph).

        Equal to adding the minima, then ``add_path(names[i], names[j], barriers[k])`` for
        each row ``k = (i, j)`` of ``edges``, in order; done on arrays.

        Parameters
        ----------
        losses : array_like, shape (n,)
            Loss of each minimum.
        edges : array_like of int, shape (E, 2)
            Indices of the two minima of each path.
        barriers : array_like, shape (E,)
            Barrier of each path; ``inf`` or ``nan`` means "no path" (the row is skipped).
        names : sequence of hashable, optional
            Node names; default ``0 .. n-1``.

        Raises
        ------
        InputError
            On shape mismatch, an index out of range, or any invalid loss/barrier.
        """
        return graph_method("from_edges")(cls(), losses, edges, barriers, names)

    @classmethod
    def from_paths(cls, minima: Any, paths: Iterable[Any], *, points: bool | None = None) -> Self:
        """The landscape graph of minima and optimized paths (SPEC §4).

        Equal to adding every minimum (``add_minimum(name, loss)``) and then every path
        (``add_path(u, v, barrier, path=record.to_dict(tensors=False), **at_barrier)``) by
        hand, as :func:`topoloss.engine.pipeline.build_graph` does; ``at_barrier``: the record's
        ``test_loss``/``test_accuracy`` at its barrier point (``record.barrier_metrics()``), if measured.

        Parameters
        ----------
        minima : Minima
            Any object with ``names`` and ``losses`` (and ``points`` for ``points=True``):
            one node per minimum, in that order.
        paths : iterable of PathRecord
            Any objects with ``u``, ``v`` and ``barrier``; a ``to_dict(tensors=False)``
            method, when present, gives the record stored on the edge under ``path``.
        points : bool, optional
            Store each minimum's coordinates as node attribute ``point`` (a list);
            default: when there are at most 64 coordinates.

        Raises
        ------
        InputError
            A path joins a minimum that is not in ``minima``, or a barrier is invalid.

        Examples
        --------
        >>> from types import SimpleNamespace as NS
        >>> from topoloss import LandscapeGraph
        >>> m = NS(names=("a", "b"), losses=[0.0, 0.5])
        >>> g = LandscapeGraph.from_paths(m, [NS(u="a", v="b", barrier=1.0)])
        >>> g.barrier("a", "b"), g.loss("b")
        (1.0, 0.5)
        """
        return graph_method("from_paths")(cls(), minima, paths, points)

    # ------------------------------------------------------------------ conversion
    def to_networkx(self) -> nx.Graph:
        """A copy as a :class:`networkx.Graph` (node ``loss``, edge ``barrier`` and ``paths``)."""
        return graph_method("to_networkx")(self)

    @classmethod
    def from_networkx(cls, graph: nx.Graph, *, loss: str = "loss", barrier: str = "barrier") -> Self:
        """Build from a networkx graph whose nodes carry ``loss`` and edges ``barrier``.

        Other node and edge attributes are kept (edge attributes go into the path record).

        Raises
        ------
        InputError
            If the graph is directed or a multigraph, a node lacks ``loss``, an edge
            lacks ``barrier``, or any value is invalid.
        """
        return graph_method("from_networkx")(graph, into=cls(), loss=loss, barrier=barrier)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (networkx node-link format, numpy values as lists)."""
        return graph_method("to_dict")(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Inverse of :meth:`to_dict` (networkx node-link data: ``nodes`` and ``edges``).

        A node listed twice is an error. An edge whose ``barrier`` is ``null`` or
        ``Infinity`` means "no path" and is skipped; NaN or ``-Infinity`` is an error. A
        pair listed more than once keeps the lowest barrier, and every listing's path
        records (the same rule as :meth:`add_path`).

        Raises
        ------
        InputError
            Naming the node or edge (its position in the list) that is malformed.
        """
        return graph_method("from_dict")(data, into=cls())

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """Serialize to JSON; also write it atomically to ``path`` if given."""
        return graph_method("to_json")(self, path)

    @classmethod
    def from_json(cls, source: str | os.PathLike[str]) -> Self:
        """Read a graph from a JSON file path or a JSON string."""
        return graph_method("from_json")(source, cls)

    # ------------------------------------------------------------------ files
    @classmethod
    def read(
        cls,
        path: str | os.PathLike[str],
        *,
        format: Literal["json", "csv", "npz", "graphml", "gexf"] | None = None,
    ) -> Self:
        """Read a graph from a file, or from a run directory (its ``graph.json``).

        Parameters
        ----------
        path : str or path-like
            The file. A directory is read as a run directory.
        format : {"json", "csv", "npz", "graphml", "gexf"}, optional
            Default: from the suffix (``.json``, ``.csv`` or ``.txt``, ``.npz``,
            ``.graphml``, ``.gexf``).

            - ``json``: what :meth:`to_json` writes (lossless);
            - ``csv``: ``n`` rows of ``n + 1`` comma-separated numbers, the loss of
              minimum ``i`` and then row ``i`` of the barrier matrix (``inf``, ``nan``
              or an empty cell: no path); ``#`` starts a comment; names ``0 .. n-1``;
            - ``npz``: arrays ``losses`` (n,) and ``barriers`` (n, n), optionally
              ``names`` (n,) (read as strings), as :meth:`from_barriers`; or
              ``edges`` (E, 2) and ``barriers`` (E,), as :meth:`from_edges`;
            - ``graphml`` / ``gexf``: networkx's readers, then :meth:`from_networkx`
              (node attribute ``loss``, edge attribute ``barrier``). Node ids that all
              read as integers become ``int``. See :mod:`topoloss.topology.graph_io`.

        Returns
        -------
        LandscapeGraph

        Raises
        ------
        InputError
            If the file is missing, of an unknown format or malformed, or its values
            are invalid; the message names the file (and the line and column of a bad
            CSV cell).

        Examples
        --------
        >>> import tempfile, os
        >>> from topoloss import LandscapeGraph
        >>> g = LandscapeGraph.from_barriers([0.0, 1.0], [[0, 3], [3, 0]])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     g.write(os.path.join(tmp, "g.graphml"))
        ...     LandscapeGraph.read(os.path.join(tmp, "g.graphml")).barrier(0, 1)
        3.0
        """
        return graph_method("read")(path, format=format)

    def write(
        self,
        path: str | os.PathLike[str],
        *,
        format: Literal["json", "graphml", "gexf"] | None = None,
    ) -> None:
        """Write the graph to a file (atomically), in a format :meth:`read` reads back.

        Parameters
        ----------
        path : str or path-like
            The file.
        format : {"json", "graphml", "gexf"}, optional
            Default: from the suffix. JSON is lossless. GraphML and GEXF hold scalar
            attributes only: numpy scalars become numbers, lists and dicts (a minimum's
            ``point``, an edge's ``paths`` records) become their JSON text, ``None``
            values are left out; losses, barriers and hence the barcode survive.

        Raises
        ------
        InputError
            If the format is unknown or cannot be written.
        """
        graph_method("write")(self, path, format=format)
