"""Screened exact evaluation (topoloss.paths.screen): against dense evaluation and known maxima,
on a landscape whose subsample ranks the points wrongly, and its config/fingerprint/resume rules."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

import topoloss as tl
from topoloss.config import EvaluationConfig, StudyConfig, with_added_defaults
from topoloss.engine.pipeline import run_study
from topoloss.engine.provenance import path_fingerprint, reusable_path_fingerprints
from topoloss.engine.store import Run
from topoloss.landscapes.base import Landscape
from topoloss.paths.metrics import path_metrics
from topoloss.paths.record import PathRecord, _straight, evaluate_curves
from topoloss.paths.screen import evaluate_screened, screen_size, upper_bounds


class SampleLandscape(Landscape):
    """``loss(θ) = mean_s l_s(θ)`` with ``l_s(θ) = f(θ) + scale_s * g(θ) + offset_s`` on 1-D points
    ``θ = t`` (a straight segment from 0 to 1 is parametrized by ``t`` itself)."""

    dim = 1

    def __init__(self, f, g, scale, offset):
        self.f, self.g = f, g
        self.scale = torch.as_tensor(scale, dtype=torch.float64)
        self.offset = torch.as_tensor(offset, dtype=torch.float64)

    @property
    def n_samples(self) -> int:
        return len(self.scale)

    def _per_sample(self, points, idx):
        x = points.reshape(-1).double()
        return self.f(x)[:, None] + self.g(x)[:, None] * self.scale[idx] + self.offset[idx]

    def sample_losses(self, points, indices):
        return self._per_sample(points, torch.as_tensor(indices))

    def loss(self, points):  # the full mean, computed in closed form (not through the samples)
        x = points.reshape(-1).double()
        return self.f(x) + self.g(x) * self.scale.mean() + self.offset.mean()

    def objective(self, points, batch=None):
        return self.loss(points)


def _segment():
    a, b = torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    return a, b, _straight(a, b)


def _subsample(n_total: int, screen: int, seed: int) -> torch.Tensor:
    """The subsample evaluate_screened draws (documented: randperm(N, seed)[:n])."""
    n = screen_size(screen, n_total)
    return torch.randperm(n_total, generator=torch.Generator().manual_seed(seed))[:n]


def test_upper_bounds_equal_a_loop_over_lagrange_weights():
    """The vectorized bound against a direct loop over anchors, weights and samples."""
    gen = torch.Generator().manual_seed(3)
    t = torch.rand(9, generator=gen, dtype=torch.float64)
    at = torch.tensor([0.0, 0.35, 0.6, 1.0], dtype=torch.float64)
    rows = torch.randn(9, 40, generator=gen, dtype=torch.float64)
    anchors = torch.randn(4, 40, generator=gen, dtype=torch.float64)
    exact = torch.randn(4, generator=gen, dtype=torch.float64)
    got = upper_bounds(t, rows, at, anchors, exact, 0.9)
    for j in range(9):
        near = sorted(range(4), key=lambda a: abs(float(at[a] - t[j])))
        best = math.inf
        for k in range(1, 5):
            sel = near[:k]
            w = [math.prod(float(t[j] - at[b]) / float(at[a] - at[b]) for b in sel if b != a) for a in sel]
            r = (rows[j] - sum(wi * anchors[a] for wi, a in zip(w, sel))).numpy()
            value = sum(wi * float(exact[a]) for wi, a in zip(w, sel)) + r.mean()
            best = min(best, value + 4.0 * r.std(ddof=1) * 0.9 / math.sqrt(40))
        assert float(got[j]) == pytest.approx(best, rel=1e-12)


def test_screening_finds_the_known_maximum_with_few_exact_points():
    """l_s = f + per-sample scale * f + offset: the exact profile is (1 + mean scale) f + mean offset,
    maximal at t = 0.5 (a grid point); screening matches the dense barrier with few exact points."""
    rng = np.random.default_rng(0)
    n_total = 4000
    scale, offset = rng.normal(0, 0.3, n_total), rng.normal(0, 1.0, n_total)
    bump = lambda x: torch.exp(-((x - 0.5) / 0.2) ** 2)  # noqa: E731
    land = SampleLandscape(bump, bump, scale, offset)
    a, b, item = _segment()
    known = (1 + scale.mean()) * 1.0 + offset.mean()
    (dense_t, dense_y), = evaluate_curves(land, [item], n_eval=61, refine=2)
    ends = [(float(land.loss(a)[0]), float(land.loss(b)[0]))]
    (got,) = evaluate_screened(land, [item], n_eval=61, refine=2, screen=512, seed=1, ends=ends)
    assert got.screen == 125 and got.screen_t.size == dense_t.size  # the whole grid was screened
    assert float(got.losses.max()) == pytest.approx(known, rel=1e-12) == float(dense_y.max())
    assert got.t[int(np.argmax(got.losses))] == 0.5
    assert got.t.size <= 10 < dense_t.size  # endpoints + a few exact points instead of 77
    np.testing.assert_allclose(got.losses, land.loss(torch.as_tensor(got.t)).numpy(), rtol=0, atol=0)


def test_the_bound_finds_a_peak_the_subsample_ranks_low():
    """A bump at t = 0.8 carried by 6 % of the samples, but by only 2 of the 100 in the
    subsample: on the subsample t = 0.3 looks highest and every top-5 point of the estimate is
    near 0.3, yet the exact profile peaks at 0.8. The spread the two heavy samples give the
    subsample's residuals keeps 0.8 alive, and its exact evaluation finds the peak."""
    n_total, screen, seed = 3200, 100, 7
    sub = _subsample(n_total, screen, seed).numpy()
    outside = np.setdiff1d(np.arange(n_total), sub)
    scale = np.zeros(n_total)
    scale[sub[:2]] = scale[outside[:190]] = 12.5  # full mean of the bump 0.75, subsample's 0.25
    f = lambda x: 1 + 0.5 * torch.exp(-((x - 0.3) / 0.1) ** 2)  # noqa: E731
    g = lambda x: torch.exp(-((x - 0.8) / 0.05) ** 2)  # noqa: E731
    land = SampleLandscape(f, g, scale, np.zeros(n_total))
    a, b, item = _segment()
    (dense_t, dense_y), = evaluate_curves(land, [item], n_eval=61, refine=2)
    assert abs(dense_t[int(np.argmax(dense_y))] - 0.8) < 0.02  # the exact peak
    # what the subsample says: a naive top-k of the estimate never looks at 0.8
    grid = torch.as_tensor(dense_t[np.isin(dense_t, np.linspace(0, 1, 61))])
    estimate = land.sample_losses(grid, torch.as_tensor(sub)).mean(dim=1)
    top5 = grid[torch.argsort(estimate, descending=True)[:5]]
    assert bool(((top5 - 0.3).abs() < 0.1).all()) and float(estimate.max()) < float(dense_y.max()) - 0.1
    ends = [(float(land.loss(a)[0]), float(land.loss(b)[0]))]
    (got,) = evaluate_screened(land, [item], n_eval=61, refine=2, screen=screen, seed=seed, ends=ends)
    assert got.screen == screen
    assert float(got.losses.max()) == pytest.approx(float(dense_y.max()), rel=1e-4)
    assert abs(got.t[int(np.argmax(got.losses))] - 0.8) < 0.02


