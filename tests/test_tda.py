"""topoloss.tda and Barcode conversions against the libraries they target (GUDHI, persim, giotto-tda's format)."""

from __future__ import annotations

import json
import math
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone

from topoloss import LandscapeGraph, loss_barcode
from topoloss.errors import InputError
from topoloss.tda import FEATURE_NAMES, BarcodeDiagrams, BarcodeFeatures, diagrams, to_giotto
from topoloss.topology.barcode import Barcode
from topoloss.topology.score import to_score

INF = math.inf


def random_barcode(seed: int, n: int = 6, components: int = 1) -> Barcode:
    rng = np.random.default_rng(seed)
    losses = rng.random(n)
    b = np.full((n, n), np.inf)
    for i in range(n - components):  # a path graph cut into `components` pieces
        b[i, i + 1] = b[i + 1, i] = max(losses[i], losses[i + 1]) + rng.random()
    return loss_barcode(LandscapeGraph.from_barriers(losses, b))


BC = random_barcode(0)
POLICIES = ["keep", "drop", "max", 5.0]


def test_to_diagram_policies_by_hand():
    bc = loss_barcode(LandscapeGraph.from_barriers([0.0, 1.0, 2.0], [[0, 3, INF], [3, 0, INF], [INF, INF, 0]]))
    with pytest.warns(FutureWarning, match="essential="):  # the default "keep", deprecated
        assert bc.to_diagram().tolist() == [[0.0, INF], [1.0, 3.0], [2.0, INF]]
    assert bc.to_diagram("drop").tolist() == [[1.0, 3.0]]
    assert bc.to_diagram("max").tolist() == [[0.0, 3.0], [1.0, 3.0], [2.0, 3.0]]
    assert bc.to_diagram(2.5).tolist() == [[0.0, 2.5], [1.0, 3.0], [2.0, 2.5]]
    assert bc.to_diagram(1.0).tolist() == [[0.0, 1.0], [1.0, 3.0], [2.0, 2.0]]  # never below the birth
    one = loss_barcode(LandscapeGraph.from_barriers([0.7], [[0]]))
    assert one.to_diagram("max").tolist() == [[0.7, 0.7]]  # no finite bar: capped at its birth
    assert bc.to_persistence("drop") == [(0, (1.0, 3.0))]
    assert bc.to_gudhi() == bc.to_persistence("keep")
    d = bc.to_diagram("keep")
    d[0, 0] = 99  # a copy: the barcode stays read-only and unchanged
    assert bc.intervals[0, 0] == 0.0
    for bad in ("cap", INF, math.nan, True, None):
        with pytest.raises(InputError, match="essential"):
            bc.to_diagram(bad)


def test_default_keep_is_deprecated_and_still_keeps():
    """Barcode.to_diagram / to_persistence and essential_policy default to "keep" with a
    FutureWarning naming the new default ("drop", topoloss.tda's) and essential=; given
    explicitly, no warning."""
    from topoloss.topology.barcode import DEFAULT_ESSENTIAL, essential_policy

    assert DEFAULT_ESSENTIAL == "drop"
    for call, expected in [
        (lambda: BC.to_diagram(), BC.to_diagram("keep")),
        (lambda: BC.to_persistence(), BC.to_persistence("keep")),
        (lambda: essential_policy(BC.intervals), essential_policy(BC.intervals, "keep")),
    ]:
        with pytest.warns(FutureWarning, match=r"default will change to essential='drop'.*essential='keep'") as rec:
            got = call()
        assert len(rec) == 1 and rec[0].filename == __file__  # one warning, pointing at the caller
        np.testing.assert_array_equal(np.asarray(got, dtype=object), np.asarray(expected, dtype=object))
    assert np.isinf(BC.to_diagram("keep")[:, 1]).any()  # today's answer keeps the essential bars
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BC.to_diagram("drop"), BC.to_persistence("max"), BC.to_gudhi(), essential_policy(BC.intervals, 5.0)
        diagrams([BC]), BarcodeDiagrams().fit_transform([BC]), to_giotto([BC]), BC.to_giotto(), to_score(BC)
    np.testing.assert_array_equal(diagrams([BC])[0], BC.to_diagram(DEFAULT_ESSENTIAL))


