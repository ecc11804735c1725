"""Invariants of the loss barcode, checked with hypothesis on random graphs."""

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from topoloss import LandscapeGraph, loss_barcode, to_score


@st.composite
def graphs(draw, max_n=8):
    n = draw(st.integers(1, max_n))
    losses = draw(st.lists(st.floats(0, 10, allow_nan=False), min_size=n, max_size=n))
    b = np.full((n, n), np.inf)
    for i in range(n):
        for j in range(i + 1, n):
            if draw(st.booleans()):
                b[i, j] = b[j, i] = max(losses[i], losses[j]) + draw(st.floats(0, 5, allow_nan=False))
    return np.array(losses), b


def multiset(bc):
    return sorted(map(tuple, bc.intervals.tolist()))


@settings(max_examples=150, deadline=None)
@given(graphs(), st.randoms(use_true_random=False))
def test_relabelling_keeps_the_multiset_of_bars(graph, rnd):
    losses, b = graph
    assume(len(set(losses.tolist())) == len(losses))  # ties: the elder depends on order, by design
    perm = list(range(len(losses)))
    rnd.shuffle(perm)
    g1 = LandscapeGraph.from_barriers(losses, b)
    g2 = LandscapeGraph.from_barriers(losses[perm], b[np.ix_(perm, perm)], names=perm)
    bc1, bc2 = loss_barcode(g1), loss_barcode(g2)
    assert multiset(bc1) == multiset(bc2)
    for name in g1.nodes:  # and every minimum keeps its own bar
        assert bc1.bar(name).death == bc2.bar(name).death


@settings(max_examples=150, deadline=None)
@given(graphs(), st.data())
def test_lowering_a_barrier_never_raises_a_bar(graph, data):
    losses, b = graph
    bc = loss_barcode(LandscapeGraph.from_barriers(losses, b))
    finite = np.argwhere(np.isfinite(np.triu(b, 1)) & (np.triu(np.ones_like(b), 1) > 0))
    assume(len(finite) > 0)
    i, j = finite[data.draw(st.integers(0, len(finite) - 1))]
    lower = b.copy()
    floor = max(losses[i], losses[j])
    lower[i, j] = lower[j, i] = floor + data.draw(st.floats(0, 1)) * (b[i, j] - floor)
    bc2 = loss_barcode(LandscapeGraph.from_barriers(losses, lower))
    assert np.all(bc2.intervals[:, 1] <= bc.intervals[:, 1])
    assert to_score(bc2) <= to_score(bc) or math.isinf(to_score(bc))


@settings(max_examples=150, deadline=None)
@given(graphs())
def test_scores_and_spanning_tree(graph):
    losses, b = graph
    g = LandscapeGraph.from_barriers(losses, b)
    bc = loss_barcode(g)
    assert bc.n_components == len(list(__import__("networkx").connected_components(g.to_networkx())))
    assert np.array_equal(loss_barcode(g.minimum_spanning_tree()).intervals, bc.intervals)
    assert (bc.intervals[:, 1] >= bc.intervals[:, 0]).all()
    assert bc.intervals[:, 0].min() == bc.essential().min()  # the global minimum never dies
    if bc.n_components == 1:
        half = (bc.finite()[:, 1] - bc.finite()[:, 0]) / 2
        assert to_score(bc) == max(half.max(initial=0.0), 0.0) or np.isclose(to_score(bc), half.max())