def test_analytic_landscapes_are_evaluated_densely():
    """No data: screening is a no-op, the profile is the dense one."""
    land = tl.analytic.himmelblau()
    a, b = torch.tensor([3.0, 2.0], dtype=torch.float64), torch.tensor([-2.805118, 3.131312], dtype=torch.float64)
    item = _straight(a, b)
    (dense_t, dense_y), = evaluate_curves(land, [item], n_eval=21, refine=1)
    (got,) = evaluate_screened(land, [item], n_eval=21, refine=1, screen=1024)
    assert got.screen == 0 and got.screen_t.size == 0
    np.testing.assert_array_equal(got.t, dense_t)
    np.testing.assert_array_equal(got.losses, dense_y)


@pytest.fixture(scope="module")
def mlp():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1600, 6, generator=gen)
    y = (x[:, 0] + 0.5 * x[:, 1] ** 2 > 0.3).long()
    land = tl.ModelLandscape(lambda: nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 2)), (x, y),
                             batch_size=200)
    minima = tl.train_minima(land, seeds=[0, 1], epochs=2, lr=0.1, progress=False)
    return land, minima


def test_sample_losses_average_to_the_loss(mlp):
    land, minima = mlp
    pts = torch.stack([minima.points[0], 0.5 * (minima.points[0] + minima.points[1])])
    rows = land.sample_losses(pts, torch.arange(land.n_train))
    assert rows.shape == (2, 1600) and land.n_samples == 1600
    np.testing.assert_allclose(rows.mean(dim=1).numpy(), land.loss(pts).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="indices"):
        land.sample_losses(pts, torch.tensor([1600]))