@pytest.mark.parametrize("essential", ["drop", "max", 5.0])
def test_gudhi_representations_accept_the_diagrams(essential):
    from gudhi.representations import BettiCurve, Landscape, PersistenceImage

    ds = diagrams([random_barcode(s) for s in range(4)], essential=essential)
    for rep in (PersistenceImage(resolution=[8, 8]), Landscape(resolution=20), BettiCurve(resolution=20)):
        x = rep.fit_transform(ds)
        assert x.shape[0] == 4 and np.isfinite(x).all(), type(rep).__name__
    # the Betti curve counts bars alive at each level: check one value by hand
    grid = np.linspace(0.0, 2.0, 9)
    betti = BettiCurve(predefined_grid=grid).fit_transform(ds[:1])[0]
    d = ds[0]
    assert betti.tolist() == [int(((d[:, 0] <= s) & (s < d[:, 1])).sum()) for s in grid]


def test_gudhi_representations_fail_on_kept_infinite_bars():
    """What the issue reported: why the policy is needed."""
    from gudhi.representations import PersistenceImage

    with pytest.raises(ValueError, match="infinity"):
        PersistenceImage(resolution=[8, 8]).fit_transform([BC.to_diagram("keep")])


@pytest.mark.parametrize("essential", POLICIES)
def test_gudhi_distances(essential):
    import gudhi
    from gudhi.wasserstein import wasserstein_distance

    a, b = random_barcode(1), random_barcode(2)
    da, db = a.to_diagram(essential), b.to_diagram(essential)
    assert gudhi.bottleneck_distance(da, da, e=0) == 0.0
    d = gudhi.bottleneck_distance(da, db, e=0)
    assert math.isfinite(d) and d > 0
    w = wasserstein_distance(da, db, order=1, internal_p=INF, keep_essential_parts=True)
    assert math.isfinite(w) and w >= d - 1e-12


def test_to_score_internal_p_matches_gudhi_and_persim():
    persim = pytest.importorskip("persim")
    from gudhi.wasserstein import wasserstein_distance

    for seed in range(5):
        bc = random_barcode(seed)
        ideal = np.array([[bc.intervals[:, 0].min(), INF]])
        for q in (1.0, 2.0, INF):
            ref = wasserstein_distance(bc.to_diagram("keep"), ideal, order=1, internal_p=q, keep_essential_parts=True)
            assert to_score(bc, metric="wasserstein", internal_p=q) == pytest.approx(ref, rel=1e-9)
        # persim: L2 ground metric for wasserstein, L∞ for bottleneck; it ignores inf points
        empty = np.empty((0, 2))
        assert to_score(bc, metric="wasserstein", internal_p=2) == pytest.approx(
            persim.wasserstein(bc.to_diagram("drop"), empty), rel=1e-9)
        assert to_score(bc) == pytest.approx(persim.bottleneck(bc.to_diagram("drop"), empty), rel=1e-9)
        assert to_score(bc, metric="wasserstein", internal_p=2) == pytest.approx(
            math.sqrt(2) * to_score(bc, metric="wasserstein"))
        # bottleneck with an L_q ground metric: the longest bar's L_q distance to the diagonal
        longest = float(np.max(bc.finite()[:, 1] - bc.finite()[:, 0]))
        assert to_score(bc, internal_p=1) == pytest.approx(longest)
    with pytest.raises(InputError, match="internal_p"):
        to_score(BC, internal_p=0.5)
    assert to_score(random_barcode(0, components=2), internal_p=2) == INF


@pytest.mark.parametrize("essential", ["drop", "max", 5.0])
def test_persim_accepts_the_diagrams(essential):
    persim = pytest.importorskip("persim")
    a, b = random_barcode(3).to_diagram(essential), random_barcode(4).to_diagram(essential)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # finite diagrams: no warning about non-finite deaths
        assert persim.bottleneck(a, b) == pytest.approx(
            __import__("gudhi").bottleneck_distance(a, b), rel=1e-9)
        persim.wasserstein(a, b)
        imgs = persim.PersistenceImager(pixel_size=0.1).fit_transform([a, b])
    assert len(imgs) == 2 and all(np.isfinite(i).all() for i in imgs)


