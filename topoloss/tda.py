"""Loss barcodes in the wider TDA ecosystem: diagrams, giotto-tda arrays, scikit-learn transformers.

A :class:`~topoloss.topology.barcode.Barcode` is a 0-dimensional persistence diagram with
one essential (infinite) bar per connected component. Most vectorizations reject ``inf``
(``gudhi.representations.PersistenceImage`` raises, ``Landscape`` returns NaN, persim's
``PersistenceImager`` warns), so every conversion here takes an explicit ``essential``
policy (see :meth:`Barcode.to_diagram <topoloss.topology.barcode.Barcode.to_diagram>`):
``"keep"``, ``"drop"``, ``"max"`` (cap at the largest finite death) or a float cap. The
default is ``"drop"`` (:data:`~topoloss.topology.essential.DEFAULT_ESSENTIAL`), as persim's
tools and giotto-tda treat the essential H0 bar; ``Barcode.to_diagram`` moves to it too
(today it keeps the bars, with a FutureWarning when ``essential`` is not given).

- :func:`diagrams`: barcodes → list of ``(n, 2)`` arrays (``gudhi.representations``,
  :func:`gudhi.bottleneck_distance`, persim);
- :func:`to_giotto`: barcodes → giotto-tda's padded ``(n_samples, n_points, 3)`` array;
- :class:`BarcodeDiagrams`: :func:`diagrams` as a scikit-learn transformer, to put in
  front of ``gudhi.representations`` in a :class:`~sklearn.pipeline.Pipeline`;
- :class:`BarcodeFeatures`: barcodes → a documented feature table (TO-scores, numbers of
  bars, bar-top and bar-length statistics) for any scikit-learn model.

The conventions of each tool (ground metric, essential bars) are tabulated in
``docs/tda.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from topoloss.errors import InputError
from topoloss.topology.barcode import Barcode
from topoloss.topology.essential import DEFAULT_ESSENTIAL, Essential, essential_policy
from topoloss.topology.score import to_score

__all__ = ["FEATURE_NAMES", "BarcodeDiagrams", "BarcodeFeatures", "barcode_features", "diagrams", "to_giotto"]

#: Columns of :class:`BarcodeFeatures`, in order, with what each one is.
FEATURE_NAMES: dict[str, str] = {
    "to_score": "TO-score, bottleneck distance to the ideal one-bar barcode: max finite bar length / 2",
    "to_score_wasserstein1": "1-Wasserstein TO-score (L∞ ground metric): sum of finite bar lengths / 2",
    "n_bars": "number of bars = number of minima",
    "n_finite": "number of finite bars (minima that merge into a lower one)",
    "n_components": "number of infinite bars = connected components of the landscape graph",
    "n_long": "finite bars longer than `long_fraction` × the span of the births' and deaths' range",
    "birth_min": "lowest minimum's loss (the global minimum level)",
    "birth_mean": "mean loss of the minima",
    "birth_max": "highest minimum's loss",
    "top_min": "lowest bar top (death of a finite bar: the saddle where it merges)",
    "top_mean": "mean bar top",
    "top_max": "highest bar top: the level at which the graph becomes connected",
    "length_mean": "mean finite bar length (death − birth)",
    "length_std": "standard deviation of the finite bar lengths",
    "length_max": "longest finite bar",
    "length_sum": "sum of the finite bar lengths",
}


def _as_intervals(x: Any) -> np.ndarray:
    """A Barcode's intervals, or an ``(n, 2)`` array-like of [birth, death] rows."""
    if isinstance(x, Barcode):
        return x.intervals
    try:
        iv = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"expected a Barcode or an (n, 2) array of [birth, death] rows, got {type(x).__name__}") \
            from None
    if iv.ndim != 2 or iv.shape[1] != 2:
        raise InputError(f"expected a Barcode or an (n, 2) array of [birth, death] rows, got shape {iv.shape}")
    if np.isnan(iv).any() or np.isinf(iv[:, 0]).any():
        raise InputError("diagram has NaN values or infinite births")
    return iv


def _collection(X: Any) -> list[np.ndarray]:
    if isinstance(X, Barcode):
        raise InputError("expected a collection of barcodes, got one Barcode: wrap it in a list")
    if isinstance(X, str) or not isinstance(X, Iterable):
        raise InputError(f"expected a sequence of barcodes, got {type(X).__name__}")
    out = [_as_intervals(x) for x in X]
    if not out:
        raise InputError("expected at least one barcode, got an empty collection")
    return out


def _global_max_death(ivs: Sequence[np.ndarray]) -> float:
    deaths = [iv[np.isfinite(iv[:, 1]), 1] for iv in ivs]
    finite = np.concatenate(deaths) if deaths else np.empty(0)
    return float(finite.max()) if finite.size else -math.inf


