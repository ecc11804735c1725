"""Metrics along every path (``PathRecord.metrics``): computed right, stored, exported, shown."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from topoloss.config import EvaluationConfig, PathConfig, StudyConfig
from topoloss.errors import InputError
from topoloss.landscapes.model import ModelLandscape
from topoloss.minima.find import Minima
from topoloss.paths.curves import Bezier
from topoloss.paths.metrics import path_metrics
from topoloss.paths.optimize import optimize_pairs
from topoloss.paths.record import PathRecord
from topoloss.topology.graph import LandscapeGraph

N_TRAIN, N_TEST, D, K = 48, 24, 5, 3


def _data(seed: int) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(N_TRAIN + N_TEST, D, generator=g)
    y = (x[:, :K] + 0.7 * torch.randn(N_TRAIN + N_TEST, K, generator=g)).argmax(1)
    return (x[:N_TRAIN], y[:N_TRAIN]), (x[N_TRAIN:], y[N_TRAIN:])


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(D, 6), nn.Tanh(), nn.Linear(6, K))


def _bn_mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(D, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, K))


def _landscape(factory, *, test: bool = True) -> ModelLandscape:
    train, held = _data(0)
    # one batch of the whole training set: the BatchNorm recompute is then the plain full-set
    # mean and unbiased variance, which the reference below computes by hand
    return ModelLandscape(factory, train, test_data=held if test else None, batch_size=N_TRAIN)


def _minima(land: ModelLandscape, n: int = 2) -> Minima:
    pts = torch.stack([land.initial_point(s) for s in range(n)])
    with torch.no_grad():
        losses = land.loss(pts).numpy()
    return Minima(pts, losses, tuple(f"m{i}" for i in range(n)), np.zeros(n, np.int64), np.ones(n, bool),
                  np.zeros(n, bool))


def _paths(land: ModelLandscape, n: int = 2) -> list[PathRecord]:
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    return optimize_pairs(land, _minima(land, n), pairs, paths=PathConfig(curve=Bezier(bends=1), steps=8),
                          evaluation=EvaluationConfig(n_eval=9, refine=1), progress=False)


def _unflatten(model: nn.Module, theta: torch.Tensor) -> dict[str, torch.Tensor]:
    out, at = {}, 0
    for name, p in model.named_parameters():
        out[name] = theta[at : at + p.numel()].view_as(p)
        at += p.numel()
    assert at == theta.numel()
    return out


def _reference(factory, theta: torch.Tensor, data, split_data) -> tuple[float, float]:
    """Loss and accuracy at ``theta`` on ``split_data``, recomputed independently: the MLP through
    ``functional_call`` with a parameter dict unflattened here; the BN net by hand, its statistics
    the full training set's mean and unbiased variance."""
    model = factory().double()
    params = {k: v.double() for k, v in _unflatten(model, theta.double()).items()}
    x, y = (t.double() if t.is_floating_point() else t for t in split_data)
    if not any(isinstance(m, nn.BatchNorm1d) for m in model.modules()):
        model.eval()
        out = functional_call(model, params, (x,))
    else:
        h_train = data[0].double() @ params["0.weight"].T + params["0.bias"]
        mean, var = h_train.mean(0), h_train.var(0, unbiased=True)
        h = x @ params["0.weight"].T + params["0.bias"]
        h = (h - mean) / torch.sqrt(var + 1e-5) * params["1.weight"] + params["1.bias"]
        out = torch.relu(h) @ params["3.weight"].T + params["3.bias"]
    return float(F.cross_entropy(out, y)), float((out.argmax(1) == y).double().mean())


@pytest.mark.parametrize("factory", [_mlp, _bn_mlp], ids=["mlp", "batchnorm"])
def test_metrics_along_a_path_equal_an_independent_recompute(factory):
    land = _landscape(factory)
    (rec,) = _paths(land)
    assert set(rec.metrics) == {"train_loss", "train_accuracy", "test_loss", "test_accuracy"}
    assert np.array_equal(rec.metrics["train_loss"], rec.losses)  # the profile itself, not recomputed
    train, test = _data(0)
    for k in (0, 3, int(np.argmax(rec.losses)), rec.t.size - 1):
        theta = rec.points([float(rec.t[k])])[0]
        for split, data in (("train", train), ("test", test)):
            loss, acc = _reference(factory, theta, train, data)
            assert rec.metrics[f"{split}_loss"][k] == pytest.approx(loss, rel=2e-5, abs=1e-6)
            assert rec.metrics[f"{split}_accuracy"][k] == pytest.approx(acc, abs=1e-12)
    assert rec.barrier_metrics() == {name: float(v[np.argmax(rec.losses)]) for name, v in rec.metrics.items()}