def test_giotto_format():
    """giotto-tda's documented format (it does not install beside this scikit-learn):
    (n_samples, n_points, 3) of [birth, death, dim], padded with diagonal points."""
    bcs = [random_barcode(s, n=3 + s) for s in range(3)]
    x = to_giotto(bcs)
    assert x.shape == (3, 4, 3) and np.isfinite(x).all() and (x[:, :, 2] == 0).all()
    low = min(bc.intervals[:, 0].min() for bc in bcs)
    for k, bc in enumerate(bcs):
        d = bc.to_diagram("drop")
        assert np.array_equal(x[k, : len(d), :2], d)
        assert (x[k, len(d):, :2] == low).all()  # padding: on the diagonal, zero persistence
    assert to_giotto(bcs, essential="max")[0, :3, :2].tolist() == bcs[0].to_diagram("max").tolist()
    assert bcs[0].to_giotto().shape == (1, 2, 3)
    with pytest.raises(InputError, match="infinite"):
        to_giotto(bcs, essential="keep")
    with pytest.raises(InputError, match="infinite"):
        bcs[0].to_giotto("keep")


def test_giotto_tda_reads_the_array():
    gtda = pytest.importorskip("gtda.diagrams")  # only where giotto-tda installs
    bcs = [random_barcode(s, n=3 + s) for s in range(3)]
    counts = gtda.NumberOfPoints().fit_transform(to_giotto(bcs))
    assert counts[:, 0].tolist() == [len(bc) - 1 for bc in bcs]  # padding points are not counted


def test_from_paths_equals_the_manual_loop():
    torch = pytest.importorskip("torch")
    import topoloss as tl
    from topoloss.analytic import get_landscape

    res = tl.analyze(get_landscape("himmelblau"), n_minima=4, steps=15, seed=0, progress=False)
    minima, paths = res.minima, res.paths
    g = LandscapeGraph.from_paths(minima, paths)
    manual = LandscapeGraph()
    for k, name in enumerate(minima.names):
        manual.add_minimum(name, float(minima.losses[k]), point=minima.points[k].cpu().tolist())
    for p in paths:
        manual.add_path(p.u, p.v, p.barrier, path=p.to_dict(tensors=False))
    assert g.to_dict() == manual.to_dict()
    assert loss_barcode(g) == loss_barcode(manual) == res.barcode
    assert isinstance(minima.points, torch.Tensor)


def test_frame_csv_json():
    bc = random_barcode(5)
    text = bc.to_csv()
    lines = text.strip().splitlines()
    assert lines[0].split(",") == ["minimum", "birth", "death", "length", "essential", "saddle_u", "saddle_v",
                                   "merges_into"]
    assert len(lines) == len(bc) + 1
    assert Barcode.from_dict(json.loads(bc.to_json())) == bc
    pd = pytest.importorskip("pandas")
    import io

    df = bc.to_frame()
    assert list(df["minimum"]) == list(bc.names)
    assert np.array_equal(df[["birth", "death"]].to_numpy(), bc.intervals)
    back = pd.read_csv(io.StringIO(text))
    assert np.array_equal(back[["birth", "death"]].to_numpy(), bc.intervals)  # inf read back as inf
    assert back["essential"].tolist() == (~np.isfinite(bc.intervals[:, 1])).tolist()


# ---------------------------------------------------------------------- transformers
INPUT_AGNOSTIC_CHECKS = (
    # The scikit-learn checks that do not feed a numeric (n_samples, n_features) array. Every
    # other check does, and a barcode transformer's X is a list of barcodes, so those cannot
    # apply (sklearn itself skips them all for an estimator whose tags say two_d_array=False);
    # their behaviour on barcodes is tested by hand below.
    "check_estimator_cloneable", "check_estimator_tags_renamed", "check_valid_tag_types", "check_estimator_repr",
    "check_no_attributes_set_in_init", "check_estimators_unfitted", "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order", "check_transformers_unfitted", "check_parameters_default_constructible",
    "check_get_params_invariance", "check_set_params",
)


@pytest.mark.parametrize("est", [BarcodeDiagrams(), BarcodeFeatures()], ids=lambda e: type(e).__name__)
def test_sklearn_checks_that_apply(est):
    from sklearn.utils import estimator_checks as ec

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = ec.check_estimator(est, on_fail=None)
    assert all(r["status"] == "passed" for r in results), results
    for name in INPUT_AGNOSTIC_CHECKS:
        getattr(ec, name)(type(est).__name__, clone(est))