def test_per_sample_cross_entropy_is_the_traced_batch_of_one_bit_for_bit():
    """The fast path for F.cross_entropy (reduction="none") gives what the general route gives:
    each sample as a batch of one through vmap, and by hand for a few."""
    import torch.nn.functional as F

    from topoloss.landscapes import sample_losses as module

    gen = torch.Generator().manual_seed(0)
    for n, c, dtype in [(1, 2, torch.float32), (44, 10, torch.float32), (300, 100, torch.float64)]:
        out = (torch.randn(n, c, generator=gen) * 30).to(dtype)
        y = torch.randint(0, c, (n,), generator=gen)
        assert module._plain_cross_entropy(F.cross_entropy, out, y)
        fast = module.per_sample(F.cross_entropy, out, y)
        traced = module.per_sample(lambda o, t: F.cross_entropy(o, t), out, y)  # not the same object: vmap
        assert torch.equal(fast, traced)
        for k in range(min(n, 3)):
            assert fast[k] == F.cross_entropy(out[k : k + 1], y[k : k + 1])
    # class probabilities, or an ignored label, take the general route
    assert not module._plain_cross_entropy(F.cross_entropy, torch.zeros(2, 3), torch.full((2, 3), 1 / 3))
    assert not module._plain_cross_entropy(F.cross_entropy, torch.zeros(2, 3), torch.tensor([0, -100]))


def test_screened_path_reports_exact_losses_close_to_dense(mlp):
    """On a network: the barrier is landscape.loss at t_max, every stored loss is exact, the whole
    grid keeps its estimates, and the barrier is within 1e-3 of the dense one."""
    land, minima = mlp
    opts = dict(curve=tl.Bezier(bends=1), steps=30, pairs=[("seed0", "seed1")], progress=False)
    (dense,) = tl.connect(land, minima, screen=0, **opts)
    (path,) = tl.connect(land, minima, screen=1024, **opts)
    assert dense.screen == 0 and path.screen == 50  # 1600 / 32
    assert path.t.size < dense.t.size // 3 and path.screen_t.size >= 77 and path.linear_screen_t.size >= 61
    exact = land.loss(path.points(np.array(path.t))).numpy()
    np.testing.assert_allclose(path.losses, exact, rtol=1e-12)
    assert path.barrier == pytest.approx(float(land.loss(path.points([path.t_max]))[0]), rel=1e-12)
    assert path.barrier == pytest.approx(dense.barrier, rel=1e-3)
    assert path.linear_barrier == pytest.approx(dense.linear_barrier, rel=1e-3)
    # metrics are measured at the full-data points only, aligned with t; recomputed from scratch
    # (train_loss too, not taken from the profile) they agree
    assert set(path.metrics) == {"train_loss", "train_accuracy"}
    assert all(v.shape == path.t.shape for v in path.metrics.values())
    again_metrics = path_metrics(land, path.points(np.array(path.t)))
    for name, values in path.metrics.items():
        np.testing.assert_allclose(values, again_metrics[name], rtol=1e-6)
    again = PathRecord.from_dict(json.loads(json.dumps(path.to_dict())))
    assert again.screen == 50
    for name in ("screen_t", "screen_losses", "linear_screen_t", "linear_screen_losses"):
        np.testing.assert_array_equal(getattr(again, name), getattr(path, name))
    old = path.to_dict()
    for name in ("screen", "screen_t", "screen_losses", "linear_screen_t", "linear_screen_losses"):
        del old[name]
    older = PathRecord.from_dict(old)  # a record written before screening existed
    assert older.screen == 0 and older.screen_t.size == 0 and older.barrier == path.barrier


