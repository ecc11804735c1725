"""The one engine and the one configuration (architecture acceptance tests)."""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, fields

import numpy as np
import pytest
import torch

import topoloss as tl
from topoloss.analytic import from_function, register_landscape
from topoloss.analytic.landscape import AnalyticLandscape
from topoloss.cli import build_parser, main
from topoloss.cli._options import config_from_args
from topoloss.config import EvaluationConfig, ExecutionConfig, MinimaConfig, PathConfig, StudyConfig
from topoloss.engine.executors import EXECUTORS, SerialExecutor, register_executor
from topoloss.engine.pipeline import analyze, connect, run_study
from topoloss.engine.planners import PLANNERS, StaticPlanner, register_planner
from topoloss.engine.store import Run
from topoloss.errors import Diverged, InputError
from topoloss.paths.curves import CURVES, Bezier, make_curve, register_curve


def _parse(argv: list[str]) -> argparse.Namespace:
    return build_parser().parse_args(argv)


# ---------------------------------------------------------------------- one code path
def test_analyze_and_a_run_directory_give_the_same_barcode(tmp_path):
    land = tl.analytic.get_landscape("six-hump-camel")
    options = {"curve": Bezier(bends=2), "steps": 60, "n_minima": 12, "seed": 1}
    direct = analyze(land, progress=False, **options)
    config = StudyConfig(landscape="six-hump-camel").with_options(**options)
    run = Run(tmp_path / "run", config.to_dict())
    stored = run_study(run, progress=False)
    assert direct.barcode.intervals.tolist() == stored.barcode.intervals.tolist()
    assert direct.barcode.names == stored.barcode.names
    assert direct.to_score == stored.to_score
    # the run directory holds exactly what it computed, and a resume reuses all of it
    assert json.loads((run.dir / "barcode.json").read_text())["to_score"] == pytest.approx(stored.to_score)
    again = run_study(Run(tmp_path / "run"), progress=False)
    assert again.computed_paths == 0 and again.reused_paths == len(direct.paths)
    assert again.barcode.intervals.tolist() == direct.barcode.intervals.tolist()


def test_connect_is_the_engine_without_the_graph():
    land = tl.analytic.get_landscape("himmelblau")
    minima = tl.find_minima(land, 8, seed=0)
    paths = connect(land, minima, steps=40, curve=Bezier(bends=1), progress=False)
    result = analyze(land, minima=minima, steps=40, curve=Bezier(bends=1), progress=False)
    assert [p.barrier for p in paths] == [p.barrier for p in result.paths]


# ---------------------------------------------------------------------- defaults
def _same_fields(a, b) -> None:
    assert type(a) is type(b)
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        assert x == y, f"{type(a).__name__}.{f.name}: {x!r} != {y!r}"
        assert type(x) is type(y), f.name


def test_cli_config_file_and_python_defaults_are_the_same(tmp_path):
    python = StudyConfig()
    from_file = StudyConfig.from_dict({})
    empty_toml = tmp_path / "empty.toml"
    empty_toml.write_text("")
    from topoloss.cli._options import read_config_file

    from_toml = StudyConfig.from_dict(read_config_file(str(empty_toml)))
    connect_cli = config_from_args(_parse(["connect", "--run", str(tmp_path / "r")]))
    analyze_cli = config_from_args(_parse(["analyze", "himmelblau"]))
    train_cli = config_from_args(_parse(["train", "--model", "fcn", "--data", "digits", "--run", "r"]))
    for other in (from_file, from_toml, connect_cli, analyze_cli):
        for section in ("minima", "paths", "evaluation", "execution"):
            _same_fields(getattr(python, section), getattr(other, section))
        _same_fields(python, other)
    _same_fields(python.minima, train_cli.minima)
    # the Python API fills every option it is not given from the same object
    assert StudyConfig().with_options() == python
    for api in (tl.analyze, tl.connect, tl.train_minima):
        assert api.__kwdefaults__["config"] is None  # None means: the config's own defaults


def test_every_config_key_is_reachable_from_a_file_and_round_trips():
    config = StudyConfig(
        landscape="himmelblau", seed=3, batch_size=7,
        minima=MinimaConfig(seeds=(2, 5), epochs=3, optimizer="adam", lr=0.1, schedule="cyclical",
                            lr_end=1e-4, cycles=2, n_minima=9),
        paths=PathConfig(curve=tl.Chain(points=3, spring=0.5), pairs=(("m0", "m1"),), steps=11,
                         lr=0.2, optimizer="sgd", momentum=0.5, schedule="constant", t_batch=4,
                         weight_decay=0.1, jitter=0.0, group=2),
        evaluation=EvaluationConfig(n_eval=9, refine=0, linear=False),
        execution=ExecutionConfig(executor="serial"),
    )
    data = json.loads(json.dumps(config.to_dict()))
    assert StudyConfig.from_dict(data) == config


