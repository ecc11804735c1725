"""The spanning-forest route of loss_barcode and the array-backed graph, against the
whole-graph route and a networkx graph built the way LandscapeGraph was before arrays."""

import json

import networkx as nx
import numpy as np
import pytest
from _reference import elder_rule_barcode
from _reference import random_graph as reference_graph

from topoloss import LandscapeGraph, loss_barcode
from topoloss.topology.forest import spanning_forest
from topoloss.topology.persistence import _barcode_of_arrays, _elder_rule_replay, _full_graph_barcode


def random_ops(rng):
    """Minima and a sequence of add_path calls: ties, zero and negative levels, repeats,
    both orientations, often disconnected."""
    n = int(rng.integers(1, 13))
    losses = rng.integers(-2, 2, size=n).astype(float)
    ops = []
    for _ in range(int(rng.integers(0, 3 * n))):
        u, v = (int(x) for x in rng.integers(0, n, 2))
        if u != v:
            ops.append((u, v, max(losses[u], losses[v]) + float(rng.integers(0, 3))))
    return losses, ops


def networkx_reference(losses, ops):
    """The graph as LandscapeGraph held it in networkx, and its barcode by the whole-graph
    route on networkx's edge order."""
    h = nx.Graph()
    for i, loss in enumerate(losses):
        h.add_node(i, loss=float(loss))
    for u, v, w in ops:
        if h.has_edge(u, v):
            h.edges[u, v]["barrier"] = min(h.edges[u, v]["barrier"], w)
        else:
            h.add_edge(u, v, barrier=w)
    pairs = np.array([(min(u, v), max(u, v)) for u, v in h.edges], dtype=np.int64).reshape(-1, 2)
    weights = np.array([w for _, _, w in h.edges(data="barrier")], dtype=float)
    return h, _barcode_of_arrays(list(h.nodes), np.asarray(losses, float), pairs, weights)


def assert_same_barcode(a, b):
    assert a.names == b.names
    np.testing.assert_array_equal(a.intervals, b.intervals)
    assert a.saddles == b.saddles
    assert a.merges_into == b.merges_into


def test_forest_route_equals_whole_graph_route_on_1200_random_graphs():
    rng = np.random.default_rng(2024)
    n_disconnected = n_ties = 0
    for _ in range(1200):
        losses, ops = random_ops(rng)
        g = LandscapeGraph()
        for i, loss in enumerate(losses):
            g.add_minimum(i, loss)
        for u, v, w in ops:
            g.add_path(u, v, w)
        h, expected = networkx_reference(losses, ops)
        assert g.edges == list(h.edges)
        bc = loss_barcode(g)
        assert_same_barcode(bc, expected)
        assert_same_barcode(bc, _full_graph_barcode(g))
        assert_same_barcode(loss_barcode(g.minimum_spanning_tree()), bc)
        assert g.is_connected() == (len(losses) > 0 and nx.is_connected(h))
        n_disconnected += bc.n_components > 1
        n_ties += len(set(h.edges[e]["barrier"] for e in h.edges)) < h.number_of_edges()
    assert n_disconnected > 300 and n_ties > 300  # the cases this test is for did occur


@pytest.mark.parametrize("ties", [True, False])
def test_forest_route_on_the_reference_random_graphs(ties):
    # the graphs of test_barcode.py's union-find comparison (same seeds), by both routes
    rng = np.random.default_rng(1234 if ties else 99)
    for _ in range(1000):
        losses, edges = reference_graph(rng, ties=ties)
        g = LandscapeGraph()
        for i, loss in enumerate(losses):
            g.add_minimum(i, float(loss))
        for u, v, w in edges:
            g.add_path(u, v, w)
        bc = loss_barcode(g)
        assert_same_barcode(bc, _full_graph_barcode(g))
        np.testing.assert_array_equal(bc.intervals, elder_rule_barcode(losses, edges))


