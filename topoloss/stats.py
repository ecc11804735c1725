"""Statistics over repeats: bootstrap confidence intervals, permutation tests, group summaries.

The paper's claims compare groups of runs (depth 2 against depth 8, SGD against Adam),
each repeated over a few seeds. These helpers give the uncertainty of a group's mean
(:func:`bootstrap_ci`, percentile bootstrap) and a test between two groups
(:func:`permutation_test`, two-sided, difference of means), and :func:`summarize`
tabulates several groups. They agree with :func:`scipy.stats.bootstrap`
(``method="percentile"``) and :func:`scipy.stats.permutation_test`
(``permutation_type="independent"``) on the same data: ``tests/test_stats.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import numpy.typing as npt

from topoloss._validate import check_int, check_number
from topoloss.errors import InputError

__all__ = ["BootstrapCI", "GroupSummary", "PermutationResult", "bootstrap_ci", "permutation_test", "summarize"]


@dataclass(frozen=True)
class BootstrapCI:
    """A bootstrap confidence interval for a mean.

    Attributes
    ----------
    estimate : float
        The mean of the values.
    low, high : float
        The percentile interval; ``nan`` with fewer than two values.
    confidence : float
    n : int
        Number of values.
    """

    estimate: float
    low: float
    high: float
    confidence: float
    n: int


@dataclass(frozen=True)
class PermutationResult:
    """A two-sided permutation test of the difference of means.

    Attributes
    ----------
    statistic : float
        ``mean(a) - mean(b)``.
    pvalue : float
        Two-sided p-value, ``(1 + #{|T*| >= |T|}) / (1 + n_resamples)`` for random
        permutations, the exact fraction when every split was enumerated.
    n_resamples : int
        Permutations used (all splits when that is fewer than requested).
    exact : bool
        Whether every split of the pooled values was enumerated.
    """

    statistic: float
    pvalue: float
    n_resamples: int
    exact: bool


def _values(values: npt.ArrayLike, name: str) -> np.ndarray:
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0:
        raise InputError(f"{name} is empty")
    if np.isnan(v).any():
        raise InputError(f"{name} contains NaN")
    return v


def bootstrap_ci(
    values: npt.ArrayLike, *, confidence: float = 0.95, n_resamples: int = 9999, seed: int | None = 0
) -> BootstrapCI:
    """Percentile bootstrap confidence interval for the mean of ``values``.

    Resamples the values with replacement ``n_resamples`` times and takes the
    ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of the resampled means
    (as ``scipy.stats.bootstrap(..., method="percentile")``). With a handful of repeats the
    interval is narrower than the truth (the bootstrap cannot see beyond the values it
    has); read it as a summary of spread, not as a guarantee.

    Parameters
    ----------
    values : array_like
        One value per repeat (e.g. TO-scores of runs with different seeds).
    confidence : float
        In ``(0, 1)``.
    n_resamples : int
        At least 1.
    seed : int or None
        Seed of the resampling.

    Returns
    -------
    BootstrapCI
        ``low`` and ``high`` are ``nan`` for a single value (no spread to resample).

    Raises
    ------
    InputError
        For an empty sample, a NaN, or an infinite value (named with its index: a mean
        with an infinite value has no interval; a disconnected run has TO-score ``inf``,
        see :func:`summarize`, which reports such a group without an interval).

    Examples
    --------
    >>> ci = bootstrap_ci([1.0, 2.0, 3.0, 4.0], seed=0)
    >>> ci.estimate, 1.0 <= ci.low < ci.estimate < ci.high <= 4.0
    (2.5, True)
    """
    v = _values(values, "values")
    confidence = check_number(confidence, "confidence", low=0.0, high=1.0)
    if not 0 < confidence < 1:
        raise InputError(f"confidence={confidence!r}; expected a number strictly between 0 and 1")
    n_resamples = check_int(n_resamples, "n_resamples", low=1)
    bad = np.flatnonzero(~np.isfinite(v))
    if bad.size:
        k = int(bad[0])
        raise InputError(f"values[{k}]={float(v[k])!r}; bootstrap_ci needs finite values (an infinite TO-score is a "
                         f"disconnected run: leave it out, or use summarize, which reports it without an interval)")
    estimate = float(v.mean())
    if v.size < 2:
        return BootstrapCI(estimate, math.nan, math.nan, confidence, int(v.size))
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n_resamples, v.size))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return BootstrapCI(estimate, float(low), float(high), confidence, int(v.size))


def permutation_test(
    a: npt.ArrayLike, b: npt.ArrayLike, *, n_resamples: int = 9999, seed: int | None = 0
) -> PermutationResult:
    """Two-sided permutation test of ``mean(a) == mean(b)``.

    The pooled values are split at random into groups of the sizes of ``a`` and ``b``;
    the p-value is the fraction of splits whose difference of means is at least as
    large in absolute value as the observed one. When the number of distinct splits
    ``C(n_a + n_b, n_a)`` is at most ``n_resamples`` they are all enumerated (exact
    test), as :func:`scipy.stats.permutation_test` does.

    "Two-sided" here means ``|T*| >= |T|``: this equals ``scipy.stats.permutation_test``
    with the statistic ``|mean(a) - mean(b)|`` and ``alternative="greater"``. scipy's own
    ``alternative="two-sided"`` doubles the smaller tail instead; the two agree when the
    null distribution is symmetric (equal group sizes) and differ slightly otherwise.

    Parameters
    ----------
    a, b : array_like
        The two groups (at least one value each; finite).
    n_resamples : int
        Random permutations when the exact test is larger than this.
    seed : int or None
        Seed of the permutations.

    Returns
    -------
    PermutationResult

    Examples
    --------
    >>> r = permutation_test([1.0, 1.1, 0.9], [2.0, 2.1, 1.9])
    >>> round(r.statistic, 6), r.pvalue, r.exact   # 2 of the 20 splits are as extreme
    (-1.0, 0.1, True)
    """
    x, y = _values(a, "a"), _values(b, "b")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InputError("permutation_test needs finite values (a disconnected run has TO-score inf)")
    n_resamples = check_int(n_resamples, "n_resamples", low=1)
    pooled = np.concatenate([x, y])
    n, k = pooled.size, x.size
    observed = float(x.mean() - y.mean())
    total = pooled.sum()
    # a small relative tolerance so that splits equal to the observed one up to rounding count
    tol = 1e-12 * max(1.0, float(np.abs(pooled).max()))
    if math.comb(n, k) <= n_resamples:
        idx = np.array(list(combinations(range(n), k)), dtype=np.int64).reshape(-1, k)
        sa = pooled[idx].sum(axis=1)
        stats = sa / k - (total - sa) / (n - k)
        pvalue = float(np.mean(np.abs(stats) >= abs(observed) - tol))
        return PermutationResult(observed, pvalue, int(idx.shape[0]), True)
    rng = np.random.default_rng(seed)
    perm = rng.permuted(np.broadcast_to(pooled, (n_resamples, n)).copy(), axis=1)
    sa = perm[:, :k].sum(axis=1)
    stats = sa / k - (total - sa) / (n - k)
    hits = int(np.sum(np.abs(stats) >= abs(observed) - tol))
    return PermutationResult(observed, (hits + 1) / (n_resamples + 1), n_resamples, False)


@dataclass(frozen=True)
class GroupSummary:
    """One group's values summarized: ``n``, ``mean``, ``std`` (``nan`` for one value) and its
    bootstrap interval ``ci``; ``vs_first`` is the permutation test against the first group
    (``None`` for the first group itself or when either group has a single value)."""

    label: str
    n: int
    mean: float
    std: float
    ci: BootstrapCI
    vs_first: PermutationResult | None


def summarize(
    groups: Mapping[str, Sequence[float]],
    *,
    confidence: float = 0.95,
    n_resamples: int = 9999,
    seed: int | None = 0,
) -> list[GroupSummary]:
    """Summaries of several groups: mean, sample standard deviation, bootstrap interval and a
    permutation test of each group against the first one.

    Examples
    --------
    >>> rows = summarize({"depth2": [0.1, 0.12, 0.11], "depth8": [0.3, 0.28, 0.33], "one": [0.2]})
    >>> [(r.label, r.n, round(r.mean, 3)) for r in rows]
    [('depth2', 3, 0.11), ('depth8', 3, 0.303), ('one', 1, 0.2)]
    >>> rows[1].vs_first.pvalue, rows[2].vs_first is None
    (0.1, True)
    """
    out: list[GroupSummary] = []
    first: np.ndarray | None = None
    for label, values in groups.items():
        v = _values(values, f"group {label!r}")
        std = float(v.std(ddof=1)) if v.size > 1 and np.isfinite(v).all() else math.nan
        if np.isfinite(v).all():
            ci = bootstrap_ci(v, confidence=confidence, n_resamples=n_resamples, seed=seed)
        else:  # a disconnected run (TO-score inf): a mean without an interval
            ci = BootstrapCI(float(v.mean()), math.nan, math.nan, float(confidence), int(v.size))
        test = None
        if first is not None and first.size > 1 and v.size > 1 and np.isfinite(first).all() \
                and np.isfinite(v).all():
            test = permutation_test(v, first, n_resamples=n_resamples, seed=seed)
        if first is None:
            first = v
        out.append(GroupSummary(str(label), int(v.size), float(v.mean()), std, ci, test))
    return out