@pytest.mark.parametrize("data, needle", [
    ({"paths": {"bends": 1}}, "[paths] 'bends'"),
    ({"paths": {"lr": -1}}, "[paths] lr"),
    ({"paths": {"epochs": 2, "steps": 3}}, "give at most one"),
    ({"paths": {"curve": "nope"}}, "unknown curve family"),
    ({"minima": {"seeds": []}}, "[minima] seeds"),
    ({"evaluation": {"n_eval": 1}}, "[evaluation] n_eval"),
    ({"paths": "x"}, "[paths] must be a table"),
    ({"colour": 1}, "unknown config key 'colour'"),
])
def test_bad_config_values_name_the_key(data, needle):
    with pytest.raises(InputError) as info:
        StudyConfig.from_dict(data)
    assert needle in str(info.value)


def test_options_in_python_name_the_misspelt_keyword():
    land = tl.analytic.get_landscape("himmelblau")
    with pytest.raises(TypeError, match="'stpes'"):
        analyze(land, stpes=3, progress=False)


# ---------------------------------------------------------------------- registries
@dataclass(frozen=True)
class Toy(Bezier):
    """A Bézier curve with its own name and one more option (a toy curve family)."""

    bends: int = 1
    label: str = "toy"


def test_a_curve_family_registered_once_works_everywhere(tmp_path, capsys):
    register_curve("toy", Toy)
    try:
        land = tl.analytic.get_landscape("six-hump-camel")
        # Python API
        result = analyze(land, curve=Toy(bends=1), steps=30, n_minima=8, progress=False)
        assert {p.curve for p in result.paths} == {Toy(bends=1)}
        # config file
        cfg = tmp_path / "study.toml"
        cfg.write_text('landscape = "six-hump-camel"\n[minima]\nn_minima = 8\n'
                       '[paths]\ncurve = "toy:bends=1,label=x"\nsteps = 30\n')
        assert main(["run", str(cfg), "--run", str(tmp_path / "a"), "--no-report", "-q"]) == 0
        stored = json.loads((tmp_path / "a" / "config.json").read_text())
        assert stored["paths"]["curve"] == {"kind": "toy", "bends": 1, "label": "x"}
        # the CLI, and stored path records read back with the family
        assert main(["analyze", "six-hump-camel", "--curve", "toy", "--steps", "30", "--n-minima", "8",
                     "--run", str(tmp_path / "b"), "-q"]) == 0
        paths, corrupt = Run(tmp_path / "b").finished_paths()
        assert not corrupt and paths and all(type(p.curve) is Toy for p in paths)
        assert "toy" in capsys.readouterr().out.lower()
    finally:
        CURVES.unregister("toy")
    with pytest.raises(InputError, match="unknown curve family"):
        make_curve("toy")


def test_registries_refuse_duplicates_unless_replaced():
    with pytest.raises(InputError, match="already registered"):
        register_curve("bezier", Toy)
    with pytest.raises(InputError, match="already registered"):
        register_planner("all", lambda: StaticPlanner([]))
    with pytest.raises(InputError, match="already registered"):
        register_executor("serial", SerialExecutor)
    register_executor("serial", SerialExecutor, replace=True)
    assert "serial" in EXECUTORS and "all" in PLANNERS