def replay_barcode(g, pairs, weights):
    """The barcode by the union-find replay alone (elder rule, edges by (weight, row)),
    without GUDHI: what loss_barcode's replay would say on its own."""
    names, losses = g.nodes, g.losses()
    n = len(names)
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((np.arange(n), losses))] = np.arange(n)
    dying, merges = _elder_rule_replay(rank, pairs, weights)
    iv = np.column_stack([losses, np.full(n, np.inf)])
    saddles, into = [None] * n, [None] * n
    for k in np.flatnonzero(dying >= 0).tolist():
        v, (a, b) = int(dying[k]), pairs[k].tolist()
        iv[v, 1] = max(weights[k], losses[v])
        saddles[v], into[v] = (names[a], names[b]), names[int(merges[k])]
    return iv, tuple(saddles), tuple(into)


def test_union_find_replay_gives_gudhis_bars_on_random_graphs_with_ties():
    """loss_barcode takes the intervals and saddles from GUDHI and replays the merges with
    its own union-find: run alone on the forest (or on every edge), the replay's elder rule
    gives GUDHI's intervals and saddles, and its merges, ties included."""
    rng = np.random.default_rng(20)
    n_ties = 0
    for _ in range(600):
        losses, ops = random_ops(rng)
        g = LandscapeGraph()
        for i, loss in enumerate(losses):
            g.add_minimum(i, loss)
        for u, v, w in ops:
            g.add_path(u, v, w)
        bc = loss_barcode(g)
        pairs, weights = g.edge_arrays()
        keep = np.sort(spanning_forest(pairs, weights, len(g)))
        for rows in (keep, np.arange(weights.shape[0])):
            iv, saddles, into = replay_barcode(g, pairs[rows], weights[rows])
            np.testing.assert_array_equal(iv, bc.intervals)
            unordered = [None if s is None else frozenset(s) for s in bc.saddles]
            assert [None if s is None else frozenset(s) for s in saddles] == unordered  # GUDHI orients them
            assert into == bc.merges_into
        n_ties += len(set(weights.tolist())) < weights.shape[0]
    assert n_ties > 200  # the ties are there


def test_from_barriers_equals_path_by_path_on_random_matrices():
    rng = np.random.default_rng(5)
    for _ in range(300):
        n = int(rng.integers(1, 10))
        losses = rng.integers(-1, 2, size=n).astype(float)
        b = np.maximum.outer(losses, losses) + rng.integers(0, 3, size=(n, n))
        b = np.minimum(b, b.T)
        b[rng.random((n, n)) < 0.4] = np.inf
        b = np.minimum(b, b.T)
        g = LandscapeGraph.from_barriers(losses, b)
        ops = [(i, j, b[i, j]) for i in range(n) for j in range(i + 1, n) if np.isfinite(b[i, j])]
        h, expected = networkx_reference(losses, ops)
        assert g.edges == list(h.edges)
        assert_same_barcode(loss_barcode(g), expected)
        np.testing.assert_array_equal(g.barrier_matrix()[~np.eye(n, dtype=bool)],
                                      np.where(np.isfinite(b), b, np.inf)[~np.eye(n, dtype=bool)])


def test_dense_matrix_with_many_ties():
    rng = np.random.default_rng(11)
    n = 120
    losses = rng.integers(0, 3, size=n).astype(float)
    b = np.maximum.outer(losses, losses) + rng.integers(0, 4, size=(n, n))
    b = np.minimum(b, b.T)
    g = LandscapeGraph.from_barriers(losses, b)
    assert_same_barcode(loss_barcode(g), _full_graph_barcode(g))


