"""Exact ground truth: GUDHI cubical barcodes against critical points, the literature,
closed forms, a brute-force merge-height reference and loss_barcode on merge heights."""

import json
import math

import numpy as np
import pytest
import torch
from scipy import ndimage

from topoloss import LandscapeGraph, loss_barcode
from topoloss.analytic import (
    exact_barcode,
    exact_barriers,
    exact_minima,
    from_function,
    gaussian_wells,
    himmelblau,
    holder_table,
    polynomial,
    rastrigin,
    sextic,
    six_hump_camel,
    styblinski_tang,
)
from topoloss.cli import main

RES_2D = 257


# ---------------------------------------------------------------- independent references


def critical_points(land, n=20, iters=40):
    """All critical points in the box's interior by batched Newton on the gradient from
    an ``n**d`` grid of starts; returns points, values and Morse indices (#neg. eigv.)."""
    f = land.f
    grad = torch.func.vmap(torch.func.grad(f))
    hess = torch.func.vmap(torch.func.hessian(f))
    axes = [torch.linspace(lo, hi, n, dtype=torch.float64) for lo, hi in land.bounds]
    x = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, land.dim)
    eye = torch.eye(land.dim, dtype=torch.float64)
    for _ in range(iters):
        step = torch.linalg.solve(hess(x) + 1e-12 * eye, grad(x).unsqueeze(-1)).squeeze(-1)
        x = torch.nan_to_num(x - step, nan=1e6)
    lo, hi = land.low, land.high
    margin = 1e-6 * (hi - lo)
    ok = (grad(x).norm(dim=-1) < 1e-8) & ((x > lo + margin) & (x < hi - margin)).all(-1)
    pts = []
    for p in x[ok].numpy():
        if not any(np.abs(p - q).max() < 1e-6 for q in pts):
            pts.append(p)
    pts = np.array(pts)
    h = hess(torch.as_tensor(pts)).numpy()
    eig = np.linalg.eigvalsh(h)
    vals = land.loss(torch.as_tensor(pts)).numpy()
    return pts, vals, (eig < 0).sum(-1), np.abs(eig).max()


def grid_tolerance(land, res, hess_norm):
    """Second-order grid error at a critical point: ``hess_norm * (d * h**2)``."""
    h = max((hi - lo) / (res - 1) for lo, hi in land.bounds)
    return 2.0 * hess_norm * land.dim * h**2


def brute_force_merge_height(values, a, b):
    """Smallest sublevel at which flat vertices a, b are 4-connected (binary search)."""
    levels = np.unique(values)
    lo, hi = np.searchsorted(levels, max(values.flat[a], values.flat[b])), len(levels) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        lab, _ = ndimage.label(values <= levels[mid])  # default structure: axis neighbours
        if lab.flat[a] == lab.flat[b]:
            hi = mid
        else:
            lo = mid + 1
    return levels[lo]


def random_smooth(dim, seed):
    gen = np.random.default_rng(seed)
    w = torch.tensor(gen.normal(0, 3, (6, dim)))
    phase = torch.tensor(gen.uniform(0, 2 * np.pi, 6))
    amp = torch.tensor(gen.uniform(0.5, 1.5, 6))
    return from_function(lambda x: (amp * torch.sin(x @ w.T + phase)).sum(-1), [(-1.0, 1.0)] * dim)


def sorted_intervals(bc):
    iv = bc.intervals
    return iv[np.lexsort((iv[:, 1], iv[:, 0]))]


# ---------------------------------------------------------------- exact_barcode vs truth

SMOOTH_2D = {
    "himmelblau": himmelblau,
    "six-hump-camel": six_hump_camel,
    "rastrigin": rastrigin,
    "styblinski-tang": styblinski_tang,
    "gaussian-wells": gaussian_wells,
}


@pytest.mark.parametrize("name", list(SMOOTH_2D))
def test_exact_barcode_matches_critical_points(name):
    land = SMOOTH_2D[name]()
    _, vals, index, hnorm = critical_points(land)
    tol = grid_tolerance(land, RES_2D, hnorm)
    bc = exact_barcode(land, resolution=RES_2D).drop_short(tol)
    minima = np.sort(vals[index == 0])
    saddles = vals[index == 1]
    assert len(bc) == len(minima), (bc, minima)
    assert np.sort(bc.intervals[:, 0]) == pytest.approx(minima, abs=tol)
    deaths = bc.finite()[:, 1]
    for d in deaths:  # every bar dies at an index-1 saddle value
        assert np.abs(saddles - d).min() <= tol, (d, saddles)
    assert bc.n_components == 1


