"""Exact ground truth of analytic landscapes on a grid (SPEC §7).

The function is sampled on a regular grid over its box. The grid is a cubical complex
whose vertices carry the sampled values (lower-star filtration: an edge enters at the
larger value of its two vertices, a square at the largest of its four), so two
vertices are joined at level ``c`` exactly when an *axis-aligned* path of vertices
with values ``<= c`` connects them.

- :func:`exact_barcode` is the 0-dimensional persistence of that filtration, computed
  by GUDHI (:class:`gudhi.CubicalComplex` with ``vertices=``): one bar per grid local
  minimum. It is exact up to the grid resolution.
- :func:`exact_barriers` is the pairwise merge height of given points: the smallest
  level at which their nearest grid vertices lie in one component of the sublevel set
  (the minimax path on the grid graph), computed on the grid's minimum spanning tree.

GUDHI notes. On a vertex-valued cubical complex every vertex that is *not* a local
minimum is born and killed at its own value by one of its edges, so
``min_persistence=-1`` returns one zero-length pair per grid vertex. Grid minima are
the pairs of positive length (plus the essential class), which is what
``min_persistence=0`` keeps; a plateau of equal values yields one bar. Vertex indices
returned by :meth:`gudhi.CubicalComplex.vertices_of_persistence_pairs` are in
Fortran (column-major) order whatever the memory layout of the input array.

Grid artifacts. A narrow valley that is not aligned with the grid axes can hold
several 4-connected grid minima; they give extra bars of length ``O(h**2)`` (``h`` the
spacing) next to the true minimum. Remove them with ``Barcode.drop_short(eps)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import gudhi
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree

from topoloss.analytic.landscape import AnalyticLandscape
from topoloss.errors import InputError, InputTypeError
from topoloss.topology.barcode import Barcode

__all__ = ["GridMinima", "default_resolution", "exact_barcode", "exact_barriers", "exact_minima"]

#: Largest grid (number of vertices) accepted, to keep memory bounded.
MAX_VERTICES = 1 << 26


def default_resolution(dim: int) -> int:
    """Default number of grid points per axis: about ``2**18`` vertices in all, odd.

    1-D: 65537, 2-D: 513, 3-D: 65.
    """
    if dim == 1:
        return 65537
    n = math.floor((1 << 18) ** (1.0 / dim) + 1e-9)
    return max(3, n if n % 2 else n + 1)


def _check_landscape(landscape: object) -> AnalyticLandscape:
    if not isinstance(landscape, AnalyticLandscape):
        raise InputTypeError(f"expected an AnalyticLandscape, got {type(landscape).__name__}")
    return landscape


def _check_resolution(
    landscape: AnalyticLandscape, resolution: int | Sequence[int] | None
) -> tuple[int, ...]:
    d = landscape.dim
    if resolution is None:
        return (default_resolution(d),) * d
    try:
        if np.ndim(resolution) == 0:
            res = [int(resolution)] * d  # type: ignore[arg-type]
        else:
            res = [int(r) for r in resolution]  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise InputError(
            f"resolution={resolution!r}; expected an integer or {d} integers"
        ) from None
    if len(res) != d:
        raise InputError(
            f"resolution={resolution!r} has {len(res)} entries for a {d}-dimensional landscape"
        )
    if min(res) < 3:
        raise InputError(
            f"resolution={resolution!r} is too small; need at least 3 grid points per axis"
        )
    if math.prod(res) > MAX_VERTICES:
        raise InputError(
            f"resolution={resolution!r} gives {math.prod(res)} grid points; at most {MAX_VERTICES}"
        )
    return tuple(res)


@dataclass(frozen=True, eq=False)
class GridMinima:
    """The grid minima of a landscape and their exact barcode.

    Row ``i`` of every array belongs to ``barcode.names[i] == i``: minima are numbered
    ``0..k-1`` by increasing value; of equal values, the longer bar comes first.

    Attributes
    ----------
    barcode : Barcode
        The exact barcode (see :func:`exact_barcode`).
    points : ndarray of shape (k, d)
        Coordinates of the grid minima.
    values : ndarray of shape (k,)
        Function values there (the births).
    saddle_points : ndarray of shape (k, d)
        The grid vertex at which each bar dies (the higher end of the edge joining two
        components); ``nan`` for the essential bar.
    indices : ndarray of shape (k, d)
        Grid indices of the minima.
    axes : tuple of ndarray
        Grid coordinates along each axis.
    """

    barcode: Barcode
    points: np.ndarray
    values: np.ndarray
    saddle_points: np.ndarray
    indices: np.ndarray
    axes: tuple[np.ndarray, ...]

    @property
    def spacing(self) -> np.ndarray:
        """Grid step along each axis."""
        return np.array([a[1] - a[0] for a in self.axes])

    def __len__(self) -> int:
        return self.values.shape[0]


def _gudhi_pairs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat (C-order) indices of the birth vertex and death vertex (``-1``: essential)
    of every 0-dimensional bar of positive length, from GUDHI."""
    cc = gudhi.CubicalComplex(vertices=values)
    cc.compute_persistence(homology_coeff_field=2, min_persistence=0)
    regular, essential = cc.vertices_of_persistence_pairs()
    reg = (
        np.asarray(regular[0], dtype=np.int64).reshape(-1, 2)
        if regular
        else np.empty((0, 2), np.int64)
    )
    ess = (
        np.asarray(essential[0], dtype=np.int64).reshape(-1) if essential else np.empty(0, np.int64)
    )

    def c_order(flat_f: np.ndarray) -> np.ndarray:
        return np.ravel_multi_index(np.unravel_index(flat_f, values.shape, order="F"), values.shape)

    births = np.concatenate([c_order(reg[:, 0]), c_order(ess)])
    deaths = np.concatenate([c_order(reg[:, 1]), np.full(ess.shape, -1, np.int64)])
    return births, deaths


