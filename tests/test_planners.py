"""The adaptive pair planner (SPEC §11) and the static planners' guarantees."""

import itertools

import gudhi
import networkx as nx
import numpy as np
import pytest
import torch

import topoloss as tl
from topoloss.analytic import exact_barcode
from topoloss.analytic.compare import compare_to_exact, value_range
from topoloss.analytic.functions import gaussian_wells, holder_table, rastrigin
from topoloss.engine.adaptive import AdaptivePlanner, _spanning_tree, minimax_matrix
from topoloss.engine.planners import make_planner, select_pairs
from topoloss.errors import InputError


# ---------------------------------------------------------------------- helpers
def _minima(points, losses):
    n = len(losses)
    return tl.Minima(torch.as_tensor(points, dtype=torch.float64), np.asarray(losses, float),
                     tuple(f"m{k}" for k in range(n)), np.zeros(n, int), np.ones(n, bool), np.zeros(n, bool))


def _brute_minimax(n, edges):
    """Floyd–Warshall in the (min, max) semiring: an independent minimax."""
    m = np.full((n, n), np.inf)
    np.fill_diagonal(m, -np.inf)
    for (i, j), w in edges.items():
        m[i, j] = m[j, i] = min(m[i, j], w)
    for k in range(n):
        m = np.minimum(m, np.maximum(m[:, [k]], m[[k], :]))
    np.fill_diagonal(m, -np.inf)
    return m


def test_minimax_matrix_matches_floyd_warshall():
    rng = np.random.default_rng(0)
    for n in (2, 5, 9):
        edges = {e: float(rng.integers(0, 4)) for e in itertools.combinations(range(n), 2) if rng.random() < 0.5}
        np.testing.assert_array_equal(minimax_matrix(n, edges), _brute_minimax(n, edges))


def test_spanning_tree_with_zero_and_tied_weights_is_a_tree():
    for w in (np.zeros((6, 6)), np.ones((6, 6))):
        tree = _spanning_tree(w)
        graph = nx.Graph(tree)
        assert len(tree) == 5 and nx.is_tree(graph) and set(graph) == set(range(6))
    # with distinct weights it is the unique minimum spanning tree
    rng = np.random.default_rng(1)
    w = rng.random((7, 7))
    w = w + w.T
    full = nx.Graph()
    full.add_weighted_edges_from((i, j, w[i, j]) for i, j in itertools.combinations(range(7), 2))
    assert _spanning_tree(w) == sorted(tuple(sorted(e)) for e in nx.minimum_spanning_tree(full).edges)