def diagrams(barcodes: Iterable[Barcode | Any], *, essential: Essential = DEFAULT_ESSENTIAL) -> list[np.ndarray]:
    """Barcodes (or ``(n, 2)`` arrays) → list of ``(n, 2)`` float arrays for GUDHI and persim.

    Parameters
    ----------
    barcodes : iterable of Barcode or array_like of shape (n, 2)
    essential : {"keep", "drop", "max"} or float
        The essential-bar policy, applied to each barcode on its own (see
        :meth:`Barcode.to_diagram`). Default ``"drop"``
        (:data:`~topoloss.topology.essential.DEFAULT_ESSENTIAL`): what
        ``gudhi.representations`` and persim's images accept.

    Returns
    -------
    list of ndarray

    Examples
    --------
    >>> from topoloss import LandscapeGraph, loss_barcode
    >>> bc = loss_barcode(LandscapeGraph.from_barriers([0.0, 1.0], [[0, 3], [3, 0]]))
    >>> [d.tolist() for d in diagrams([bc, bc], essential="max")]
    [[[0.0, 3.0], [1.0, 3.0]], [[0.0, 3.0], [1.0, 3.0]]]
    """
    return [essential_policy(iv, essential) for iv in _collection(barcodes)]


def to_giotto(barcodes: Iterable[Barcode | Any], *, essential: Essential = DEFAULT_ESSENTIAL) -> np.ndarray:
    """Barcodes → giotto-tda's diagram array of shape ``(n_samples, n_points, 3)``.

    Each row is ``[birth, death, homology dimension]`` with dimension ``0``. Diagrams are
    padded to one length with points on the diagonal ``[m, m, 0]`` (``m`` the smallest
    birth of the collection), as giotto-tda itself pads, and every sample has at least
    one point. giotto-tda holds no infinite deaths, so ``essential="keep"`` is refused.

    Examples
    --------
    >>> from topoloss import LandscapeGraph, loss_barcode
    >>> a = loss_barcode(LandscapeGraph.from_barriers([0.0, 1.0], [[0, 3], [3, 0]]))
    >>> b = loss_barcode(LandscapeGraph.from_barriers([0.5], [[0]]))
    >>> to_giotto([a, b]).tolist()
    [[[1.0, 3.0, 0.0]], [[0.0, 0.0, 0.0]]]
    """
    if isinstance(essential, str) and essential == "keep":
        raise InputError("giotto-tda diagrams cannot hold infinite deaths: use essential='drop', 'max' or a cap")
    ivs = _collection(barcodes)
    ds = [essential_policy(iv, essential) for iv in ivs]
    low = min(float(iv[:, 0].min()) for iv in ivs if iv.size) if any(iv.size for iv in ivs) else 0.0
    n = max(1, max(d.shape[0] for d in ds))
    out = np.empty((len(ds), n, 3))
    out[:, :, :2] = low
    out[:, :, 2] = 0.0
    for k, d in enumerate(ds):
        out[k, : d.shape[0], :2] = d
    return out


