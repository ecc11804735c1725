"""The whole pipeline on analytic landscapes: minima search, analyze, CLI, 2-D plot."""

from __future__ import annotations

import json
import math

import gudhi
import numpy as np
import pytest
import torch

from topoloss.analytic import exact_minima, from_function, get_landscape
from topoloss.cli import main
from topoloss.engine.pipeline import Analysis, analyze, build_graph
from topoloss.errors import InputError
from topoloss.minima.find import Minima, find_minima
from topoloss.paths.curves import Bezier, Chain
from topoloss.topology.barcode import Barcode
from topoloss.topology.graph import LandscapeGraph

LANDSCAPES_2D = [
    "himmelblau",
    "six-hump-camel",
    "rastrigin",
    "styblinski-tang",
    "holder-table",
    "gaussian-wells",
]


def _span(land) -> float:
    _, values = land.grid(513)
    return float(values.max() - values.min())


@pytest.mark.parametrize("curve", [Bezier(bends=3), Chain()], ids=lambda c: type(c).__name__)
@pytest.mark.parametrize("name", LANDSCAPES_2D)
def test_analyze_recovers_the_exact_barcode(name, curve):
    land = get_landscape(name)
    span = _span(land)
    result = analyze(land, curve=curve, seed=0, progress=False)
    exact = exact_minima(land, resolution=513)
    # every minimum with a long exact bar is found (within two grid steps)
    tol = 2 * float(np.linalg.norm(exact.spacing))
    found = result.minima.points.numpy()
    for i in np.flatnonzero(exact.barcode.lengths > 0.05 * span):
        assert np.linalg.norm(found - exact.points[i], axis=1).min() <= tol, exact.points[i]
    ours = result.barcode.drop_short(0.02 * span).to_diagram("keep")
    truth = exact.barcode.drop_short(0.02 * span).to_diagram("keep")
    assert gudhi.bottleneck_distance(ours, truth) <= 0.02 * span
    assert result.barcode.n_components == 1 and math.isfinite(result.to_score)


def test_same_seed_same_barcode():
    land = get_landscape("six-hump-camel")
    one = analyze(land, curve=Chain(points=3), epochs=60, seed=3, progress=False)
    two = analyze(land, curve=Chain(points=3), epochs=60, seed=3, progress=False)
    assert one.barcode == two.barcode and one.to_score == two.to_score
    for p, q in zip(one.paths, two.paths):
        assert torch.equal(p.bends, q.bends)


def test_analysis_record_graph_and_json():
    land = get_landscape("gaussian-wells")
    seen = []
    result = analyze(land, epochs=50, progress=False, on_path=seen.append,
                     t_batch=8)
    assert isinstance(result, Analysis) and len(seen) == len(result.paths) == 3
    g = result.graph
    assert g.nodes == list(result.minima.names)
    for k, name in enumerate(result.minima.names):
        assert g.attrs(name)["point"] == result.minima.points[k].tolist()
        assert g.loss(name) == result.minima.losses[k]
    for p in result.paths:
        assert g.barrier(p.u, p.v) == p.barrier
        (record,) = g.paths(p.u, p.v)
        assert record["path"]["barrier"] == p.barrier and record["path"]["curve"]["kind"] == "bezier"
    assert LandscapeGraph.from_json(g.to_json()).barrier_matrix().tolist() == g.barrier_matrix().tolist()
    data = json.loads(json.dumps(result.to_dict()))
    assert Barcode.from_dict(data["barcode"]) == result.barcode
    assert data["connected"] and data["to_score"] == pytest.approx(result.to_score)
    assert "to_score" in str(result).lower() or "TO-score" in str(result)


def test_given_minima_are_used_as_they_are():
    land = from_function(lambda p: (p[..., 0] ** 2 - 1) ** 2 + p[..., 1] ** 2, [(-2, 2), (-2, 2)])
    pts = torch.tensor([[1.0, 0.0], [-1.0, 0.0]], dtype=torch.float64)
    result = analyze(land, minima=pts, epochs=30, progress=False)
    assert result.minima.names == ("m0", "m1")
    assert result.barcode.bar("m1").death == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError, match="shape"):
        analyze(land, minima=torch.zeros(2, 3), progress=False)
    graph = build_graph(result.minima, result.paths, points=False)
    assert "point" not in graph.attrs("m0")


# ---------------------------------------------------------------------- find_minima
def test_find_minima_on_six_hump_camel():
    land = get_landscape("six-hump-camel")
    m = find_minima(land, 32, seed=0)
    assert isinstance(m, Minima) and len(m) == 6
    assert np.all(np.diff(m.losses) >= 0) and m.names == tuple(f"m{i}" for i in range(6))
    assert m.converged.all() and not m.on_boundary.any() and (m.n_steps > 0).all()
    np.testing.assert_allclose(m.losses, [-1.031628, -1.031628, -0.215464, -0.215464, 2.104250, 2.104250],
                               atol=1e-6)
    d = torch.cdist(m.points, m.points) + torch.eye(6) * 1e9
    assert float(d.min()) > 0.1
    again = find_minima(land, 32, seed=0)
    assert torch.equal(again.points, m.points)


