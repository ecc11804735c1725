"""The whole pipeline in one call: minima -> paths -> graph -> barcode -> TO-score."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from topoloss.topology.barcode import Barcode, loss_barcode
from topoloss.paths.optimize import DEFAULT_CURVE, as_minima, connect
from topoloss.paths.curves import Curve
from topoloss.topology.graph import LandscapeGraph
from topoloss.landscapes.base import Landscape
from topoloss.minima.find import Minima, Pairs, find_minima
from topoloss.paths.record import Path
from topoloss.topology.score import to_score

__all__ = ["Analysis", "analyze", "build_graph"]

#: Nodes get a ``point`` attribute (coordinates as a list) up to this dimension.
POINT_ATTR_MAX_DIM = 64


@dataclass(frozen=True, eq=False)
class Analysis:
    """Result of :func:`analyze`.

    Attributes
    ----------
    minima : Minima
        The minima (nodes of the graph).
    paths : tuple of Path
        The optimized paths (edges of the graph), in pair order.
    graph : LandscapeGraph
        Minima with their losses (and ``point`` for low-dimensional landscapes), paths
        with their barriers and records.
    barcode : Barcode
        The loss barcode of the graph.
    to_score : float
        Its TO-score (bottleneck distance to the ideal one-bar barcode).
    """

    minima: Minima
    paths: tuple[Path, ...]
    graph: LandscapeGraph
    barcode: Barcode
    to_score: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "paths", tuple(self.paths))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: minima, paths (without tensors), barcode and TO-score."""
        score = self.to_score
        return {
            "minima": self.minima.to_dict(points=self.minima.dim <= POINT_ATTR_MAX_DIM),
            "paths": [p.to_dict(tensors=False) for p in self.paths],
            "barcode": self.barcode.to_dict(),
            "to_score": score if math.isfinite(score) else None,
            "connected": self.barcode.n_components == 1,
        }

    def __str__(self) -> str:
        return (
            f"{self.barcode}\nTO-score: {self.to_score:.6g} "
            f"({len(self.minima)} minima, {len(self.paths)} paths)"
        )


def build_graph(
    minima: Minima, paths: Sequence[Path], *, points: bool | None = None
) -> LandscapeGraph:
    """The landscape graph of minima and paths (SPEC §4).

    Parameters
    ----------
    minima : Minima
        One node per minimum (in their order), weighted by its loss.
    paths : sequence of Path
        One edge record per path: ``barrier`` plus ``path`` (the record's
        :meth:`Path.to_dict` without tensors); the edge keeps the lowest barrier.
    points : bool, optional
        Store each minimum's coordinates as node attribute ``point`` (a list);
        default: when the dimension is at most 64.

    Raises
    ------
    ValueError
        If a path joins a minimum not in ``minima``.
    """
    if points is None:
        points = minima.dim <= POINT_ATTR_MAX_DIM
    graph = LandscapeGraph()
    for k, name in enumerate(minima.names):
        attrs: dict[str, Any] = {}
        if points:
            attrs["point"] = minima.points[k].cpu().tolist()
        graph.add_minimum(name, float(minima.losses[k]), **attrs)
    for path in paths:
        graph.add_path(path.u, path.v, path.barrier, path=path.to_dict(tensors=False))
    return graph


def analyze(
    landscape: Landscape,
    *,
    minima: Minima | Any = None,
    n_minima: int = 32,
    curve: Curve = DEFAULT_CURVE,
    pairs: Pairs = "all",
    seed: int = 0,
    epochs: int | None = None,
    lr: float | None = None,
    optimizer: Literal["adam", "sgd"] = "adam",
    n_eval: int = 61,
    refine: int = 2,
    linear: bool = True,
    progress: bool = True,
    on_path: Callable[[Path], None] | None = None,
    find_options: Mapping[str, Any] | None = None,
    connect_options: Mapping[str, Any] | None = None,
) -> Analysis:
    """Minima, optimized paths, landscape graph, loss barcode and TO-score.

    Parameters
    ----------
    landscape : Landscape
        The loss.
    minima : Minima or array_like of shape (m, P), optional
        Given minima; by default found with
        ``find_minima(landscape, n_minima, seed=seed, **find_options)``.
    n_minima : int
        Number of descents when searching for minima (the distinct minima found may be
        fewer).
    curve, pairs, seed, epochs, lr, optimizer, n_eval, refine, linear, progress, on_path
        Passed to :func:`topoloss.connect`.
    find_options : mapping, optional
        Further keywords of :func:`topoloss.find_minima`.
    connect_options : mapping, optional
        Further keywords of :func:`topoloss.connect` (e.g. ``t_batch``).

    Returns
    -------
    Analysis

    Examples
    --------
    >>> import topoloss.analytic as ta
    >>> result = analyze(ta.himmelblau(), progress=False)      # doctest: +SKIP
    >>> result.to_score                                         # doctest: +SKIP
    """
    if minima is None:
        found = find_minima(landscape, n_minima, seed=seed, **dict(find_options or {}))
    else:
        found = as_minima(landscape, minima)
    paths = connect(
        landscape,
        found,
        curve=curve,
        pairs=pairs,
        epochs=epochs,
        lr=lr,
        optimizer=optimizer,
        seed=seed,
        n_eval=n_eval,
        refine=refine,
        linear=linear,
        progress=progress,
        on_path=on_path,
        **dict(connect_options or {}),
    )
    graph = build_graph(found, paths)
    barcode = loss_barcode(graph)
    return Analysis(found, tuple(paths), graph, barcode, to_score(barcode))