def _merge_heights(values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Pairwise merge heights of grid vertices ``query`` (flat C-order indices).

    Minimax paths on the grid graph (axis-aligned edges weighted by the larger vertex
    value) are paths in its minimum spanning tree; Kruskal's merges along the tree's
    edges, in increasing order, give every pair its merge level.
    """
    shape = values.shape
    flat = values.ravel()
    n = flat.size
    order = np.argsort(flat, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    idx = np.arange(n).reshape(shape)
    us, vs = [], []
    for ax, m in enumerate(shape):
        us.append(np.take(idx, np.arange(m - 1), axis=ax).ravel())
        vs.append(np.take(idx, np.arange(1, m), axis=ax).ravel())
    u, v = np.concatenate(us), np.concatenate(vs)
    # Integer ranks (+1: scipy drops zero weights) make ties and rounding harmless.
    w = (np.maximum(rank[u], rank[v]) + 1).astype(np.float64)
    tree = minimum_spanning_tree(coo_matrix((w, (u, v)), shape=(n, n)).tocsr()).tocoo()
    by_weight = np.argsort(tree.data, kind="stable")
    tu, tv = tree.row[by_weight].tolist(), tree.col[by_weight].tolist()
    tw = flat[order[tree.data[by_weight].astype(np.int64) - 1]]

    k = query.shape[0]
    out = np.full((k, k), np.inf)
    out[np.arange(k), np.arange(k)] = flat[query]
    members: dict[int, list[int]] = {}
    for i, q in enumerate(query.tolist()):
        members.setdefault(q, []).append(i)
    for lst in members.values():  # several points on one vertex
        out[np.ix_(lst, lst)] = flat[query[lst[0]]]
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    remaining = len(members) - 1
    for e in range(len(tu)):
        if remaining <= 0:
            break
        ra, rb = find(tu[e]), find(tv[e])
        ma, mb = members.get(ra), members.get(rb)
        parent[rb] = ra
        if mb is not None:
            del members[rb]
            if ma is not None:
                out[np.ix_(ma, mb)] = out[np.ix_(mb, ma)] = tw[e]
                ma.extend(mb)
                remaining -= 1
            else:
                members[ra] = mb
    return out


def _nearest_vertices(
    landscape: AnalyticLandscape, shape: tuple[int, ...], points: object
) -> np.ndarray:
    """Flat C-order index of the grid vertex nearest to each point, validated."""
    p = np.asarray(points, dtype=float)
    d = landscape.dim
    if p.ndim == 1 and p.shape[0] == d:
        p = p[None, :]
    if p.ndim != 2 or p.shape[1] != d:
        raise InputError(
            f"points must have shape (n, {d}) for a {d}-dimensional landscape, got {p.shape}"
        )
    if p.shape[0] == 0:
        raise InputError("points is empty")
    bad = np.flatnonzero(~np.isfinite(p).all(axis=1))
    if bad.size:
        raise InputError(f"points[{bad[0]}] = {p[bad[0]].tolist()} is not finite")
    lo = np.array([b[0] for b in landscape.bounds])
    hi = np.array([b[1] for b in landscape.bounds])
    slack = 1e-9 * (hi - lo)
    outside = np.flatnonzero(((p < lo - slack) | (p > hi + slack)).any(axis=1))
    if outside.size:
        i = int(outside[0])
        raise InputError(
            f"points[{i}] = {p[i].tolist()} lies outside the box {list(landscape.bounds)} of {landscape.name!r}"
        )
    ij = np.rint((p - lo) / (hi - lo) * (np.array(shape) - 1)).astype(np.int64)
    ij = np.clip(ij, 0, np.array(shape) - 1)
    return np.ravel_multi_index(tuple(ij.T), shape)


def exact_minima(
    landscape: AnalyticLandscape, *, resolution: int | Sequence[int] | None = None
) -> GridMinima:
    """The grid minima of ``landscape``, their exact barcode and saddle vertices.

    Parameters
    ----------
    landscape : AnalyticLandscape
        Any dimension; the grid covers its box, endpoints included.
    resolution : int or sequence of int, optional
        Grid points per axis (at least 3); default :func:`default_resolution`.

    Returns
    -------
    GridMinima
        Minima numbered by increasing value, with the barcode. Bars come from GUDHI;
        ``saddles`` and ``merges_into`` of the barcode are named like
        :func:`topoloss.loss_barcode` would name them on the complete graph of merge
        heights: the saddle of minimum ``i`` is ``(i, j)`` with ``j`` the eldest
        minimum of the component it joins, ``merges_into`` the eldest minimum of the
        merged component.

    Raises
    ------
    ValueError
        If ``resolution`` is too small or too large.
    """
    landscape = _check_landscape(landscape)
    res = _check_resolution(landscape, resolution)
    axes, values = landscape.grid(res)
    if not np.isfinite(values).all():
        raise InputError(
            f"{landscape.name!r} is not finite everywhere on its box {list(landscape.bounds)}"
        )
    births, deaths = _gudhi_pairs(values)
    flat = values.ravel()
    death_val = np.where(deaths >= 0, flat[np.maximum(deaths, 0)], np.inf)
    order = np.lexsort((births, -death_val, flat[births]))
    births, deaths, death_val = births[order], deaths[order], death_val[order]
    k = births.shape[0]

    heights = _merge_heights(values, births)
    saddles: list[tuple[int, int] | None] = [None] * k
    merges: list[int | None] = [None] * k
    for i in range(k):
        if deaths[i] < 0:
            continue
        older = heights[i, :i]
        level = older.min()  # the bar's death, by the elder rule
        saddles[i] = (i, int(np.flatnonzero(older == level)[0]))
        merges[i] = int(np.flatnonzero(heights[i] <= level)[0])
    intervals = np.column_stack([flat[births], death_val])
    barcode = Barcode(tuple(range(k)), intervals, tuple(saddles), tuple(merges))

    ij = (
        np.column_stack(np.unravel_index(births, values.shape))
        if k
        else np.empty((0, landscape.dim), np.int64)
    )
    points = np.column_stack([axes[a][ij[:, a]] for a in range(landscape.dim)])
    sp = np.full((k, landscape.dim), np.nan)
    fin = deaths >= 0
    if fin.any():
        sij = np.column_stack(np.unravel_index(deaths[fin], values.shape))
        sp[fin] = np.column_stack([axes[a][sij[:, a]] for a in range(landscape.dim)])
    for arr in (points, sp, ij):
        arr.setflags(write=False)
    vals = intervals[:, 0].copy()
    vals.setflags(write=False)
    return GridMinima(barcode, points, vals, sp, ij, tuple(axes))


def exact_barcode(
    landscape: AnalyticLandscape, *, resolution: int | Sequence[int] | None = None
) -> Barcode:
    """The exact 0-dimensional barcode of ``landscape`` on a grid over its box (SPEC §7).

    Lower-star persistence of the sampled values, computed by
    :class:`gudhi.CubicalComplex` (``vertices=``). One bar per grid local minimum
    (named ``0..k-1`` by increasing value); the global minimum's bar is infinite.
    Grid coordinates of the minima and saddles: :func:`exact_minima`.

    Parameters
    ----------
    landscape : AnalyticLandscape
        Any dimension (1-D, 2-D and 3-D are tested).
    resolution : int or sequence of int, optional
        Grid points per axis (at least 3); default :func:`default_resolution`.

    Returns
    -------
    Barcode

    Raises
    ------
    ValueError
        If ``resolution`` is too small or too large.

    Examples
    --------
    >>> from topoloss.analytic import styblinski_tang
    >>> bc = exact_barcode(styblinski_tang(dim=1), resolution=1001)
    >>> len(bc), bc.n_components
    (2, 1)
    """
    return exact_minima(landscape, resolution=resolution).barcode


def exact_barriers(
    landscape: AnalyticLandscape,
    points: np.ndarray | Sequence[Sequence[float]],
    *,
    resolution: int | Sequence[int] | None = None,
) -> np.ndarray:
    """Pairwise exact barriers (merge heights, SPEC §7) between points of the box.

    ``out[i, j]`` is the smallest level ``c`` at which the grid vertices nearest to
    ``points[i]`` and ``points[j]`` lie in one connected component of the grid sublevel
    set ``{value <= c}`` (axis-aligned adjacency, as in :func:`exact_barcode`); the
    diagonal holds the value at each point's vertex. Every path between two points
    climbs at least this high, up to the grid error.

    Parameters
    ----------
    landscape : AnalyticLandscape
        The function and its box.
    points : array_like of shape (n, d)
        Points inside the box (a single point of shape ``(d,)`` is accepted).
    resolution : int or sequence of int, optional
        Grid points per axis (at least 3); default :func:`default_resolution`.

    Returns
    -------
    ndarray of shape (n, n)
        Symmetric merge heights.

    Raises
    ------
    ValueError
        If a point has the wrong dimension, is not finite or lies outside the box, or
        ``resolution`` is invalid.
    """
    landscape = _check_landscape(landscape)
    res = _check_resolution(landscape, resolution)
    query = _nearest_vertices(landscape, res, points)
    _, values = landscape.grid(res)
    return _merge_heights(values, query)