# ---------------------------------------------------------------------- config, fingerprints, resume
def test_screen_option_round_trips_and_is_validated():
    cfg = StudyConfig.from_dict({"evaluation": {"screen": 256}})
    assert cfg.evaluation.screen == 256
    assert StudyConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))).evaluation.screen == 256
    assert cfg.with_options(screen=0).evaluation.screen == 0
    with pytest.raises(tl.errors.InputError, match=r"screen=-1"):
        EvaluationConfig(screen=-1)
    stored = StudyConfig().to_dict()
    del stored["evaluation"]["screen"]
    assert StudyConfig.from_dict(with_added_defaults(stored)).evaluation.screen == 0  # old configs: dense


def test_fingerprint_of_a_dense_path_is_the_one_older_releases_wrote():
    """Computed with commit fdbde47 (before screen existed) for this config and pair."""
    a, b = torch.zeros(2), torch.ones(2)
    cfg = StudyConfig.from_dict({"landscape": "himmelblau", "evaluation": {"n_eval": 31, "screen": 0}})
    old = "827327f0c60b49c97f8048e9bc0ab26a30dbfb6f4ae216c469f283ed42f1d8cb"
    assert path_fingerprint(cfg, 0, 1, "m0", "m1", a, b) == old
    screened = cfg.with_options(screen=512)
    assert path_fingerprint(screened, 0, 1, "m0", "m1", a, b) != old
    assert reusable_path_fingerprints(screened, 0, 1, "m0", "m1", a, b) == (
        path_fingerprint(screened, 0, 1, "m0", "m1", a, b), old)
    assert reusable_path_fingerprints(cfg, 0, 1, "m0", "m1", a, b) == (old,)


def test_dense_paths_are_reused_under_screen_and_screened_ones_not_as_dense(tmp_path):
    base = {"landscape": "himmelblau", "minima": {"n_minima": 4}, "paths": {"steps": 10, "pairs": "all"}}
    dense = StudyConfig.from_dict({**base, "evaluation": {"screen": 0}})
    screened = StudyConfig.from_dict({**base, "evaluation": {"screen": 512}})
    first = run_study(Run(tmp_path / "d", dense.to_dict()), progress=False)
    # the same run directory opened with screen > 0: no config mismatch, every dense path reused
    again = run_study(Run(tmp_path / "d", screened.to_dict()), progress=False)
    assert first.computed_paths > 0 and again.computed_paths == 0 and again.reused_paths == first.computed_paths
    # a run made with screen > 0, reopened densely: its paths are recomputed
    made = run_study(Run(tmp_path / "s", screened.to_dict()), progress=False)
    redo = run_study(Run(tmp_path / "s", dense.to_dict()), progress=False)
    assert made.computed_paths > 0 and redo.computed_paths == made.computed_paths and redo.reused_paths == 0


def test_a_run_written_before_screen_existed_resumes_under_the_default(tmp_path):
    config = StudyConfig.from_dict({"landscape": "himmelblau", "minima": {"n_minima": 4},
                                    "paths": {"steps": 10, "pairs": "all"}})
    assert config.evaluation.screen > 0  # the default screens
    first = run_study(Run(tmp_path / "r", config.with_options(screen=0).to_dict()), progress=False)
    stored = json.loads((tmp_path / "r" / "config.json").read_text())
    del stored["evaluation"]["screen"]
    (tmp_path / "r" / "config.json").write_text(json.dumps(stored))
    again = run_study(Run(tmp_path / "r", config.to_dict()), progress=False)
    assert again.computed_paths == 0 and again.reused_paths == first.computed_paths
    assert tl.to_score(again.barcode) == tl.to_score(first.barcode)
