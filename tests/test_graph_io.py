"""LandscapeGraph.read / write: every format, round trips, and errors that name the file."""

import math

import networkx as nx
import numpy as np
import pytest

from topoloss import LandscapeGraph, loss_barcode
from topoloss.errors import InputError

LOSSES = [0.0, 1.0, 2.0, 0.5]
BARRIERS = np.array(
    [[0, 3, 5, 2], [3, 0, np.inf, np.inf], [5, np.inf, 0, np.inf], [2, np.inf, np.inf, 0]]
)
# hand-computed: 0 is the eldest; 3 dies at 2, 1 at 3, 2 at 5, all into 0
EXPECTED = [[0.0, math.inf], [1.0, 3.0], [2.0, 5.0], [0.5, 2.0]]


def rich_graph():
    g = LandscapeGraph.from_barriers(LOSSES, BARRIERS)
    g.add_minimum(4, 0.25, point=np.array([1.0, 2.0]), seed=np.int64(7), note=None)
    g.add_path(4, 0, 1.5, curve="bezier", t_max=np.float64(0.4))
    g.add_path(4, 0, 1.25, curve="chain")
    return g


@pytest.mark.parametrize("suffix", [".json", ".graphml", ".gexf"])
def test_write_then_read_gives_the_same_barcode(tmp_path, suffix):
    g = rich_graph()
    path = tmp_path / f"g{suffix}"
    g.write(path)
    h = LandscapeGraph.read(path)
    assert sorted(h.nodes) == [0, 1, 2, 3, 4]  # integer names survive
    assert h.barrier(4, 0) == 1.25 and h.loss(4) == 0.25
    bg, bh = loss_barcode(g), loss_barcode(h)
    order = [h.nodes.index(n) for n in g.nodes]
    np.testing.assert_array_equal(bh.intervals[order], bg.intervals)
    assert [bh.bar(n).merges_into for n in g.nodes] == list(bg.merges_into)
    iv = loss_barcode(LandscapeGraph.from_barriers(LOSSES, BARRIERS)).intervals.tolist()
    assert iv == EXPECTED


def test_graphml_keeps_scalars_and_writes_lists_as_json_text(tmp_path):
    path = tmp_path / "g.graphml"
    rich_graph().write(path)
    raw = nx.read_graphml(path)
    assert raw.nodes["4"]["point"] == "[1.0, 2.0]" and raw.nodes["4"]["seed"] == 7
    assert "note" not in raw.nodes["4"]
    h = LandscapeGraph.read(path)
    assert h.attrs(4)["seed"] == 7 and h.attrs(4)["point"] == "[1.0, 2.0]"


def test_read_graphml_and_gexf_written_by_networkx(tmp_path):
    x = nx.Graph()
    x.add_node("left", loss=0.0)
    x.add_node("right", loss=1.0)
    x.add_node("far", loss=0.5)
    x.add_edge("left", "right", barrier=4.0)
    nx.write_graphml(x, tmp_path / "x.graphml")
    nx.write_gexf(x, tmp_path / "x.gexf")
    for name in ("x.graphml", "x.gexf"):
        bc = loss_barcode(LandscapeGraph.read(tmp_path / name))
        assert bc.bar("right").death == 4.0 and bc.bar("right").merges_into == "left"
        assert bc.n_components == 2 and "label" not in LandscapeGraph.read(tmp_path / name).attrs("far")
    # an explicit format overrides the suffix
    (tmp_path / "x.xml").write_bytes((tmp_path / "x.graphml").read_bytes())
    assert len(LandscapeGraph.read(tmp_path / "x.xml", format="graphml")) == 3


def test_csv_npz_json_read_like_from_barriers(tmp_path):
    (tmp_path / "g.csv").write_text(
        "# loss, barriers\n0, 0, 3, 5, 2\n1, 3, 0, inf,\n2, 5, inf, 0, inf # far\n\n0.5, 2, , inf, 0\n"
    )
    np.savez(tmp_path / "g.npz", losses=LOSSES, barriers=BARRIERS, names=["a", "b", "c", "d"])
    LandscapeGraph.from_barriers(LOSSES, BARRIERS).to_json(tmp_path / "g.json")
    for name in ("g.csv", "g.npz", "g.json"):
        assert loss_barcode(LandscapeGraph.read(tmp_path / name)).intervals.tolist() == EXPECTED
    assert LandscapeGraph.read(tmp_path / "g.npz").nodes == ["a", "b", "c", "d"]