class BarcodeDiagrams(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Barcodes → list of ``(n, 2)`` diagrams: the first step of a ``gudhi.representations`` pipeline.

    Parameters
    ----------
    essential : {"keep", "drop", "max"} or float, default "drop"
        The essential-bar policy (see :meth:`Barcode.to_diagram`). ``"max"`` caps at the
        largest finite death of the barcodes seen in :meth:`fit` (``cap_``), so that
        every diagram, training or new, is capped at the same level.

    Attributes
    ----------
    cap_ : float or None
        The death given to essential bars (``"max"`` or a float), ``None`` otherwise.
    n_barcodes_ : int
        Number of barcodes seen in :meth:`fit`.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from gudhi.representations import BettiCurve
    >>> from topoloss import LandscapeGraph, loss_barcode
    >>> bc = loss_barcode(LandscapeGraph.from_barriers([0.0, 1.0], [[0, 3], [3, 0]]))
    >>> pipe = make_pipeline(BarcodeDiagrams(essential="max"), BettiCurve(resolution=4))
    >>> pipe.fit_transform([bc]).tolist()
    [[1, 2, 2, 2]]
    """

    def __init__(self, essential: Essential = DEFAULT_ESSENTIAL) -> None:
        self.essential = essential

    def fit(self, X: Iterable[Barcode | Any], y: Any = None) -> BarcodeDiagrams:
        """Check the barcodes and the policy; learn ``cap_`` for ``essential="max"``."""
        ivs = _collection(X)
        essential_policy(np.empty((0, 2)), self.essential)  # validates the policy
        if isinstance(self.essential, str):
            self.cap_ = _global_max_death(ivs) if self.essential == "max" else None
            if self.cap_ == -math.inf:
                self.cap_ = min(float(iv[:, 0].min()) for iv in ivs if iv.size) if any(iv.size for iv in ivs) \
                    else 0.0
        else:
            self.cap_ = float(self.essential)
        self.n_barcodes_ = len(ivs)
        return self

    def transform(self, X: Iterable[Barcode | Any]) -> list[np.ndarray]:
        """The diagrams of ``X`` under the fitted policy."""
        check_is_fitted(self, "n_barcodes_")
        policy: Essential = self.cap_ if self.cap_ is not None else self.essential
        return [essential_policy(iv, policy) for iv in _collection(X)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = []
        return tags


def barcode_features(barcode: Barcode | Any, *, long_fraction: float = 0.1) -> np.ndarray:
    """The row of :class:`BarcodeFeatures` for one barcode (columns :data:`FEATURE_NAMES`).

    Bar-top and length statistics are over the finite bars; a barcode without finite
    bars (one minimum per component) has lengths ``0`` and bar tops at its lowest birth.
    A disconnected barcode has infinite TO-scores.
    """
    iv = _as_intervals(barcode)
    if iv.shape[0] == 0:
        raise InputError("empty barcode")
    fin = np.isfinite(iv[:, 1])
    births = iv[:, 0]
    tops = iv[fin, 1] if fin.any() else births.min(keepdims=True)
    lengths = iv[fin, 1] - iv[fin, 0] if fin.any() else np.zeros(1)
    bc = barcode if isinstance(barcode, Barcode) else _anonymous(iv)
    span = float(max(tops.max(), births.max()) - births.min())
    n_long = int((lengths > long_fraction * span).sum()) if span > 0 and fin.any() else 0
    row = [
        to_score(bc), to_score(bc, metric="wasserstein"),
        iv.shape[0], int(fin.sum()), int((~fin).sum()), n_long,
        births.min(), births.mean(), births.max(),
        tops.min(), tops.mean(), tops.max(),
        lengths.mean(), lengths.std(), lengths.max(), lengths.sum(),
    ]
    return np.array(row, dtype=float)


def _anonymous(iv: np.ndarray) -> Barcode:
    n = iv.shape[0]
    return Barcode(tuple(range(n)), iv, (None,) * n, (None,) * n)


class BarcodeFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Barcodes → a feature matrix, one row per barcode, columns :data:`FEATURE_NAMES`.

    The columns (``get_feature_names_out()``): ``to_score``, ``to_score_wasserstein1``,
    ``n_bars``, ``n_finite``, ``n_components``, ``n_long``, ``birth_min``,
    ``birth_mean``, ``birth_max``, ``top_min``, ``top_mean``, ``top_max``,
    ``length_mean``, ``length_std``, ``length_max``, ``length_sum``; each is explained in
    :data:`FEATURE_NAMES` and ``docs/tda.md``.

    Parameters
    ----------
    long_fraction : float, default 0.1
        ``n_long`` counts finite bars longer than this fraction of the barcode's span
        (highest bar top or birth minus lowest birth).
    infinite_value : float or None, default None
        Replace ``inf`` (the TO-scores of a disconnected barcode) by this value, since
        most models reject ``inf``; ``None`` keeps ``inf``.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        The column names.
    n_barcodes_ : int
        Number of barcodes seen in :meth:`fit`.

    Examples
    --------
    >>> from topoloss import LandscapeGraph, loss_barcode
    >>> bc = loss_barcode(LandscapeGraph.from_barriers([0.0, 1.0], [[0, 3], [3, 0]]))
    >>> f = BarcodeFeatures().fit([bc])
    >>> dict(zip(f.get_feature_names_out()[:3], f.transform([bc])[0, :3].tolist()))
    {'to_score': 1.0, 'to_score_wasserstein1': 1.0, 'n_bars': 2.0}
    """

    def __init__(self, long_fraction: float = 0.1, infinite_value: float | None = None) -> None:
        self.long_fraction = long_fraction
        self.infinite_value = infinite_value

    def fit(self, X: Iterable[Barcode | Any], y: Any = None) -> BarcodeFeatures:
        """Check the barcodes and the parameters."""
        if isinstance(self.long_fraction, bool) or not isinstance(self.long_fraction, int | float) \
                or not self.long_fraction >= 0:
            raise InputError(f"long_fraction={self.long_fraction!r}; expected a number >= 0")
        if self.infinite_value is not None and not math.isfinite(float(self.infinite_value)):
            raise InputError(f"infinite_value={self.infinite_value!r}; expected a finite number or None")
        self.n_barcodes_ = len(_collection(X))
        self.feature_names_out_ = np.array(list(FEATURE_NAMES), dtype=object)
        return self

    def transform(self, X: Iterable[Barcode | Any]) -> np.ndarray:
        """The feature matrix ``(n_barcodes, 16)``."""
        check_is_fitted(self, "feature_names_out_")
        items = X if isinstance(X, Sequence) and not isinstance(X, np.ndarray) else list(X)
        _collection(items)
        out = np.stack([barcode_features(x, long_fraction=float(self.long_fraction)) for x in items])
        if self.infinite_value is not None:
            out[np.isinf(out)] = float(self.infinite_value)
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The column names (:data:`FEATURE_NAMES`)."""
        return np.array(list(FEATURE_NAMES), dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.allow_nan = False
        return tags