def test_spanning_forest_handles_zero_negative_and_tied_weights():
    # triangle 0-1-2 at weight 0 (ties: the earlier rows win), 3-4 at -1, 5 alone
    pairs = np.array([[0, 1], [1, 2], [0, 2], [3, 4]])
    weights = np.array([0.0, 0.0, 0.0, -1.0])
    assert spanning_forest(pairs, weights, 6).tolist() == [3, 0, 1]
    assert spanning_forest(pairs[:0], weights[:0], 6).tolist() == []
    with pytest.raises(ValueError, match="repeat"):
        spanning_forest(np.array([[0, 1], [0, 1]]), np.array([1.0, 2.0]), 2)
    # networkx's Kruskal, which scans equal weights in edge order, picks the same forest
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(2, 9))
        h = nx.Graph()
        h.add_nodes_from(range(n))
        for _ in range(int(rng.integers(0, 2 * n))):
            u, v = sorted(int(x) for x in rng.choice(n, 2, replace=False))
            h.add_edge(u, v, barrier=float(rng.integers(-2, 2)))
        pairs = np.array(list(h.edges), dtype=np.int64).reshape(-1, 2)
        weights = np.array([w for _, _, w in h.edges(data="barrier")], dtype=float)
        kruskal = nx.minimum_spanning_edges(h, weight="barrier", algorithm="kruskal", data=False)
        assert [tuple(p) for p in pairs[spanning_forest(pairs, weights, n)].tolist()] == list(kruskal)


def test_mixed_building_keeps_records_and_order():
    g = LandscapeGraph.from_barriers([0.0, 1.0, 2.0], [[0, 3, 5], [3, 0, np.inf], [5, np.inf, 0]])
    g.add_minimum("x", 0.5, point=[1, 2])
    g.add_path("x", 2, 4.0, curve="chain")
    g.add_path(0, 1, 2.5, curve="bezier")
    g.add_path("x", 0, 0.75)
    assert g.edges == [(0, 1), (0, 2), (0, "x"), (2, "x")]
    assert g.paths(0, 1) == [{"barrier": 3.0}, {"barrier": 2.5, "curve": "bezier"}]
    assert g.paths(0, 2) == [{"barrier": 5.0}] and g.paths(0, "nope") == []
    assert g.barrier(0, 1) == 2.5 and g.attrs("x") == {"loss": 0.5, "point": [1, 2]}
    h = g.to_networkx()
    assert list(h.edges) == g.edges and h.edges[2, "x"]["paths"] == [{"barrier": 4.0, "curve": "chain"}]
    back = LandscapeGraph.from_networkx(h)
    assert back.edges == g.edges and back.paths(0, 1) == g.paths(0, 1)
    assert_same_barcode(loss_barcode(back), loss_barcode(g))


@pytest.mark.parametrize("case", ["plain", "repeat", "rounding", "attrs", "links", "node-attrs"])
def test_json_arrays_and_edge_by_edge_read_alike(case):
    g = LandscapeGraph.from_barriers([0.0, 1.0, 0.5], [[0, 3, 2], [3, 0, np.inf], [2, np.inf, 0]])
    data = json.loads(g.to_json())
    if case == "repeat":  # a pair twice: lowest barrier, both records
        data["edges"].append({"source": 1, "target": 0, "barrier": 1.5})
    elif case == "rounding":  # a record below its endpoint by rounding
        data["edges"][0]["barrier"] = data["edges"][0]["paths"][0]["barrier"] = 1.0 - 1e-12
    elif case == "attrs":
        data["edges"][1]["paths"][0]["curve"] = "bezier"
    elif case == "links":
        data["links"] = data.pop("edges")
    elif case == "node-attrs":  # objects that look like a record and an edge, elsewhere
        data["nodes"][0]["meta"] = {"barrier": 1.0}
        data["nodes"][1]["meta"] = [{"source": 0, "target": 1, "barrier": 2.0}]
    read = LandscapeGraph.from_dict(data)
    # the JSON text, parsed into tuples as it is read, gives the same graph
    from_text = LandscapeGraph.from_json(json.dumps(data))
    assert from_text.edges == read.edges and from_text.to_dict() == read.to_dict()
    from topoloss.topology.graph_io import _read_plain_json

    assert (_read_plain_json(json.dumps(data), LandscapeGraph) is not None) == (case in ("plain", "links"))
    if case == "node-attrs":
        assert read.attrs(0)["meta"] == {"barrier": 1.0} and from_text.attrs(1)["meta"][0]["target"] == 1
    # the same graph by add_path, edge after edge, as LandscapeGraph.from_dict documents
    by_hand = LandscapeGraph()
    for node in data["nodes"]:
        by_hand.add_minimum(node["id"], node["loss"])
    for edge in data.get("edges", data.get("links")):
        for rec in edge.get("paths", [{"barrier": edge["barrier"]}]):
            by_hand.add_path(edge["source"], edge["target"], **rec)
    assert read.edges == by_hand.edges
    for u, v in read.edges:
        assert read.paths(u, v) == by_hand.paths(u, v)
    if case == "rounding":
        assert read.barrier(0, 1) == 1.0 - 1e-12 and read.paths(0, 1) == [{"barrier": 1.0}]
    else:
        assert all(read.barrier(u, v) == by_hand.barrier(u, v) for u, v in read.edges)
    assert_same_barcode(loss_barcode(read), loss_barcode(by_hand))