def test_find_minima_boundary_rule_and_errors():
    slope = from_function(lambda p: p[..., 0] + (p[..., 1] - 0.5) ** 2, [(0, 1), (0, 1)])
    with pytest.raises(ValueError, match="boundary"):
        find_minima(slope, 4)
    kept = find_minima(slope, 4, boundary="keep")
    assert len(kept) == 1 and kept.on_boundary.all() and kept.converged.all()
    torch.testing.assert_close(kept.points[0], torch.tensor([0.0, 0.5], dtype=torch.float64),
                               atol=1e-4, rtol=0)
    land = get_landscape("himmelblau")
    for kwargs in ({"optimizer": "newton"}, {"boundary": "clip"}, {"max_steps": 0}, {"lr": -1.0}):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            find_minima(land, 4, **kwargs)
    with pytest.raises(ValueError, match="starts"):
        find_minima(land, starts=torch.zeros(3, 4))
    starts = find_minima(land, starts=torch.tensor([[2.5, 2.5], [-3.0, -3.0]]))
    assert len(starts) == 2


def test_minima_record_round_trip_and_validation():
    land = get_landscape("styblinski-tang")
    m = find_minima(land, 16)
    back = Minima.from_dict(json.loads(json.dumps(m.to_dict())))
    assert back.names == m.names and np.array_equal(back.losses, m.losses)
    torch.testing.assert_close(back.points, m.points)
    assert m.subset(["m2", 0]).names == ("m2", "m0")
    with pytest.raises(ValueError, match="unknown minimum"):
        m.index("x")
    with pytest.raises(ValueError, match="distinct"):
        Minima.from_points(land, m.points[:2], names=["a", "a"])


# ---------------------------------------------------------------------- CLI and plot
def test_cli_analyze_writes_json_and_plot(tmp_path, capsys):
    out, png = tmp_path / "r.json", tmp_path / "map.png"
    code = main(["analyze", "gaussian-wells", "--curve", "chain:points=3", "--epochs", "60",
                 "--json", str(out), "--plot", str(png), "--quiet"])
    assert code == 0
    text = capsys.readouterr().out
    assert "TO-score" in text and "exact" in text
    data = json.loads(out.read_text())
    assert data["curve"]["kind"] == "chain" and len(data["paths"]) == 3
    assert data["bottleneck_to_exact"] < 0.02 * _span(get_landscape("gaussian-wells"))
    assert png.stat().st_size > 1000


def test_cli_analyze_rejects_bad_input(capsys):
    assert main(["analyze", "no-such-landscape", "--quiet"]) == 2
    assert main(["analyze", "himmelblau", "--curve", "bezier:bends=-1", "--quiet"]) == 2
    assert "bends" in capsys.readouterr().err


def test_plot_landscape_2d_returns_the_axes():
    import matplotlib.pyplot as plt

    from topoloss.plot import plot_landscape_2d

    land = get_landscape("gaussian-wells")
    result = analyze(land, epochs=20, progress=False)
    fig, ax = plt.subplots()
    assert plot_landscape_2d(land, result, ax=ax, resolution=40, linear=True) is ax
    assert len(ax.lines) >= len(result.paths)
    plt.close(fig)
    own = plot_landscape_2d(land, resolution=20)
    assert own.get_title() == land.name
    plt.close(own.figure)
    with pytest.raises(ValueError, match="two-dimensional"):
        plot_landscape_2d(get_landscape("sextic"))


def test_a_change_to_the_graph_a_user_gets_cannot_make_the_barcode_stale():
    """Issue 20: a frozen Analysis held a mutable graph, so add_path left its barcode stale."""
    from topoloss.engine.analysis import Analysis as Home
    from topoloss.topology.persistence import loss_barcode

    assert Home is Analysis  # the result's own module, re-exported by the pipeline
    result = analyze(get_landscape("himmelblau"), steps=40, pairs="mst", progress=False)
    before = result.barcode.intervals.copy()
    a, b = next((u, v) for u in result.minima.names for v in result.minima.names
                if u != v and math.isinf(result.graph.barrier(u, v)))  # a pair with no path yet
    low = max(result.graph.loss(a), result.graph.loss(b))
    assert result.graph is result.graph and result.graph.frozen  # read as it is, no copy per read
    with pytest.raises(InputError, match=r"frozen .*graph\.copy\(\)"):
        result.graph.add_path(a, b, low)
    with pytest.raises(InputError, match="frozen"):
        result.graph.add_minimum("new", 0.0)
    mine = result.graph.copy()  # a user's own, changeable
    mine.add_path(a, b, low)
    mine.paths(*result.graph.edges[0])[0]["barrier"] = -1.0  # records of what a user got: theirs
    result.graph.paths(*result.graph.edges[0])[0]["barrier"] = -1.0
    assert math.isinf(result.graph.barrier(a, b))
    assert result.graph.paths(*result.graph.edges[0])[0]["barrier"] != -1.0
    np.testing.assert_array_equal(result.barcode.intervals, before)
    np.testing.assert_array_equal(loss_barcode(result.graph).intervals, result.barcode.intervals)
    # a graph given to the constructor is copied too
    given = build_graph(result.minima, result.paths)
    kept = Analysis(result.minima, result.paths, given, loss_barcode(given), result.to_score)
    given.add_path(a, b, low)
    assert math.isinf(kept.graph.barrier(a, b)) and not given.frozen
    # with_path: a new Analysis, its barcode that of the graph with the path (an independent recomputation)
    lower = result.with_path(a, b, low)
    assert lower.graph.barrier(a, b) == low and math.isinf(result.graph.barrier(a, b))
    expected = build_graph(result.minima, result.paths)
    expected.add_path(a, b, low)
    np.testing.assert_array_equal(lower.barcode.intervals, loss_barcode(expected).intervals)
    assert lower.barcode.n_components == result.barcode.n_components
    assert lower.paths == result.paths and lower.minima is result.minima
    from topoloss.topology.score import to_score

    assert lower.to_score == to_score(lower.barcode)
