"""The planner and executor contracts (topoloss.engine.planner_base, topoloss.engine.executors)."""

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import topoloss as tl
from topoloss.engine.adaptive import AdaptivePlanner
from topoloss.engine.executors import SerialExecutor, accepts_stop
from topoloss.engine.planner_base import BasePlanner, Planner
from topoloss.engine.planners import (
    PLANNERS,
    StaticPlanner,
    as_planner,
    make_planner,
    planner_bounds,
    register_planner,
    select_pairs,
)
from topoloss.errors import InputError

ENGINE = Path(tl.__file__).parent / "engine"
MEMBERS = [name for name in Planner.__annotations__] + [
    name for name, value in vars(Planner).items() if callable(value) and not name.startswith("_")]


def _minima(n=3):
    return tl.Minima(torch.eye(n, dtype=torch.float64), np.zeros(n), tuple(f"m{k}" for k in range(n)),
                     np.zeros(n, int), np.ones(n, bool), np.zeros(n, bool))


class _TwoMethods:
    """A planner with only the two required methods (like the CONTRIBUTING recipe)."""

    def __init__(self):
        self._planned = []

    def next_pairs(self, minima, known):
        if self._planned:
            return []
        self._planned = [(0, 1)]
        return [(0, 1)]

    def planned(self):
        return list(self._planned)


def test_the_protocol_declares_every_member_the_engine_calls():
    assert sorted(MEMBERS) == sorted(["needs_landscape", "bind", "next_pairs", "planned", "reasons", "capacity",
                                      "bounds"])
    for planner in (StaticPlanner([(0, 1)]), AdaptivePlanner(), as_planner(_TwoMethods())):
        assert all(hasattr(planner, name) for name in MEMBERS)


def test_the_engine_calls_planner_and_executor_members_without_asking_whether_they_exist():
    for file in ("pipeline.py", "progress.py", "planners.py"):
        tree = ast.parse((ENGINE / file).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("hasattr", "getattr"):
                target = ast.unparse(node.args[0])
                assert "planner" not in target and "executor" not in target, (file, ast.unparse(node))


def test_static_planner_defaults_are_no_ops():
    planner = StaticPlanner([(0, 1), (1, 2)], name="chain")
    assert planner.needs_landscape is False
    assert planner.bind(None) is None
    assert planner.capacity(3) is None and planner.bounds() is None and planner_bounds(planner) is None
    assert planner.next_pairs(_minima(), {}) == [(0, 1), (1, 2)]
    assert planner.reasons() == {(0, 1): "strategy 'chain'", (1, 2): "strategy 'chain'"}


def test_a_planner_with_two_methods_is_completed_with_the_defaults():
    raw = _TwoMethods()
    planner = as_planner(raw)
    assert isinstance(planner, BasePlanner) and repr(planner) == repr(raw)
    assert planner.needs_landscape is False and planner.reasons() == {} and planner.capacity(4) is None
    assert planner.next_pairs(_minima(), {}) == [(0, 1)] and raw.planned() == planner.planned() == [(0, 1)]
    assert planner._planned is raw._planned  # other attributes are the planner's own
    assert as_planner(AdaptivePlanner()).__class__ is AdaptivePlanner  # complete planners are left alone


def test_a_planner_that_binds_but_does_not_say_it_needs_the_landscape_still_needs_it():
    class Binds(_TwoMethods):
        def bind(self, task):
            self.task = task

    register_planner("binds", Binds)
    try:
        with pytest.raises(InputError, match="measures the landscape"):
            select_pairs(_minima(), "binds")
        land = tl.analytic.get_landscape("himmelblau")
        assert select_pairs(_minima(2), "binds", landscape=land) == [(0, 1)]
    finally:
        PLANNERS.unregister("binds")


def test_needs_landscape_says_whether_select_pairs_needs_one():
    class Measures(BasePlanner):
        needs_landscape = True

        def next_pairs(self, minima, known):
            return [(0, 1)]

        def planned(self):
            return [(0, 1)]

    register_planner("measures", Measures)
    try:
        assert make_planner("measures").needs_landscape
        with pytest.raises(InputError, match=r"select_pairs\(minima, 'measures', landscape=\.\.\.\)"):
            select_pairs(_minima(), "measures")
    finally:
        PLANNERS.unregister("measures")
    assert make_planner("adaptive").needs_landscape and not make_planner("all").needs_landscape


def test_the_adaptive_planner_registers_itself_and_planners_does_not_import_it():
    tree = ast.parse((ENGINE / "planners.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "topoloss.engine.adaptive" not in imported
    code = ("import topoloss.engine.planners as p; "
            "print(type(p.make_planner('adaptive:budget=2')).__name__, p.PLANNERS.get('adaptive').__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["AdaptivePlanner", "topoloss.engine.adaptive"]


def test_accepts_stop_reads_the_named_keyword_only():
    class Wrapper:
        def run(self, task, pairs, **kwargs):
            return []

    class NoStop:
        def run(self, task, pairs, *, progress, on_path):
            return []

    assert accepts_stop(SerialExecutor())
    assert not accepts_stop(Wrapper()) and not accepts_stop(NoStop())


def test_engine_specs_is_a_deprecated_alias_of_factories():
    import importlib

    import topoloss.engine.factories as factories

    sys.modules.pop("topoloss.engine.specs", None)
    with pytest.warns(DeprecationWarning, match="topoloss.engine.factories"):
        old = importlib.import_module("topoloss.engine.specs")
    for name in old.__all__:
        assert getattr(old, name) is getattr(factories, name)
    config = tl.StudyConfig(landscape="himmelblau")
    point = torch.tensor([[3.0, 2.0]], dtype=torch.float64)
    assert old.make_landscape(config).loss(point) == factories.make_landscape(config).loss(point)