def test_himmelblau_and_camel_against_the_literature():
    gm = exact_minima(himmelblau(), resolution=513)
    bc = gm.barcode.drop_short(0.05)
    assert len(bc) == 4 and bc.intervals[:, 0] == pytest.approx(0.0, abs=0.01)
    known = np.array(
        [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]
    )
    h = gm.spacing.max()
    for i in bc.names:  # each surviving minimum sits within a grid cell of a known one
        assert np.abs(known - gm.points[i]).max(axis=1).min() <= h
    # Saddle values of Himmelblau (critical points of index 1): 13.3119, 67.719, 104.022
    assert np.sort(bc.finite()[:, 1]) == pytest.approx([13.3119, 67.719, 104.022], abs=0.02)

    gm = exact_minima(six_hump_camel(), resolution=RES_2D)
    bc = gm.barcode.drop_short(1e-3).sorted()
    assert bc.intervals[:, 0] == pytest.approx(
        [-1.0316, -1.0316, -0.2155, -0.2155, 2.1043, 2.1043], abs=2e-3
    )
    glob = [i for i in bc.names if gm.values[i] < -1]
    assert sorted(tuple(np.round(gm.points[i], 1)) for i in glob) == [(-0.1, 0.7), (0.1, -0.7)]
    # the two global minima meet at the saddle at the origin, value 0
    assert bc.finite()[:, 1].min() == pytest.approx(0.0, abs=1e-3)


def test_styblinski_tang_closed_form_2d_and_3d():
    g = np.poly1d([0.5, 0, -8, 2.5, 0])  # (t^4 - 16 t^2 + 5 t) / 2
    crit = np.sort(g.deriv().r.real)
    m1, big_m, m2 = g(crit)  # minima -39.166, -25.029; max 0.196
    assert m1 == pytest.approx(-39.16617, abs=1e-4) and m2 == pytest.approx(-25.02945, abs=1e-4)
    for dim, res in ((2, RES_2D), (3, 81)):
        land = styblinski_tang(dim=dim)
        tol = grid_tolerance(land, res, 35.0)
        bc = exact_barcode(land, resolution=res).sorted()
        expect = []
        for k in range(dim + 1):  # k coordinates at the shallow minimum
            birth = k * m2 + (dim - k) * m1
            # it merges through a saddle that lifts one shallow coordinate to the maximum
            death = math.inf if k == 0 else (k - 1) * m2 + (dim - k) * m1 + big_m
            expect += [(birth, death)] * math.comb(dim, k)
        expect = np.array(sorted(expect))
        assert bc.intervals[:, 0] == pytest.approx(expect[:, 0], abs=tol)
        assert bc.intervals[1:, 1] == pytest.approx(expect[1:, 1], abs=tol)
        assert math.isinf(bc.intervals[0, 1])


def test_holder_table_cells_die_on_zero_lines():
    land = holder_table()
    _, vals, index, hnorm = critical_points(land, n=30)
    res = RES_2D
    bc = exact_barcode(land, resolution=res)
    minima = np.sort(vals[index == 0])
    assert len(minima) == len(bc) == 6
    assert bc.intervals[:, 0] == pytest.approx(np.sort(bc.intervals[:, 0]))
    assert np.sort(bc.intervals[:, 0]) == pytest.approx(
        minima, abs=grid_tolerance(land, res, hnorm)
    )
    assert bc.intervals[0, 0] == pytest.approx(-19.2085, abs=0.01)
    # Lipschitz bound across the non-smooth zero lines: |grad| <= 20 * (1 + |x|/pi ...)
    _, values = land.grid(res)
    lip = max(
        np.abs(g).max()
        for g in np.gradient(values, *[(hi - lo) / (res - 1) for lo, hi in land.bounds])
    )
    h = max((hi - lo) / (res - 1) for lo, hi in land.bounds)
    assert bc.finite()[:, 1] == pytest.approx(0.0, abs=lip * h * math.sqrt(2))


