"""The minimum spanning forest of a landscape graph, with equal barriers in edge order.

Only its edges can kill a bar of the loss barcode (each merges two components;
every other edge closes a cycle), so :func:`topoloss.loss_barcode` runs GUDHI on it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["spanning_forest"]


def spanning_forest(pairs: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """Rows of ``pairs`` that form the minimum spanning forest, in Kruskal order.

    Edges are ordered by ``(weight, row)``, a total order, so the forest is unique and
    is the one Kruskal's algorithm (and :func:`networkx.minimum_spanning_tree`) picks
    when it scans edges by weight, ties in row order. The weights handed to
    :func:`scipy.sparse.csgraph.minimum_spanning_tree` are the ranks ``1 .. E`` in that
    order: no zero (which a sparse matrix reads as "no edge"), no negative value and no
    tie. ``pairs`` must not repeat a row (a sparse matrix built from repeated
    coordinates sums them): that is an error.

    Parameters
    ----------
    pairs : ndarray, shape (E, 2)
        Endpoint indices in ``0 .. n-1``.
    weights : ndarray, shape (E,)
        Finite weights (barriers).
    n : int
        Number of nodes.

    Returns
    -------
    ndarray of int64
        Row indices of the forest's edges, by increasing ``(weight, row)``.

    Raises
    ------
    ValueError
        If a row of ``pairs`` repeats.
    """
    m = weights.shape[0]
    if m == 0:
        return np.empty(0, dtype=np.int64)
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import minimum_spanning_tree

    order = np.argsort(weights)  # an unstable sort is several times faster ...
    ordered = weights[order]
    if (ordered[1:] == ordered[:-1]).any():  # ... and right unless weights tie
        order = np.argsort(weights, kind="stable")
    rank = np.empty(m)
    rank[order] = np.arange(1, m + 1, dtype=float)
    matrix = csr_matrix((rank, (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    if matrix.nnz != m:
        raise ValueError(f"pairs repeat an edge: {m} rows, {matrix.nnz} distinct")
    tree = minimum_spanning_tree(matrix, overwrite=True)
    return order[np.sort(tree.data).astype(np.int64) - 1]