@pytest.mark.parametrize("edge, match", [
    ({"source": 0, "target": 9, "barrier": 2.0}, r"edges\[2\]: unknown minimum 9"),
    ({"source": 0, "target": 0, "barrier": 2.0}, r"edges\[2\]: self-loop at minimum 0"),
    ({"source": 0, "target": 1, "barrier": float("nan")}, r"edges\[2\]: barrier between 0 and 1=nan"),
    ({"source": 0, "target": 1, "barrier": 0.5}, r"edges\[2\]: barrier=0.5 between 0 and 1 is below the loss 1.0 of 1"),
    ({"source": 0, "target": 1, "barrier": True}, r"edges\[2\]: barrier between 0 and 1=True; expected a number"),
])
def test_json_errors_name_the_edge(edge, match):
    g = LandscapeGraph.from_barriers([0.0, 1.0, 0.5], [[0, 3, 2], [3, 0, np.inf], [2, np.inf, 0]])
    data = json.loads(g.to_json())
    data["edges"].append(edge)
    with pytest.raises(ValueError, match=match):
        LandscapeGraph.from_dict(data)
    with pytest.raises(ValueError, match=match):
        LandscapeGraph.from_json(json.dumps(data))


def test_from_barriers_reports_the_first_bad_barrier_like_add_path():
    b = np.array([[0, 2, 0.1], [2, 0, 0.2], [0.1, 0.2, 0]])
    with pytest.raises(ValueError, match=r"barrier=0.1 between 0 and 2 is below the loss 1.0 of 2"):
        LandscapeGraph.from_barriers([0.0, 1.0, 1.0], b)
    # below by rounding only: raised to the loss, as add_path does
    g = LandscapeGraph.from_barriers([0.0, 1.0], [[0, 1 - 1e-12], [1 - 1e-12, 0]])
    assert g.barrier(0, 1) == 1.0 and g.paths(0, 1) == [{"barrier": 1.0}]


CSV_TEXTS = [
    "0, 0, 3\n3.5, 3, 0\n",
    "# c\n0, 0, 3, 5  # x\n1, 3, 0, inf\n\n2, 5, INF, 0\n",
    "0, 0, , 2\n1,,0,Infinity\n0.5, 2, +inf, 0\n",
    "0, 0, 1e400\n1, 1e400, 0\n",  # too large: an error, not a missing path
    "0, 0, nan\n1, nan, 0\n", "0, 0, -inf\n1, -inf, 0\n", "inf, 0, 3\n1, 3, 0\n", ", 0, 3\n1, 3, 0\n",
    "0, 0, 1_0\n1, 1_0, 0\n", "0, 0, 3\n1, 3\n", "0, 0, x\n1, x, 0\n", "", "0\n", "0, 0,\n1,,0\n",
]


@pytest.mark.parametrize("text", CSV_TEXTS)
def test_csv_fast_reader_agrees_with_cell_by_cell(tmp_path, text):
    from topoloss.topology.graph_csv import read_csv_cells, read_csv_fast, read_csv_table

    p = tmp_path / "g.csv"
    p.write_text(text)
    try:
        slow = read_csv_cells(p)
    except ValueError as exc:  # InputError, or an empty file's
        fast = read_csv_fast(p)
        assert fast is None or fast.shape[1] != fast.shape[0] + 1
        with pytest.raises(ValueError) as again:
            read_csv_table(p)
        assert str(again.value) == str(exc)
    else:
        fast = read_csv_fast(p)
        assert fast is not None or "1_0" in text  # numpy's parser refuses underscores
        np.testing.assert_array_equal(read_csv_table(p), slow)