@pytest.mark.parametrize("barrier", [0.17, 0.22, 0.27])
def test_sextic_barcode_matches_numpy_roots(barrier):
    land = sextic(barrier)
    roots = np.roots(np.polyder(np.poly1d(land.coeffs[::-1])))
    crit = np.sort(roots[np.abs(roots.imag) < 1e-9].real)
    vals = np.polyval(land.coeffs[::-1], crit)  # local min, saddle, global min
    res = 200_001
    h = (land.bounds[0][1] - land.bounds[0][0]) / (res - 1)
    p2 = np.polyder(np.poly1d(land.coeffs[::-1]), 2)
    tol = max(abs(p2(c)) for c in crit) * h**2
    bc = exact_barcode(land, resolution=res).sorted()
    assert len(bc) == 2
    assert bc.intervals[0] == pytest.approx([vals[2], math.inf], abs=tol)
    assert bc.intervals[1] == pytest.approx([vals[0], vals[1]], abs=tol)
    assert bc.intervals[1, 1] - bc.intervals[1, 0] == pytest.approx(barrier, abs=2 * tol)


def test_polynomial_1d_and_rastrigin_3d():
    bc = exact_barcode(polynomial(), resolution=4001).sorted()
    cp = polynomial().critical_points()
    assert bc.intervals[:, 0] == pytest.approx(np.sort(cp.values[[0, 2]]), abs=1e-5)
    assert bc.intervals[1, 1] == pytest.approx(cp.values[1], abs=1e-5)
    land = rastrigin(dim=3, bounds=(-1.4, 1.4))
    gm = exact_minima(land, resolution=57)
    assert len(gm) == 27 and gm.points.shape == (27, 3)
    bc = gm.barcode.sorted()
    one_d = np.sort(
        exact_barcode(rastrigin(dim=1, bounds=(-1.4, 1.4)), resolution=57).intervals[:, 0]
    )
    assert bc.intervals[0, 0] == pytest.approx(0.0, abs=1e-12)
    # separable: births are sums of the 1-D births on the same grid
    sums = np.sort([a + b + c for a in one_d for b in one_d for c in one_d])
    assert bc.intervals[:, 0] == pytest.approx(sums, abs=1e-9)


def test_grid_minima_metadata():
    land = styblinski_tang()
    gm = exact_minima(land, resolution=101)
    assert gm.barcode.names == (0, 1, 2, 3)
    assert np.all(np.diff(gm.values) >= 0)
    assert gm.spacing == pytest.approx([0.1, 0.1])
    vals = land.loss(torch.tensor(np.array(gm.points))).numpy()
    assert vals == pytest.approx(gm.values)
    assert np.isnan(gm.saddle_points[0]).all() and np.isfinite(gm.saddle_points[1:]).all()
    saddle_vals = land.loss(torch.tensor(np.array(gm.saddle_points[1:]))).numpy()
    assert saddle_vals == pytest.approx(gm.barcode.intervals[1:, 1])
    assert gm.barcode.merges_into[1:] == (0, 0, 0)
    # (shallow, shallow) dies after the mixed minima have joined the global one
    assert gm.barcode.saddles[3] == (3, 0)
    assert gm.barcode.saddles[1] == (1, 0) and gm.barcode.saddles[2] == (2, 0)


# ---------------------------------------------------------------- exact_barriers


@pytest.mark.parametrize("dim,res", [(1, 41), (2, (23, 19)), (3, (9, 11, 7))])
def test_exact_barriers_against_brute_force(dim, res):
    land = random_smooth(dim, seed=dim)
    gen = np.random.default_rng(10 + dim)
    pts = gen.uniform(-1, 1, (7, dim))
    pts[3] = pts[2]  # two points on one vertex
    out = exact_barriers(land, pts, resolution=res)
    _, values = land.grid(res)
    shape = values.shape
    flat_idx = [
        np.ravel_multi_index(tuple(np.rint((p + 1) / 2 * (np.array(shape) - 1)).astype(int)), shape)
        for p in pts
    ]
    for i in range(len(pts)):
        assert out[i, i] == values.flat[flat_idx[i]]
        for j in range(i + 1, len(pts)):
            assert (
                out[i, j] == out[j, i] == brute_force_merge_height(values, flat_idx[i], flat_idx[j])
            )


LANDS_FOR_CONSISTENCY = [
    (lambda: sextic(0.2), 5001),
    (polynomial, 2001),
    (himmelblau, 129),
    (six_hump_camel, 129),
    (rastrigin, 129),
    (holder_table, 129),
    (gaussian_wells, 129),
    (lambda: random_smooth(2, 5), 65),
    (lambda: styblinski_tang(3), 33),
    (lambda: random_smooth(3, 6), 21),
]