def test_no_test_data_no_test_metrics_and_analytic_landscapes_none():
    from topoloss.analytic import get_landscape

    land = _landscape(_mlp, test=False)
    pts = torch.stack([land.initial_point(0), land.initial_point(1)])
    found = path_metrics(land, pts)
    assert set(found) == {"train_loss", "train_accuracy"}
    assert found["train_loss"] == pytest.approx(land.loss(pts).numpy(), rel=1e-12)
    with pytest.raises(InputError, match="losses has 1 values"):
        path_metrics(land, pts, losses=[0.1])
    assert path_metrics(get_landscape("himmelblau"), torch.zeros(4, 2)) == {}


def _record(**metrics) -> PathRecord:
    return PathRecord("a", "b", torch.zeros(2), torch.ones(2), Bezier(bends=1), torch.full((1, 2), 0.5),
                      t=[0.0, 0.5, 1.0], losses=[0.1, 0.4, 0.2], barrier=0.4, t_max=0.5, metrics=metrics)


def test_metrics_are_read_only_validated_and_round_trip():
    rec = _record(train_loss=[0.1, 0.4, 0.2], test_accuracy=[0.9, math.nan, 0.8])
    with pytest.raises(TypeError):
        rec.metrics["x"] = np.zeros(3)  # type: ignore[index]
    with pytest.raises(ValueError):
        rec.metrics["train_loss"][0] = 1.0
    import pickle

    pickled = pickle.loads(pickle.dumps(rec))  # Ray workers send records back pickled
    np.testing.assert_array_equal(pickled.metrics["test_accuracy"], rec.metrics["test_accuracy"])
    back = PathRecord.from_dict(json.loads(json.dumps(rec.to_dict())))
    assert list(back.metrics) == ["train_loss", "test_accuracy"]
    for name in rec.metrics:
        np.testing.assert_array_equal(back.metrics[name], rec.metrics[name])
    with pytest.raises(InputError, match="metric 'test_loss' has 2 values; expected one per t"):
        _record(test_loss=[0.1, 0.2])
    with pytest.raises(InputError, match="'train_loss' differs from losses"):
        _record(train_loss=[0.1, 0.5, 0.2])
    old = rec.to_dict()
    del old["metrics"]  # a record stored before metrics existed
    assert PathRecord.from_dict(old).metrics == {}
    assert "metrics" not in _record().to_dict()  # analytic records keep their old form


def test_csv_equals_the_record(tmp_path):
    rec = _record(train_loss=[0.1, 0.4, 0.2], test_loss=[0.3, math.inf, 0.25], test_accuracy=[0.9, math.nan, 0.8])
    text = rec.to_csv(tmp_path / "p.csv")
    assert (tmp_path / "p.csv").read_text() == text
    table = np.genfromtxt(io.StringIO(text), delimiter=",", names=True)
    assert table.dtype.names == ("t", "loss", "train_loss", "test_loss", "test_accuracy")
    np.testing.assert_array_equal(table["t"], rec.t)
    np.testing.assert_array_equal(table["loss"], rec.losses)
    for name in rec.metrics:
        np.testing.assert_array_equal(table[name], rec.metrics[name])


def test_graph_edges_carry_the_test_metrics_at_the_barrier(tmp_path):
    land = _landscape(_mlp)
    paths = _paths(land, 3)
    minima = _minima(land, 3)
    g = LandscapeGraph.from_paths(minima, paths)
    nxg = g.to_networkx()
    for p in paths:
        k = int(np.flatnonzero(p.t == p.t_max)[0])
        expected = {name: float(p.metrics[name][k]) for name in ("test_loss", "test_accuracy")}
        (record,) = g.paths(p.u, p.v)
        assert {key: record[key] for key in expected} == expected
        assert {key: nxg.edges[p.u, p.v][key] for key in expected} == expected
        assert record["path"]["metrics"]["test_loss"] == p.metrics["test_loss"].tolist()
    again = LandscapeGraph.from_json(g.to_json())
    g.write(tmp_path / "g.graphml")
    xml = LandscapeGraph.read(tmp_path / "g.graphml")
    for other in (again, xml):
        for p in paths:
            assert other.to_networkx().edges[p.u, p.v]["test_accuracy"] == nxg.edges[p.u, p.v]["test_accuracy"]
    # a fallback record's barrier is on the straight segment: nothing measured there, no attribute
    from dataclasses import replace

    fell = replace(paths[0], fallback="straight", barrier=paths[0].barrier, t_max=0.5)
    assert all(math.isnan(v) for v in fell.barrier_metrics().values())
    g2 = LandscapeGraph.from_paths(minima, [fell])
    assert "test_loss" not in g2.paths(fell.u, fell.v)[0] and "test_loss" not in g2.to_networkx().edges[fell.u, fell.v]


CONFIG = {"model": "fcn:depth=1,width=8", "data": "digits",
          "minima": {"seeds": [0, 1, 2], "epochs": 1},
          "paths": {"steps": 6, "pairs": "all", "curve": "bezier:bends=1"},
          "evaluation": {"n_eval": 7, "refine": 1}}


