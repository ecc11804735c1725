"""Every picture renders to a non-empty image; the merge tree matches the barcode."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from topoloss import LandscapeGraph, loss_barcode
from topoloss.plot import (
    merge_tree,
    plot_barcode,
    plot_barcodes,
    plot_comparison,
    plot_diagram,
    plot_disconnectivity,
)

INF = np.inf


@pytest.fixture
def barcode():
    b = np.array(
        [
            [0, 3, 5, 2, INF],
            [3, 0, 4, INF, INF],
            [5, 4, 0, INF, INF],
            [2, INF, INF, 0, INF],
            [INF, INF, INF, INF, 0],
        ]
    )
    return loss_barcode(LandscapeGraph.from_barriers([0, 1, 2, 0.5, 1.5], b, names="abcde"))


def rendered_pixels(ax) -> int:
    """Number of non-white pixels in the rendered figure."""
    fig = ax.figure
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    plt.close(fig)
    return int((img < 250).any(axis=-1).sum())


@pytest.mark.parametrize(
    "draw",
    [
        lambda bc: plot_barcode(bc, groups={"a": "A", "b": "B"}, labels=True),
        plot_diagram,
        plot_disconnectivity,
        lambda bc: plot_comparison({"depth 2": [1.0, 1.2, 0.9], "depth 4": [0.5, 0.6]}),
        lambda bc: plot_barcodes({"a": bc, "b": [bc, bc.drop_short(1.5)]}),
    ],
)
def test_figures_render(barcode, draw):
    ax = draw(barcode)
    assert ax is not None and rendered_pixels(ax) > 1000


def test_plot_on_given_axes_returns_them(barcode):
    fig, ax = plt.subplots()
    assert plot_barcode(barcode, ax=ax) is ax
    assert plot_disconnectivity(barcode, ax=ax) is ax
    plt.close(fig)


def test_merge_tree_levels_are_the_saddles(barcode):
    roots = merge_tree(barcode)
    assert len(roots) == barcode.n_components == 2
    levels = []

    def walk(node):
        if node.children:
            levels.append(node.level)
            assert all(c.level <= node.level for c in node.children)
        for c in node.children:
            walk(c)

    for r in roots:
        walk(r)
    assert sorted(levels) == sorted(barcode.finite()[:, 1].tolist())
    assert sorted(leaf.minimum for r in roots for leaf in r.leaves()) == list("abcde")
    assert [len(r.leaves()) for r in roots] == [4, 1]


def test_comparison_rejects_empty():
    with pytest.raises(ValueError, match="'x' has no values"):
        plot_comparison({"x": []})


def test_profiles_and_plane_on_an_analytic_landscape():
    import torch

    from topoloss import Bezier, connect
    from topoloss.analytic import from_function
    from topoloss.plot import plane_slice, plot_landscape_2d, plot_plane, plot_profiles

    land = from_function(lambda x: ((x**2 - 1) ** 2).sum(-1) + 0.3 * x[..., 0], [(-2, 2), (-2, 2), (-2, 2)])
    pts = torch.tensor([[-1.0, -1, -1], [1.0, -1, -1], [-1.0, 1, -1]], dtype=torch.float64)
    paths = connect(land, pts, curve=Bezier(bends=1), pairs="all", epochs=50, progress=False)
    assert rendered_pixels(plot_profiles(paths)) > 1000
    sl = plane_slice(land, pts, names=["a", "b", "c"], resolution=9)
    # the grid holds the anchors' own values at their coordinates (independent check)
    ax_idx = [np.argmin(abs(sl.xs - x)) for x in sl.anchors[:, 0]]
    ay_idx = [np.argmin(abs(sl.ys - y)) for y in sl.anchors[:, 1]]
    on_grid = sl.origin + torch.as_tensor(np.stack([sl.xs[ax_idx], sl.ys[ay_idx]], 1)) @ sl.basis
    np.testing.assert_allclose(sl.values[ay_idx, ax_idx], land.loss(on_grid).numpy(), rtol=1e-12)
    np.testing.assert_allclose(sl.coordinates(pts), sl.anchors, atol=1e-12)
    assert rendered_pixels(plot_plane(sl, paths=paths)) > 1000
    with pytest.raises(ValueError, match="collinear"):
        plane_slice(land, torch.stack([pts[0], pts[1], 2 * pts[1] - pts[0]]))
    flat = from_function(lambda x: ((x**2 - 1) ** 2).sum(-1), [(-2, 2), (-2, 2)])
    assert rendered_pixels(plot_landscape_2d(flat)) > 1000


def test_plot_imports_without_torch():
    import os
    import pathlib
    import subprocess
    import sys

    root = str(pathlib.Path(__file__).resolve().parents[1])
    code = "import topoloss.plot, sys; assert 'torch' not in sys.modules, 'torch was imported'"
    env = {**os.environ, "PYTHONPATH": root}
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr


def test_merge_tree_by_hand_with_a_tie():
    # a 0.0, b 1.0, c 1.0 (tied with b; b was added first, so b is the elder), d 0.5.
    # At 2 c joins b; at 3 the edges c-d and a-d join everything: b and d both die
    # into a at the same level.
    b = np.array(
        [
            [0, INF, INF, 3],
            [INF, 0, 2, INF],
            [INF, 2, 0, 3],
            [3, INF, 3, 0],
        ]
    )
    bc = loss_barcode(LandscapeGraph.from_barriers([0.0, 1.0, 1.0, 0.5], b, names="abcd"))
    assert bc.merges_into == (None, "a", "b", "a")

    def shape(node):
        if not node.children:
            return node.minimum, node.level
        return node.level, [shape(c) for c in node.children]

    # bars replayed by death, ties in node order (b before d); dying basin first
    expected = (3.0, [("d", 0.5), (3.0, [(2.0, [("c", 1.0), ("b", 1.0)]), ("a", 0.0)])])
    roots = merge_tree(bc)
    assert [shape(r) for r in roots] == [expected]


def test_merge_tree_rejects_a_bar_merging_into_nothing():
    from topoloss import Barcode

    bc = Barcode(("a", "b"), [[0.0, INF], [1.0, 2.0]], (None, ("a", "b")), (None, "zz"))
    with pytest.raises(ValueError, match="'b' merges into 'zz'"):
        merge_tree(bc)


def test_disconnectivity_png(tmp_path):
    b = np.array([[0, INF, INF, 3], [INF, 0, 2, INF], [INF, 2, 0, 3], [3, INF, 3, 0]])
    bc = loss_barcode(LandscapeGraph.from_barriers([0.0, 1.0, 1.0, 0.5], b, names="abcd"))
    ax = plot_disconnectivity(bc)
    ax.figure.savefig(tmp_path / "d.png")
    plt.close(ax.figure)
    assert (tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG"
