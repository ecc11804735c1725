"""Built-in analytic landscapes: values from the literature, batching, the sextic family."""

import math

import numpy as np
import pytest
import torch

import topoloss.analytic
import topoloss.analytic.functions
from topoloss.analytic import (
    LANDSCAPES,
    SEXTIC_TAYLOR,
    AnalyticLandscape,
    PolynomialLandscape,
    Sextic,
    available_landscapes,
    builtin,
    gaussian_wells,
    get_landscape,
    himmelblau,
    holder_table,
    polynomial,
    rastrigin,
    sextic,
    six_hump_camel,
    styblinski_tang,
)


def grad_at(land, point):
    x = torch.tensor(point, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(land(x), x)
    return g.numpy()


BUILTIN_NAMES = ("polynomial", "sextic", "himmelblau", "six-hump-camel", "rastrigin", "styblinski-tang",
                 "styblinski-tang-3d", "holder-table", "gaussian-wells")


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_builtins_are_batched_and_differentiable(name):
    land = get_landscape(name)
    assert isinstance(land, AnalyticLandscape) and land.name
    gen = torch.Generator().manual_seed(0)
    x = land.low + (land.high - land.low) * torch.rand(
        3, 4, land.dim, generator=gen, dtype=torch.float64
    )
    y = land(x)
    assert y.shape == (3, 4)
    flat = land.loss(x.reshape(-1, land.dim))
    assert torch.allclose(flat, y.reshape(-1))
    _, grad = land.loss_and_grad(x.reshape(-1, land.dim))
    assert grad.shape == (12, land.dim) and torch.isfinite(grad).all()
    # autograd against central differences
    eps = 1e-6
    p = x.reshape(-1, land.dim)[0]
    for k in range(land.dim):
        e = torch.zeros(land.dim, dtype=torch.float64)
        e[k] = eps
        fd = (land(p + e) - land(p - e)) / (2 * eps)
        assert float(fd) == pytest.approx(float(grad[0, k]), rel=1e-5, abs=1e-5)


def test_builtin_registry_names_and_errors():
    assert available_landscapes()[:len(BUILTIN_NAMES)] == BUILTIN_NAMES
    assert get_landscape("Six_Hump_Camel").name == "six-hump-camel"
    with pytest.raises(ValueError, match=r"'nope'.*himmelblau"):
        get_landscape("nope")


def test_deprecated_builtin_and_BUILTINS_still_work():
    with pytest.warns(DeprecationWarning, match=r"analytic\.builtin\(name\) is deprecated; use topoloss"
                                                r"\.analytic\.get_landscape\(name\)"):
        got = builtin("rastrigin:dim=3")
    same = get_landscape("rastrigin:dim=3")
    x = torch.rand(5, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert got.name == same.name and got.bounds == same.bounds and torch.equal(got(x), same(x))
    for module in (topoloss.analytic, topoloss.analytic.functions):
        with pytest.warns(DeprecationWarning, match=rf"{module.__name__}\.BUILTINS is deprecated; use the "
                                                    r"registry topoloss\.analytic\.LANDSCAPES"):
            view = module.BUILTINS
        assert tuple(view) == BUILTIN_NAMES
        assert all(view[name] is LANDSCAPES.get(name).factory for name in BUILTIN_NAMES)
    with pytest.raises(AttributeError, match="no attribute 'NOPE'"):
        topoloss.analytic.NOPE  # noqa: B018
    # the old test, unchanged but for the warnings
    with pytest.warns(DeprecationWarning):
        BUILTINS = topoloss.analytic.BUILTINS
    assert {
        "himmelblau",
        "six-hump-camel",
        "rastrigin",
        "styblinski-tang",
        "holder-table",
        "gaussian-wells",
        "sextic",
        "polynomial",
    } <= set(BUILTINS)
    with pytest.warns(DeprecationWarning):
        assert builtin("Six_Hump_Camel").name == "six-hump-camel"
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match=r"'nope'.*himmelblau"):
        builtin("nope")
    with pytest.raises(TypeError):
        BUILTINS["x"] = himmelblau  # read-only mapping


def test_himmelblau_literature_minima():
    land = himmelblau()
    for p in [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]:
        assert float(land(torch.tensor(p, dtype=torch.float64))) == pytest.approx(0.0, abs=1e-9)
        assert np.abs(grad_at(land, p)).max() < 1e-4
    assert float(land(torch.tensor([-0.270845, -0.923039]))) == pytest.approx(181.617, abs=1e-3)


def test_six_hump_camel_literature_minima():
    land = six_hump_camel()
    cases = [
        ((0.0898, -0.7126), -1.0316),
        ((-0.0898, 0.7126), -1.0316),
        ((1.7036, -0.7961), -0.2155),
        ((-1.7036, 0.7961), -0.2155),
        ((1.6071, 0.5687), 2.1043),
        ((-1.6071, -0.5687), 2.1043),
    ]
    for p, v in cases:
        assert float(land(torch.tensor(p, dtype=torch.float64))) == pytest.approx(v, abs=1e-4)
        assert np.abs(grad_at(land, p)).max() < 2e-3


def test_styblinski_tang_rastrigin_holder_literature():
    st = styblinski_tang(dim=3)
    assert st.dim == 3 and st.name == "styblinski-tang-3d"
    x = torch.full((3,), -2.903534, dtype=torch.float64)
    assert float(st(x)) == pytest.approx(-39.16617 * 3, abs=1e-4)
    assert float(rastrigin()(torch.zeros(2, dtype=torch.float64))) == 0.0
    assert rastrigin(dim=3, bounds=(-1, 1)).bounds == ((-1.0, 1.0),) * 3
    ht = holder_table()
    assert float(ht(torch.tensor([8.05502, 9.66459], dtype=torch.float64))) == pytest.approx(
        -19.2085, abs=1e-4
    )
    lo, hi = np.array(ht.bounds).T
    assert (lo <= [8.05502, 9.66459]).all() and (hi >= [8.05502, 9.66459]).all()


def test_gaussian_wells_user_depths_and_validation():
    land = gaussian_wells([(0.0,), (3.0,)], [1.0, 2.0], 0.5, quadratic=0.0)
    assert land.dim == 1 and land.bounds == ((-1.5, 4.5),)
    vals = land(torch.tensor([[0.0], [3.0]], dtype=torch.float64))
    assert vals.numpy() == pytest.approx([-1.0, -2.0], abs=1e-6)
    with pytest.raises(ValueError, match="depths"):
        gaussian_wells([(0, 0)], [-1.0], 1.0)
    with pytest.raises(ValueError, match="widths"):
        gaussian_wells([(0, 0), (1, 1)], [1.0, 1.0], [1.0])
    with pytest.raises(ValueError, match="centers"):
        gaussian_wells([0.0, 1.0], [1.0], 1.0)
    with pytest.raises(ValueError, match="quadratic"):
        gaussian_wells(quadratic=-1.0)
    with pytest.raises(ValueError, match="dim"):
        rastrigin(dim=0)
    with pytest.raises(ValueError, match="bounds"):
        styblinski_tang(dim=2, bounds=[(-1, 1)] * 3)


def test_polynomial_critical_points_match_numpy_roots():
    land = polynomial()
    assert isinstance(land, PolynomialLandscape) and land.dim == 1
    cp = land.critical_points()
    roots = np.sort(np.roots(np.polyder(np.poly1d(land.coeffs[::-1]))).real)
    assert cp.points == pytest.approx(roots, abs=1e-10)
    assert cp.kinds == ("min", "max", "min")
    assert land.basin(cp.points[2]) == (pytest.approx(cp.points[1]), math.inf)
    x = torch.linspace(-2, 2, 7, dtype=torch.float64)[:, None]
    assert land.loss(x).numpy() == pytest.approx(np.polyval(land.coeffs[::-1], x[:, 0].numpy()))
    with pytest.raises(ValueError, match="constant"):
        polynomial([3.0, 0.0])
    with pytest.raises(ValueError, match="coeffs"):
        polynomial([1.0, math.nan])


@pytest.mark.parametrize("barrier", [0.17, 0.2, 0.25, 0.28])
def test_sextic_family_fixed_jet_and_exact_critical_points(barrier):
    s = sextic(barrier)
    assert isinstance(s, Sextic) and s.dim == 1
    # value and derivatives of orders 0..5 at the local minimum never change
    assert s.coeffs[:6] == pytest.approx(np.array(SEXTIC_TAYLOR), abs=0)
    assert 0 < s.a6 < 0.125
    roots = np.roots(np.polyder(np.poly1d(s.coeffs[::-1])))
    real = np.sort(roots[np.abs(roots.imag) < 1e-9].real)
    assert real == pytest.approx([s.local_min, s.saddle, s.global_min], abs=1e-9)
    assert s.barrier == pytest.approx(barrier, abs=1e-12)
    assert np.polyval(s.coeffs[::-1], s.saddle) == pytest.approx(barrier, abs=1e-12)
    assert s.global_value < 0.0 == s.value(0.0)
    assert s.critical_points().kinds == ("min", "max", "min")
    lo, hi = s.bounds[0]
    assert lo < s.local_min < s.saddle < s.global_min < hi


def test_sextic_range_and_errors():
    lo, hi = Sextic.barrier_range()
    assert 0.15 < lo < 0.16 and 0.28 < hi < 0.2825
    # at a6 = 1/8 the family is x^2 (x-2)^2 (x^2+1) / 8
    p = np.poly1d([1, 0, 0]) * np.poly1d([1, -2]) ** 2 * np.poly1d([1, 0, 1]) / 8
    assert p.coeffs[::-1][:6] == pytest.approx(SEXTIC_TAYLOR)
    for bad in (0.1, hi + 0.01, math.nan):
        with pytest.raises(ValueError, match="barrier="):
            sextic(bad)
    assert sextic(0.2).barrier > sextic(0.19).barrier  # monotone in a6
    assert sextic(0.19).a6 < sextic(0.2).a6