@pytest.fixture(scope="module")
def digits_land():
    from topoloss.data import digits
    from topoloss.models import fcn

    train, test = digits()
    return ModelLandscape(lambda: fcn(64, 10, depth=1, width=8), train, test_data=test)


@pytest.mark.slow  # digits, a run directory, a report: ~12 s of CPU
def test_run_directory_keeps_metrics_resumes_old_paths_and_reports_them(digits_land, tmp_path):
    from topoloss.engine.pipeline import run_study
    from topoloss.engine.store import Run
    from topoloss.report import make_report

    run = Run(tmp_path / "r", StudyConfig.from_dict(CONFIG).to_dict())
    first = run_study(run, landscape=digits_land, progress=False)
    assert first.computed_paths == 3
    stored = {p.pair: p for p in Run(tmp_path / "r").finished_paths()[0]}
    for p in first.paths:
        assert set(p.metrics) == {"train_loss", "train_accuracy", "test_loss", "test_accuracy"}
        for name, values in p.metrics.items():
            np.testing.assert_array_equal(stored[p.pair].metrics[name], values)

    # an old path file (no metrics in its record) still loads and is reused on resume
    import safetensors.torch

    old = first.paths[0]
    file = run.path_file(old.u, old.v)
    with safetensors.safe_open(str(file), framework="pt") as fh:
        meta = dict(fh.metadata())
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118
    record = json.loads(meta["record"])
    del record["metrics"]
    meta["record"] = json.dumps(record)
    file.write_bytes(safetensors.torch.save(tensors, metadata=meta))
    again = run_study(Run(tmp_path / "r", StudyConfig.from_dict(CONFIG).to_dict()), landscape=digits_land,
                      progress=False)
    assert again.computed_paths == 0 and again.reused_paths == 3
    assert {p.pair: dict(p.metrics) == {} for p in again.paths}[old.pair]

    files = make_report(Run(tmp_path / "r"), plane=False)
    csvs = sorted(f for f in files if f.suffix == ".csv")
    assert [f.name for f in csvs] == sorted(f"{p.u}--{p.v}.csv" for p in again.paths)
    for p in again.paths:
        table = np.genfromtxt(tmp_path / "r" / "report" / "paths" / f"{p.u}--{p.v}.csv", delimiter=",", names=True)
        assert table.dtype.names == ("t", "loss", *p.metrics)
        np.testing.assert_array_equal(np.atleast_1d(table["loss"]), p.losses)
    md = (tmp_path / "r" / "report" / "summary.md").read_text()
    bars = md.split("## Bars")[1].split("\n## ")[0]
    assert "| test acc. (minimum) | test acc. (saddle) |" in bars
    minima = Run(tmp_path / "r").load_minima()
    accuracy = dict(zip(minima.names, (m["test_accuracy"] for m in minima.metrics)))
    barcode = Run(tmp_path / "r").load_barcode()
    best = {frozenset(p.pair): p for p in again.paths}
    for line in bars.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] not in accuracy:
            continue
        assert cells[7] == f"{accuracy[cells[0]]:.4f}"
        saddle = barcode.bar(cells[0]).saddle
        if saddle is not None:
            at = best[frozenset(saddle)].barrier_metrics().get("test_accuracy", math.nan)
            assert cells[8] == ("—" if math.isnan(at) else f"{at:.4f}")
    assert "test loss at max | test acc. at max |" in md


def test_profiles_figure_has_the_train_and_test_panels(monkeypatch, tmp_path):
    import topoloss.report as report

    land = _landscape(_mlp)
    paths = _paths(land, 3)
    figures = []
    monkeypatch.setattr(report, "save_figure", lambda fig, path: figures.append(fig))
    report._profiles_figure(paths, tmp_path / "profiles.png")
    titles = [ax.get_title() for ax in figures[0].axes]
    assert titles == ["train loss, optimized paths", "test loss, optimized paths", "train accuracy, optimized paths",
                      "test accuracy, optimized paths", "straight segments (dashed) and optimized"]
    test_acc = figures[0].axes[3]
    drawn = [line.get_ydata() for line in test_acc.get_lines() if len(line.get_ydata()) > 1]
    assert len(drawn) == 3
    for p, y in zip(paths, drawn):
        np.testing.assert_array_equal(y, p.metrics["test_accuracy"])


def test_plot_path_metrics_names_a_missing_metric():
    from matplotlib.figure import Figure

    from topoloss.plot import plot_path_metrics

    ax = Figure().subplots()
    with pytest.raises(ValueError, match="metric='test_loss': no path measured it \\(measured: train_loss\\)"):
        plot_path_metrics([_record(train_loss=[0.1, 0.4, 0.2])], "test_loss", ax=ax)
    drawn = plot_path_metrics([_record(train_loss=[0.1, 0.4, 0.2]), _record()], "train_loss", ax=ax)
    lines = [line for line in drawn.get_lines() if len(line.get_xdata()) > 1]
    assert len(lines) == 1 and list(lines[0].get_ydata()) == [0.1, 0.4, 0.2]