def test_errors_name_the_file_and_cell(tmp_path):
    (tmp_path / "bad.csv").write_text("0, 0, 3\n1, x, 0\n")
    with pytest.raises(InputError, match=r"bad.csv: line 2, column 2: 'x' is not a number"):
        LandscapeGraph.read(tmp_path / "bad.csv")
    (tmp_path / "ragged.csv").write_text("0, 0, 3\n1, 3\n")
    with pytest.raises(InputError, match=r"ragged.csv: line 2 has 2 columns"):
        LandscapeGraph.read(tmp_path / "ragged.csv")
    (tmp_path / "asym.csv").write_text("0, 0, 3\n1, 4, 0\n")
    with pytest.raises(InputError, match=r"asym.csv: barriers is not symmetric"):
        LandscapeGraph.read(tmp_path / "asym.csv")
    (tmp_path / "bad.npz").write_text("not a zip")
    with pytest.raises(InputError, match="bad.npz"):
        LandscapeGraph.read(tmp_path / "bad.npz")
    (tmp_path / "bad.graphml").write_text("<graphml><graph")
    with pytest.raises(InputError, match="bad.graphml"):
        LandscapeGraph.read(tmp_path / "bad.graphml")
    nx.write_graphml(nx.path_graph(2), tmp_path / "noloss.graphml")
    with pytest.raises(InputError, match=r"noloss.graphml: node 0 has no 'loss'"):
        LandscapeGraph.read(tmp_path / "noloss.graphml")
    (tmp_path / "bad.json").write_text('{"nodes": 3}')
    with pytest.raises(InputError, match="bad.json"):
        LandscapeGraph.read(tmp_path / "bad.json")
    with pytest.raises(InputError, match="missing.json"):
        LandscapeGraph.read(tmp_path / "missing.json")
    with pytest.raises(InputError, match=r"unknown graph format '.xml'"):
        LandscapeGraph.read(tmp_path / "g.xml")
    with pytest.raises(InputError, match="format='csv'"):
        LandscapeGraph.from_barriers([0.0], [[0]]).write(tmp_path / "g.csv", format="csv")
    with pytest.raises(InputError, match="no graph.json"):
        LandscapeGraph.read(tmp_path)


def test_npz_with_complex_or_text_arrays_is_refused(tmp_path):
    """Issue 18 item 11: complex barriers were cast silently (the imaginary part dropped)."""
    b = np.array([[0, 3 + 1j], [3 + 1j, 0]])
    np.savez(tmp_path / "c.npz", losses=[0.0, 1.0], barriers=b)
    with pytest.raises(InputError, match=r"c.npz: array 'barriers' has dtype complex128; expected real numbers"):
        LandscapeGraph.read(tmp_path / "c.npz")
    np.savez(tmp_path / "l.npz", losses=np.array([0.0, 1j]), barriers=[[0, 3], [3, 0]])
    with pytest.raises(InputError, match=r"l.npz: array 'losses' has dtype complex128"):
        LandscapeGraph.read(tmp_path / "l.npz")
    np.savez(tmp_path / "s.npz", losses=[0.0, 1.0], barriers=np.array([["0", "3"], ["3", "0"]]))
    with pytest.raises(InputError, match=r"s.npz: array 'barriers' has dtype <U1"):
        LandscapeGraph.read(tmp_path / "s.npz")
    np.savez(tmp_path / "i.npz", losses=[0, 1], barriers=[[0, 3], [3, 0]])  # integers are real numbers
    assert loss_barcode(LandscapeGraph.read(tmp_path / "i.npz")).intervals.tolist() == [[0.0, math.inf], [1.0, 3.0]]