@pytest.mark.parametrize("make,res", LANDS_FOR_CONSISTENCY)
def test_exact_barriers_reproduce_exact_barcode(make, res):
    land = make()
    gm = exact_minima(land, resolution=res)
    barriers = exact_barriers(land, gm.points, resolution=res)
    bc = loss_barcode(LandscapeGraph.from_barriers(gm.values, barriers))
    assert sorted_intervals(bc) == pytest.approx(sorted_intervals(gm.barcode), abs=1e-12)
    # same naming and tie rule: bar by bar, and the same merges
    assert bc.intervals == pytest.approx(gm.barcode.intervals, abs=1e-12)
    assert bc.merges_into == gm.barcode.merges_into
    for i, s in enumerate(gm.barcode.saddles):
        if s is not None:
            assert barriers[s] == gm.barcode.intervals[i, 1]


def test_exact_barriers_512():
    land = himmelblau()
    out = exact_barriers(
        land, [(3, 2), (-2.8, 3.1), (-3.78, -3.28), (3.58, -1.85), (0, 0)], resolution=512
    )
    assert out[0, 1] == pytest.approx(67.72, abs=0.05)
    assert out[4, 4] == pytest.approx(170.0, abs=1.0)  # (0, 0) is not a vertex: even grid
    assert (out[4, :4] == out[4, 4]).all()  # a point on a slope merges at its own level


# ---------------------------------------------------------------- errors and CLI


def test_bad_input_raises_value_error_naming_it():
    land = himmelblau()
    with pytest.raises(ValueError, match="resolution=2"):
        exact_barcode(land, resolution=2)
    with pytest.raises(ValueError, match=r"resolution=\[5, 5, 5\]"):
        exact_barcode(land, resolution=[5, 5, 5])
    with pytest.raises(ValueError, match="resolution"):
        exact_barcode(land, resolution="many")
    with pytest.raises(ValueError, match="too small"):
        exact_barriers(land, [(0, 0)], resolution=(1, 9))
    with pytest.raises(ValueError, match=r"points\[1\] = \[6.0, 0.0\].*outside"):
        exact_barriers(land, [(0, 0), (6, 0)], resolution=9)
    with pytest.raises(ValueError, match=r"shape \(n, 2\).*\(2, 3\)"):
        exact_barriers(land, [(0, 0, 0), (1, 1, 1)], resolution=9)
    with pytest.raises(ValueError, match=r"points\[0\].*not finite"):
        exact_barriers(land, [(math.nan, 0)], resolution=9)
    with pytest.raises(ValueError, match="resolution"):
        exact_minima(land, resolution=10**5)
    with pytest.raises(TypeError):
        exact_barcode(lambda x: x, resolution=9)


def test_cli_exact(capsys, tmp_path):
    assert main(["exact", "styblinski-tang", "--resolution", "101"]) == 0
    out = capsys.readouterr().out
    assert "4 bars" in out and "TO-score (bottleneck)" in out
    assert main(["exact", "rastrigin", "--resolution", "65", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["landscape"] == "rastrigin" and len(report["minima"]) == 9
    assert report["saddle_points"][0] is None and report["to_score"] > 0
    path = tmp_path / "b.json"
    assert main(["exact", "sextic", "--resolution", "2001", "--json", str(path)]) == 0
    assert json.loads(path.read_text())["resolution"] == [2001]
    capsys.readouterr()
    assert main(["exact", "--list"]) == 0
    assert "six-hump-camel" in capsys.readouterr().out
    assert main(["exact", "nope"]) == 2
    assert "known: " in capsys.readouterr().err
    assert main(["exact", "himmelblau", "--resolution", "2"]) == 2
    assert "resolution=2" in capsys.readouterr().err


def test_cli_exact_drops_grid_artifacts_by_default(capsys):
    from topoloss.cli import main

    assert main(["exact", "himmelblau", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["bars"]) == 4  # Himmelblau's four minima, nothing the grid made up
    deaths = sorted(d for _, d in data["intervals"] if d is not None)
    np.testing.assert_allclose(deaths, [13.3117, 67.7193, 104.0223], atol=0.1)
    assert main(["exact", "himmelblau", "--json", "--min-length", "0"]) == 0
    assert len(json.loads(capsys.readouterr().out)["bars"]) >= 4
