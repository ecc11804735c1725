"""LandscapeGraph: building, validation, conversions."""

import math

import networkx as nx
import numpy as np
import pytest

from topoloss import LandscapeGraph, loss_barcode
from topoloss.errors import InputError


def test_from_barriers_inf_and_nan_mean_no_path():
    b = np.array([[0, 2, np.nan], [2, 0, np.inf], [np.nan, np.inf, 0]])
    g = LandscapeGraph.from_barriers([0.0, 1.0, 1.5], b, names=["a", "b", "c"])
    assert g.nodes == ["a", "b", "c"]
    assert g.edges == [("a", "b")]
    assert g.barrier("a", "c") == math.inf
    assert not g.is_connected()
    expected = np.where(np.isnan(b), np.inf, b)
    np.fill_diagonal(expected, [0.0, 1.0, 1.5])
    np.testing.assert_array_equal(g.barrier_matrix(), expected)


@pytest.mark.parametrize(
    "losses, barriers, match",
    [
        ([0.0, np.nan], [[0, 1], [1, 0]], "loss of minimum 1"),
        ([0.0, np.inf], [[0, 1], [1, 0]], "loss of minimum 1"),
        ([0.0, 1.0], [[0, 0.5], [0.5, 0]], r"barrier=0.5 between 0 and 1 is below the loss 1.0 of 1"),
        ([0.0, 1.0], [[0, 2], [3, 0]], "not symmetric"),
        ([0.0, 1.0], [[0, 2, 2], [2, 0, 2]], r"shape \(2, 2\)"),
    ],
)
def test_from_barriers_validation(losses, barriers, match):
    with pytest.raises(ValueError, match=match):
        LandscapeGraph.from_barriers(losses, barriers)


def test_add_validation_names_the_item():
    g = LandscapeGraph()
    g.add_minimum("a", 0.0)
    g.add_minimum("b", 1.0)
    with pytest.raises(ValueError, match="unknown minimum 'zz'"):
        g.add_path("a", "zz", 2.0)
    with pytest.raises(ValueError, match="self-loop at minimum 'a'"):
        g.add_path("a", "a", 2.0)
    with pytest.raises(ValueError, match="'a' already exists"):
        g.add_minimum("a", 0.0)
    with pytest.raises(ValueError, match="between 'a' and 'b'"):
        g.add_path("a", "b", float("nan"))
    with pytest.raises(ValueError, match="below the loss 1.0 of 'b'"):
        g.add_path("a", "b", 0.9)
    with pytest.raises(ValueError, match="'c'"):
        g.add_minimum("c", "high")
    assert g.edges == []  # nothing half-added


def test_networkx_round_trip_with_custom_attribute_names():
    h = nx.Graph()
    h.add_node("x", energy=0.1, point=[0, 1])
    h.add_node("y", energy=0.4)
    h.add_edge("x", "y", height=0.9, curve="bezier")
    g = LandscapeGraph.from_networkx(h, loss="energy", barrier="height")
    assert g.loss("x") == 0.1 and g.attrs("x")["point"] == [0, 1]
    assert g.barrier("x", "y") == 0.9 and g.paths("x", "y")[0]["curve"] == "bezier"
    back = g.to_networkx()
    assert back.nodes["y"]["loss"] == 0.4 and back.edges["x", "y"]["barrier"] == 0.9
    with pytest.raises(ValueError, match="node 'y' has no 'energy'"):
        h2 = h.copy()
        del h2.nodes["y"]["energy"]
        LandscapeGraph.from_networkx(h2, loss="energy", barrier="height")


def test_json_round_trip(tmp_path):
    g = LandscapeGraph()
    g.add_minimum("a", 0.0, point=np.array([1.0, 2.0]))
    g.add_minimum(3, 0.5)
    g.add_path("a", 3, 2.0, curve="bezier", t_max=np.float64(0.4))
    g.add_path("a", 3, 1.5, curve="chain")
    path = tmp_path / "g.json"
    g.to_json(path)
    h = LandscapeGraph.from_json(path)
    assert h.nodes == ["a", 3]
    assert h.attrs("a")["point"] == [1.0, 2.0]
    assert h.barrier("a", 3) == 1.5
    assert [p["curve"] for p in h.paths("a", 3)] == ["bezier", "chain"]
    assert loss_barcode(h) == loss_barcode(g)
    with pytest.raises(FileNotFoundError, match="missing.json"):
        LandscapeGraph.from_json(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="invalid JSON"):
        LandscapeGraph.from_json(tmp_path / "bad.json")



def _imported(module):
    """Every module an ``import`` anywhere in ``module`` names (functions and TYPE_CHECKING included)."""
    import ast
    import inspect

    out = set()
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_graph_core_imports_no_builder_converter_or_reader():
    """The array core imports none of the modules that implement its conversion methods
    (not even lazily or for types): they import it, one way only."""
    import topoloss.topology._graph_methods as methods
    import topoloss.topology.graph as core

    upper = {f"topoloss.topology.{name}" for name in ("graph_build", "graph_convert", "graph_io")}
    assert not _imported(core) & upper
    assert not {t for t in _imported(methods) if t.startswith("topoloss")}


def test_every_graph_method_has_its_implementation():
    from topoloss.topology._graph_methods import GRAPH_METHODS, graph_method, implement_graph_methods

    for name in GRAPH_METHODS:
        assert callable(graph_method(name)), name
        assert callable(getattr(LandscapeGraph, name)), name
    with pytest.raises(KeyError, match="not a LandscapeGraph method: nope"):
        implement_graph_methods(nope=print)
    x = nx.Graph()
    x.add_node("a", loss=0.0)
    x.add_node("b", loss=1.0)
    x.add_edge("a", "b", barrier=2.0)
    g = LandscapeGraph(x)  # the constructor's copy goes through from_networkx
    assert (g.nodes, g.barrier("a", "b")) == (["a", "b"], 2.0)
    assert type(LandscapeGraph.from_barriers([0.0], [[0.0]])) is LandscapeGraph


def test_a_frozen_graph_refuses_every_change_and_its_copy_does_not():
    g = LandscapeGraph.from_barriers([0.0, 0.2, 0.1], [[0.0, 1.0, 2.0], [1.0, 0.2, 0.5], [2.0, 0.5, 0.1]])
    before = (g.nodes, g.edges, g.barrier_matrix().tolist())
    assert g.freeze() is g and g.frozen
    for change in (lambda: g.add_minimum("d", 0.3), lambda: g.add_path(0, 1, 0.9),
                   lambda: g.lower_barrier(0, 1, 0.3),
                   lambda: g.add_paths_at_once(np.array([0]), np.array([1]), np.array([1.0]))):
        with pytest.raises(InputError, match="frozen"):
            change()
    g.paths(0, 1)[0]["barrier"] = -5.0  # a copy of each record
    assert (g.nodes, g.edges, g.barrier_matrix().tolist()) == before and g.paths(0, 1)[0]["barrier"] == 1.0
    mine = g.copy()
    mine.add_path(0, 1, 0.3)
    assert not mine.frozen and mine.barrier(0, 1) == 0.3 and g.barrier(0, 1) == 1.0