@pytest.mark.parametrize("est", [BarcodeDiagrams(essential="max"), BarcodeFeatures(infinite_value=9.0)],
                         ids=lambda e: type(e).__name__)
def test_transformer_contract_on_barcodes(est):
    from sklearn.exceptions import NotFittedError

    X = [random_barcode(s, n=3 + s % 4) for s in range(8)]
    c = clone(est)
    assert c.get_params() == est.get_params() and c is not est
    with pytest.raises(NotFittedError):
        c.transform(X)
    before = dict(c.get_params())
    assert c.fit(X) is c and c.get_params() == before
    fitted = [k for k in vars(c) if k.endswith("_")]
    assert fitted, "no fitted attribute"
    out = c.transform(X)
    again = clone(est).fit(X).fit(X).transform(X)  # idempotent
    rows = out if isinstance(out, list) else list(out)
    for a, b in zip(rows, again if isinstance(again, list) else list(again)):
        assert np.array_equal(a, b)
    perm = [5, 2, 7, 0, 1, 3, 6, 4]  # sample order and subsets do not matter
    sub = c.transform([X[i] for i in perm])
    for i, r in zip(perm, sub if isinstance(sub, list) else list(sub)):
        assert np.array_equal(r, rows[i])
    restored = pickle.loads(pickle.dumps(c))
    for a, b in zip(rows, restored.transform(X)):
        assert np.array_equal(a, b)


def test_barcode_diagrams_values():
    X = [random_barcode(s) for s in range(3)]
    t = BarcodeDiagrams(essential="max").fit(X)
    cap = max(bc.finite()[:, 1].max() for bc in X)
    assert t.cap_ == cap and t.n_barcodes_ == 3
    new = random_barcode(9)
    got = t.transform([new])[0]
    assert got[~np.isfinite(new.intervals[:, 1]), 1].tolist() == [max(cap, new.essential()[0])]
    assert BarcodeDiagrams().fit(X).cap_ is None
    for a, bc in zip(BarcodeDiagrams().fit_transform(X), X):
        assert np.array_equal(a, bc.to_diagram("drop"))
    assert BarcodeDiagrams(essential="keep").fit_transform(X)[0].tolist() == X[0].to_diagram("keep").tolist()
    with pytest.raises(InputError, match="essential"):
        BarcodeDiagrams(essential="nope").fit(X)
    with pytest.raises(InputError, match="one Barcode"):
        BarcodeDiagrams().fit(X[0])


def test_barcode_features_values():
    bc = loss_barcode(LandscapeGraph.from_barriers(
        [0.0, 1.0, 0.5], [[0, 3, 2], [3, 0, INF], [2, INF, 0]]))  # bars [0, inf], [1, 3], [0.5, 2]
    f = BarcodeFeatures().fit([bc])
    names = list(f.get_feature_names_out())
    assert names == list(FEATURE_NAMES) and "to_score" in names
    row = dict(zip(names, f.transform([bc])[0]))
    assert row["to_score"] == 1.0 and row["to_score_wasserstein1"] == 1.75
    assert (row["n_bars"], row["n_finite"], row["n_components"]) == (3, 2, 1)
    assert (row["birth_min"], row["birth_max"]) == (0.0, 1.0) and row["birth_mean"] == pytest.approx(0.5)
    assert (row["top_min"], row["top_mean"], row["top_max"]) == (2.0, 2.5, 3.0)
    assert (row["length_mean"], row["length_max"], row["length_sum"]) == (1.75, 2.0, 3.5)
    assert row["length_std"] == pytest.approx(0.25)
    assert row["n_long"] == 2  # both finite bars are longer than 0.1 × span 3
    disc = random_barcode(0, components=2)
    assert np.isinf(BarcodeFeatures().fit_transform([disc])[0, 0])
    assert BarcodeFeatures(infinite_value=-1.0).fit_transform([disc])[0, 0] == -1.0
    with pytest.raises(InputError, match="long_fraction"):
        BarcodeFeatures(long_fraction=-1).fit([bc])
