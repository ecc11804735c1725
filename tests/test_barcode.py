"""loss_barcode against hand-computed answers and two independent implementations."""

import math

import networkx as nx
import numpy as np
import pytest
from _reference import elder_rule_barcode, minimax_barcode, random_graph

from topoloss import Barcode, LandscapeGraph, loss_barcode


def graph_of(losses, edges):
    g = LandscapeGraph()
    for i, loss in enumerate(losses):
        g.add_minimum(i, float(loss))
    for u, v, w in edges:
        g.add_path(u, v, w)
    return g


def test_hand_computed_three_minima():
    #   0 (loss 0) --3-- 1 (loss 1);  0 --5-- 2 (loss 2); 1 --4-- 2
    g = graph_of([0.0, 1.0, 2.0], [(0, 1, 3.0), (0, 2, 5.0), (1, 2, 4.0)])
    bc = loss_barcode(g)
    assert bc.intervals.tolist() == [[0.0, math.inf], [1.0, 3.0], [2.0, 4.0]]
    assert bc.bar(2).saddle in ((1, 2), (2, 1))
    assert bc.bar(2).merges_into == 0  # joins the component whose elder is 0
    assert bc.bar(1).merges_into == 0
    assert bc.bar(0).saddle is None and bc.bar(0).merges_into is None


def test_hand_computed_chain_merges_into_elder_of_component():
    # a(0) -1- b(0.5) ; c(0.2) -2- b : c dies at 2 merging into the component of a
    g = LandscapeGraph()
    for name, loss in [("a", 0.0), ("b", 0.5), ("c", 0.2)]:
        g.add_minimum(name, loss)
    g.add_path("a", "b", 1.0)
    g.add_path("b", "c", 2.0)
    bc = loss_barcode(g)
    assert bc.bar("b").death == 1.0 and bc.bar("b").merges_into == "a"
    assert bc.bar("c").death == 2.0 and bc.bar("c").merges_into == "a"
    assert bc.bar("c").saddle in (("b", "c"), ("c", "b"))


def test_disconnected_gives_one_infinite_bar_per_component():
    g = graph_of([0.0, 1.0, 2.0, 3.0], [(0, 1, 1.5), (2, 3, 4.0)])
    bc = loss_barcode(g)
    assert bc.n_components == 2
    assert sorted(bc.essential().tolist()) == [0.0, 2.0]
    assert bc.finite().tolist() == [[1.0, 1.5], [3.0, 4.0]]


def test_zero_length_bars_are_kept():
    g = graph_of([0.0, 1.0], [(0, 1, 1.0)])
    bc = loss_barcode(g)
    assert bc.intervals.tolist() == [[0.0, math.inf], [1.0, 1.0]]


def test_equal_losses_first_added_is_elder():
    g = graph_of([1.0, 1.0, 1.0], [(0, 1, 2.0), (1, 2, 3.0)])
    bc = loss_barcode(g)
    assert bc.intervals.tolist() == [[1.0, math.inf], [1.0, 2.0], [1.0, 3.0]]
    g = LandscapeGraph()
    g.add_minimum("z", 1.0)
    g.add_minimum("a", 1.0)
    g.add_path("z", "a", 2.0)
    assert loss_barcode(g).bar("z").death == math.inf


def test_single_minimum():
    g = graph_of([0.3], [])
    bc = loss_barcode(g)
    assert bc.intervals.tolist() == [[0.3, math.inf]]


def test_lowest_of_several_paths_is_used_and_all_records_kept():
    g = graph_of([0.0, 1.0], [])
    g.add_path(0, 1, 5.0, curve="linear")
    g.add_path(0, 1, 2.0, curve="bezier")
    g.add_path(0, 1, 3.0, curve="chain")
    assert g.barrier(0, 1) == 2.0
    assert [p["curve"] for p in g.paths(0, 1)] == ["linear", "bezier", "chain"]
    assert loss_barcode(g).bar(1).death == 2.0


@pytest.mark.parametrize("ties", [True, False])
def test_matches_union_find_on_1000_random_graphs(ties):
    rng = np.random.default_rng(1234 if ties else 99)
    for _ in range(1000):
        losses, edges = random_graph(rng, ties=ties)
        bc = loss_barcode(graph_of(losses, edges))
        np.testing.assert_array_equal(bc.intervals, elder_rule_barcode(losses, edges))


def test_matches_minimax_definition_and_saddles_are_consistent():
    rng = np.random.default_rng(7)
    for _ in range(300):
        losses, edges = random_graph(rng, n_max=9, ties=True)
        g = graph_of(losses, edges)
        bc = loss_barcode(g)
        np.testing.assert_array_equal(bc.intervals, minimax_barcode(losses, edges))
        for bar in bc.bars():
            if math.isinf(bar.death):
                continue
            u, v = bar.saddle
            assert g.barrier(u, v) == bar.death
            m = bar.merges_into
            # the minimum merged into is elder and reachable below the saddle level
            assert (g.loss(m), m) < (bar.birth, bar.name)
            sub = nx.Graph(
                (a, b) for a, b, w in g.to_networkx().edges(data="barrier") if w <= bar.death
            )
            assert sub.has_node(m) and nx.has_path(sub, bar.name, m)


def test_mst_has_the_same_barcode():
    rng = np.random.default_rng(3)
    for _ in range(100):
        losses, edges = random_graph(rng, ties=False)
        g = graph_of(losses, edges)
        np.testing.assert_array_equal(
            loss_barcode(g).intervals, loss_barcode(g.minimum_spanning_tree()).intervals
        )


def test_barcode_container():
    g = graph_of([0.0, 1.0, 2.0], [(0, 1, 3.0), (0, 2, 5.0)])
    bc = loss_barcode(g)
    assert len(bc) == 3
    assert bc.to_gudhi() == [(0, (0.0, math.inf)), (0, (1.0, 3.0)), (0, (2.0, 5.0))]
    assert bc.to_diagram("keep").shape == (3, 2)
    assert Barcode.from_dict(bc.to_dict()) == bc
    assert bc.to_dict()["intervals"][0] == [0.0, None]
    assert bc.drop_short(2.5).names == (0, 3 - 1)  # bar of 1 has length 2 <= 2.5
    assert bc.sorted().names == (0, 1, 2)
    with pytest.raises(ValueError, match="'nope'"):
        bc.bar("nope")
    with pytest.raises(ValueError):  # frozen: arrays are read-only
        bc.intervals[0, 0] = 5.0
    assert "saddle" in str(bc)


def test_empty_graph_is_an_error():
    with pytest.raises(ValueError, match="no minima"):
        loss_barcode(LandscapeGraph())