def test_a_registered_planner_and_executor_are_used(tmp_path):
    calls = []

    class Counting(SerialExecutor):
        def run(self, task, pairs, *, progress, on_path):
            calls.append(list(pairs))
            return super().run(task, pairs, progress=progress, on_path=on_path)

    class TwoRounds:
        """First the pairs of m0, then everything else: a planner that looks at what it knows."""

        def __init__(self) -> None:
            self._planned: list[tuple[int, int]] = []

        def next_pairs(self, minima, known):
            n = len(minima)
            if not self._planned:
                new = [(0, j) for j in range(1, n)]
            else:
                assert {frozenset(p) for p in self._planned} <= set(known)
                new = [(i, j) for i in range(1, n) for j in range(i + 1, n)] if len(self._planned) < n else []
            self._planned += new
            return new

        def planned(self):
            return list(self._planned)

    register_executor("counting", Counting)
    register_planner("two-rounds", TwoRounds)
    try:
        land = tl.analytic.get_landscape("himmelblau")
        result = analyze(land, pairs="two-rounds", executor="counting", steps=30, progress=False)
        everything = analyze(land, steps=30, progress=False)
        n = len(result.minima)
        assert [len(c) for c in calls] == [n - 1, (n - 1) * (n - 2) // 2]
        assert sorted(p.barrier for p in result.paths) == sorted(p.barrier for p in everything.paths)
    finally:
        EXECUTORS.unregister("counting")
        PLANNERS.unregister("two-rounds")


# ---------------------------------------------------------------------- errors and exit codes
def _cliff() -> AnalyticLandscape:
    """Two wells with a small hole where the loss is NaN, on the straight segment between them."""

    def f(p: torch.Tensor) -> torch.Tensor:
        x, y = p[..., 0], p[..., 1]
        value = (x**2 - 1) ** 2 + y**2
        hole = (x.abs() < 0.05) & (y.abs() < 0.05)
        return torch.where(hole, torch.full_like(value, math.nan), value)

    return from_function(f, [(-2.0, 2.0), (-2.0, 2.0)], name="cliff")


def test_a_diverged_optimization_names_the_pair():
    land = _cliff()
    minima = torch.tensor([[-1.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    with pytest.raises(Diverged, match=r"between 'm0' and 'm1'"):
        connect(land, minima, lr=5.0, steps=40, progress=False)


def test_exit_codes_diverged_1_bad_option_2(capsys):
    register_landscape("cliff", lambda: _cliff())
    try:
        assert main(["analyze", "cliff", "--lr", "5", "--steps", "40", "--n-minima", "4", "-q"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "failed" in err[0] and "'m0'" in err[0] and "Traceback" not in err[0]
        assert main(["analyze", "cliff", "--lr", "-1", "-q"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "lr=-1" in err[0]
        assert main(["analyze", "cliff", "--curve", "bezier:bends=x", "-q"]) == 2
        assert "--curve" in capsys.readouterr().err
        assert main(["analyze", "cliff", "--pairs", "every", "-q"]) == 2
        assert "pairs='every': unknown pair strategy" in capsys.readouterr().err
    finally:
        from topoloss.analytic import LANDSCAPES

        LANDSCAPES.unregister("cliff")


def test_analytic_minima_searched_on_a_boxed_landscape_and_trained_elsewhere():
    land = tl.analytic.get_landscape("himmelblau")
    config = StudyConfig().with_options(n_minima=8, seed=0)
    from topoloss.engine.pipeline import prepare_minima

    found = prepare_minima(land, config, progress=False)
    assert len(found) == 4 and np.all(found.losses < 1e-6)


def test_the_run_records_which_pairs_were_planned_and_why(tmp_path):
    for pairs, reason in (("all", "strategy 'all'"), ("adaptive", ("tree round", "verification"))):
        config = StudyConfig(landscape="six-hump-camel").with_options(steps=30, n_minima=8, pairs=pairs)
        run = Run(tmp_path / pairs, config.to_dict())
        result = run_study(run, progress=False)
        plan = run.load_plan()
        assert plan is not None
        assert [(p["u"], p["v"]) for p in plan] == [(path.u, path.v) for path in result.paths]
        assert all(p["reason"].startswith(reason) for p in plan), plan


def test_a_config_with_the_gpt_on_text_gets_the_sequence_loss():
    """``model = "gpt"``, ``data = "text"`` in a config file: one loss per position, as the
    hand-built landscape of the GPT example; classifiers keep the plain cross-entropy."""
    import torch.nn.functional as F

    from topoloss.engine.factories import make_landscape
    from topoloss.models import sequence_cross_entropy

    gpt = make_landscape(StudyConfig.from_dict({"model": "gpt:n_layer=1,n_embd=16", "data": "text"}))
    assert gpt.loss_fn is sequence_cross_entropy
    x, y = gpt.tensors("train")
    point = gpt.initial_point(0)
    logits = torch.func.functional_call(gpt.model, gpt.params(point), (x[:64],))
    expected = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[:64].reshape(-1))
    torch.testing.assert_close(gpt.objective(point, (x[:64], y[:64]))[0], expected)
    fcn = make_landscape(StudyConfig.from_dict({"model": "fcn:depth=1,width=8", "data": "digits"}))
    assert fcn.loss_fn is F.cross_entropy