def test_from_edges_equals_path_by_path():
    rng = np.random.default_rng(17)
    for _ in range(300):
        n = int(rng.integers(1, 10))
        losses = rng.integers(-1, 2, size=n).astype(float)
        m = int(rng.integers(0, 3 * n))
        pairs = rng.integers(0, n, size=(m, 2))
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]  # repeats and both orientations stay
        w = np.maximum(losses[pairs[:, 0]], losses[pairs[:, 1]]) + rng.integers(0, 3, size=len(pairs))
        w[rng.random(len(pairs)) < 0.1] = np.inf
        g = LandscapeGraph.from_edges(losses, pairs, w, names=[f"m{i}" for i in range(n)])
        by_hand = LandscapeGraph()
        for i, loss in enumerate(losses):
            by_hand.add_minimum(f"m{i}", loss)
        for (i, j), x in zip(pairs.tolist(), w.tolist()):
            if np.isfinite(x):
                by_hand.add_path(f"m{i}", f"m{j}", x)
        assert g.edges == by_hand.edges
        assert [g.paths(u, v) for u, v in g.edges] == [by_hand.paths(u, v) for u, v in g.edges]
        assert_same_barcode(loss_barcode(g), loss_barcode(by_hand))
        if n > 1:  # and it grows like any graph
            g.add_path("m0", f"m{n - 1}", 5.0, curve="late")
            assert g.paths("m0", f"m{n - 1}")[-1] == {"barrier": 5.0, "curve": "late"}


@pytest.mark.parametrize("edges, barriers, match", [
    ([[0, 3]], [2.0], r"edges\[0\] = \(0, 3\): no minimum 3 \(indices run from 0 to 2\)"),
    ([[0, 1, 2]], [2.0], r"edges must be an \(E, 2\) array"),
    ([[0.0, 1.0]], [2.0], "integer indices"),
    ([[0, 1]], [2.0, 3.0], r"barriers must have shape \(1,\)"),
    ([[0, 1], [1, 2]], [2.0, -np.inf], r"barriers\[1\] is -inf"),
    ([[0, 1], [2, 1]], [2.0, 0.5], r"barrier=0.5 between 2 and 1 is below the loss 1.0 of 1"),
    ([[0, 1], [1, 1]], [2.0, 2.0], "self-loop at minimum 1"),
])
def test_from_edges_errors(edges, barriers, match):
    with pytest.raises(ValueError, match=match):
        LandscapeGraph.from_edges([0.0, 1.0, 0.5], edges, barriers)


def test_npz_with_edge_arrays(tmp_path):
    from topoloss.errors import InputError

    path = tmp_path / "sparse.npz"
    np.savez(path, losses=[0.0, 1.0, 2.0, 0.5], edges=np.array([[0, 1], [2, 0], [0, 3], [1, 0]]),
             barriers=[3.0, 5.0, 2.0, 4.0])
    g = LandscapeGraph.read(path)
    assert g.edges == [(0, 1), (0, 2), (0, 3)] and g.barrier(0, 1) == 3.0
    assert loss_barcode(g).intervals.tolist() == [[0.0, np.inf], [1.0, 3.0], [2.0, 5.0], [0.5, 2.0]]
    np.savez(path, losses=[0.0, 1.0], edges=np.array([[0, 1]]), barriers=[np.nan])
    with pytest.raises(InputError, match=r"sparse.npz: barriers\[0\] is nan; a missing path is inf"):
        LandscapeGraph.read(path)
    np.savez(path, losses=[0.0, 1.0], edges=np.array([[0, 2]]), barriers=[3.0])
    with pytest.raises(InputError, match=r"sparse.npz: edges\[0\] = \(0, 2\): no minimum 2"):
        LandscapeGraph.read(path)