# ---------------------------------------------------------------------- nearest
def test_nearest_joins_the_components_it_would_leave():
    # three tight clusters: nearest neighbours alone give three components
    centers = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 7.0]])
    pts = np.concatenate([c + np.array([[0, 0], [0.1, 0], [0, 0.3]]) for c in centers])
    minima = _minima(pts, np.arange(9))
    pairs = select_pairs(minima, "nearest")
    graph = nx.Graph(pairs)
    assert nx.is_connected(graph) and set(graph) == set(range(9))
    # exactly two bridging edges, the shortest ones: cluster 0 to clusters 1 and 2
    bridges = [(i, j) for i, j in pairs if i // 3 != j // 3]
    assert sorted((i // 3, j // 3) for i, j in bridges) == [(0, 1), (0, 2)]


# ---------------------------------------------------------------------- adaptive
def _wells():
    rng = np.random.default_rng(0)
    centers = rng.uniform(-3, 3, (12, 2)).round(2).tolist()
    depths = rng.uniform(0.4, 1.0, 12).round(2).tolist()
    return gaussian_wells(centers=centers, depths=depths, widths=0.6, bounds=[(-4, 4), (-4, 4)])


@pytest.mark.slow
@pytest.mark.parametrize("make", [lambda: rastrigin(bounds=(-2.5, 2.5)), holder_table, _wells],
                         ids=["rastrigin-25", "holder-table", "wells-12"])
def test_adaptive_reaches_the_all_pairs_and_exact_barcodes(make):
    land = make()
    every = tl.analyze(land, pairs="all", steps=120, n_minima=48, progress=False)
    adaptive = tl.analyze(land, pairs="adaptive", steps=120, n_minima=48, progress=False)
    n = len(adaptive.minima)
    assert n == len(every.minima) >= 6
    assert n - 1 <= len(adaptive.paths) <= 3 * n
    exact = exact_barcode(land)
    span = value_range(exact)
    assert gudhi.bottleneck_distance(adaptive.barcode.intervals, every.barcode.intervals) <= 0.02 * span
    assert compare_to_exact(adaptive.barcode, exact).within_tolerance
    assert adaptive.to_score == pytest.approx(every.to_score, rel=0.02)


def _planner_on(land, n_minima=24, **options):
    from topoloss.config import EvaluationConfig, PathConfig
    from topoloss.engine.executors import PairTask
    from topoloss.minima.find import find_minima

    minima = find_minima(land, n_minima, seed=0)
    planner = AdaptivePlanner(**options)
    planner.bind(PairTask(land, minima, PathConfig(), EvaluationConfig(), 0))
    return planner, minima


class _Fake:
    """A stand-in PathRecord: only the barrier matters to the planner."""

    def __init__(self, barrier):
        self.barrier = barrier


def _drive(planner, minima, barrier, extra=None):
    known = dict(extra or {})
    rounds = []
    while pairs := planner.next_pairs(minima, known):
        rounds.append(pairs)
        for i, j in pairs:
            known[frozenset((i, j))] = _Fake(barrier(i, j))
    return rounds


def test_adaptive_rounds_reasons_budget_and_determinism():
    land = rastrigin(bounds=(-2.5, 2.5))
    planner, minima = _planner_on(land, budget=2, batch=3)
    n = len(minima)
    bounds = planner.bounds() if planner._bounds is not None else None
    assert bounds is None
    # "optimized" barriers: the straight bound lowered by a quarter of its excess
    def barrier(i, j):
        lo = max(minima.losses[i], minima.losses[j])
        return lo + 0.75 * (planner.bounds()[i, j] - lo)

    rounds = _drive(planner, minima, barrier)
    planned = planner.planned()
    assert planned == [p for r in rounds for p in r]
    assert len(planned) == len(set(planned)) <= 2 * n
    # round 1 is a spanning tree of the straight bounds
    assert len(rounds[0]) == n - 1 and nx.is_tree(nx.Graph(rounds[0]))
    reasons = planner.reasons()
    assert set(reasons) == set(planned)
    assert all(reasons[p].startswith("tree round 1") for p in rounds[0])
    assert all(r.startswith(("tree round", "verification round")) for r in reasons.values())
    # the bounds are true upper bounds of the segment's maximum (checked on a finer grid)
    t = torch.linspace(0, 1, 201, dtype=torch.float64)[:, None]
    for i, j in planned[:5]:
        seg = land.loss(minima.points[i] + t * (minima.points[j] - minima.points[i]))
        assert planner.bounds()[i, j] <= float(seg.max()) + 1e-12
    # paths it did not plan (e.g. left in a run directory) do not change its decisions
    again, _ = _planner_on(land, budget=2, batch=3)
    extra = {frozenset((0, k)): _Fake(-1.0) for k in range(1, n)}
    assert [p for r in _drive(again, minima, barrier, extra) for p in r] == planned


def test_adaptive_skips_pairs_that_cannot_change_the_barcode():
    land = rastrigin(bounds=(-2.5, 2.5))
    planner, minima = _planner_on(land, budget=10)
    lo = np.maximum.outer(minima.losses, minima.losses)
    # optimized barriers at their lower bound max(L_a, L_b)
    rounds = _drive(planner, minima, lambda i, j: lo[i, j])
    assert nx.is_tree(nx.Graph(rounds[0]))
    reasons = planner.reasons()
    assert all(reasons[p].startswith("verification round 1") for p in rounds[1])
    m_hat = _brute_minimax(len(minima), {e: lo[e] for e in rounds[0]})
    # only pairs whose lower bound lies below the minimax are ever verified ...
    assert all(lo[p] < m_hat[p] for p in rounds[1])
    # ... and once every path sits at its lower bound, no pair is left to verify
    never = {e for e in itertools.combinations(range(len(minima)), 2) if lo[e] >= m_hat[e]}
    assert never and not never & set(planner.planned()[len(rounds[0]):])


def test_make_planner_reads_options_and_refuses_unknown_ones():
    planner = make_planner("adaptive:budget=1.5,points=5")
    assert isinstance(planner, AdaptivePlanner) and (planner.budget, planner.points) == (1.5, 5)
    with pytest.raises(InputError, match="colour"):
        make_planner("adaptive:colour=1")
    with pytest.raises(InputError, match="budget"):
        make_planner("adaptive:budget=0")
    with pytest.raises(InputError, match="landscape"):
        make_planner("adaptive").next_pairs(_minima(np.eye(3), np.zeros(3)), {})


@pytest.mark.slow
def test_adaptive_on_a_small_network_within_the_noise_floor():
    from topoloss.data import digits
    from topoloss.models import fcn

    train, test = digits()
    land = tl.ModelLandscape(lambda: fcn(64, 10, depth=1, width=8), train, test_data=test)
    minima = tl.train_minima(land, seeds=range(8), epochs=2, progress=False)
    kw = dict(minima=minima, curve=tl.Bezier(bends=1), epochs=2, seed=0, progress=False)
    every = tl.analyze(land, pairs="all", **kw)
    adaptive = tl.analyze(land, pairs="adaptive", **kw)
    assert len(adaptive.paths) <= 3 * len(minima)
    finite = every.barcode.intervals[np.isfinite(every.barcode.intervals)]
    span = float(finite.max() - finite.min())
    # SPEC §11: three path seeds of the all-pairs barcode differ by up to 11.5 % of the span
    d = gudhi.bottleneck_distance(adaptive.barcode.intervals, every.barcode.intervals)
    assert d <= 0.115 * span, (d / span, len(adaptive.paths))
    # adding edges only lowers deaths: all pairs is the lower envelope of any subset
    assert adaptive.to_score >= every.to_score - 1e-12


@pytest.mark.parametrize("batch_norm", [False, True])
def test_subsample_is_the_network_on_those_samples(batch_norm):
    """``ModelLandscape.subsample`` equals a landscape built on the same samples by hand."""
    from topoloss.data import digits
    from topoloss.models import fcn

    train, _ = digits()
    make = lambda: fcn(64, 10, depth=1, width=8, batch_norm=batch_norm)  # noqa: E731
    land = tl.ModelLandscape(make, train, batch_size=64)
    sub = land.subsample(300, seed=5)
    idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(5))[:300].tolist()
    by_hand = tl.ModelLandscape(make, torch.utils.data.Subset(train, idx), batch_size=64)
    points = torch.stack([land.initial_point(s) for s in range(3)])
    assert sub.n_train == 300 and land.n_train == len(train)
    torch.testing.assert_close(sub.loss(points), by_hand.loss(points), rtol=1e-6, atol=0)
    assert not torch.allclose(sub.loss(points), land.loss(points))  # another data set, another loss
    assert land.subsample(10**6) is land


def test_adaptive_bounds_on_a_subsample():
    from types import SimpleNamespace

    from topoloss.data import digits
    from topoloss.engine.adaptive import straight_bounds
    from topoloss.engine.executors import PairTask
    from topoloss.models import fcn

    train, _ = digits()
    make = lambda: fcn(64, 10, depth=1, width=8)  # noqa: E731
    land = tl.ModelLandscape(make, train)
    minima = tl.train_minima(land, seeds=range(4), epochs=1, progress=False)
    result = tl.analyze(land, minima=minima, pairs="adaptive:samples=200", epochs=1, seed=2, progress=False)
    assert 3 <= len(result.paths) <= 6
    planner = make_planner("adaptive:samples=200")
    task = PairTask(land, minima, tl.StudyConfig().paths, tl.StudyConfig().evaluation, 2)
    planner.bind(task)
    planner.next_pairs(minima, {})
    idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(2))[:200].tolist()
    by_hand = tl.ModelLandscape(make, torch.utils.data.Subset(train, idx))
    expected = straight_bounds(SimpleNamespace(landscape=by_hand, minima=minima))
    np.testing.assert_allclose(planner.bounds(), expected, rtol=1e-6)


def test_select_pairs_adaptive_binds_the_landscape():
    """Issue 18 item 10: select_pairs(minima, "adaptive") said only "needs the landscape"."""
    land = tl.analytic.from_function(lambda x: ((x ** 2 - 1) ** 2).sum(-1) + 0.1 * x[..., 0], [(-2, 2), (-2, 2)])
    pts = [[-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]]
    minima = _minima(pts, land.loss(torch.tensor(pts, dtype=torch.float64)).numpy())
    with pytest.raises(InputError, match=r"select_pairs\(minima, 'adaptive', landscape=\.\.\.\)"):
        select_pairs(minima, "adaptive")
    first = select_pairs(minima, "adaptive", landscape=land)
    # independent answer: straight segments at 11 points, then networkx's minimum spanning tree
    g = nx.Graph()
    for i, j in itertools.combinations(range(4), 2):
        t = torch.linspace(0, 1, 11, dtype=torch.float64)[:, None]
        a, b = torch.tensor(pts[i], dtype=torch.float64), torch.tensor(pts[j], dtype=torch.float64)
        g.add_edge(i, j, weight=float(land.loss((1 - t) * a + t * b).max()))
    expected = {tuple(sorted(e)) for e in nx.minimum_spanning_edges(g, data=False)}
    assert len(first) == 3 and set(first) == expected
