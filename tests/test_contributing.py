"""Every recipe of CONTRIBUTING.md runs and does what the page promises.

A recipe is a fenced ``python`` block preceded by ``<!-- recipe: NAME -->``. Each test
executes its recipe in a fresh namespace (with ``tl`` bound to :mod:`topoloss`), checks
the promise, and removes what the recipe registered.
"""

from __future__ import annotations
import __future__

import os
import re
import subprocess
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path as FilePath
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.axes import Axes

import topoloss as tl
from topoloss.errors import InputError

ROOT = FilePath(__file__).resolve().parents[1]
_RECIPE = re.compile(r"<!--\s*recipe:\s*([\w-]+)\s*-->\s*\n```python\n(.*?)\n```", re.S)


def _recipes() -> dict[str, str]:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    found: dict[str, str] = {}
    for name, code in _RECIPE.findall(text):
        assert name not in found, f"two recipes are called {name!r}"
        found[name] = code
    return found


RECIPES = _recipes()
EXPECTED = {"curve", "landscape", "dataset", "model", "pairs", "planner", "executor", "option-field",
            "option-check", "command", "plot"}


def run_recipe(name: str, module: str = "recipe") -> dict[str, Any]:
    """Execute recipe ``name`` as the body of a fresh module; return its namespace."""
    mod = types.ModuleType(module)
    mod.tl = tl  # type: ignore[attr-defined]
    sys.modules[module] = mod  # dataclasses look their module up while the class is made
    try:
        exec(compile(RECIPES[name], f"CONTRIBUTING.md:{name}", "exec"), mod.__dict__)
    finally:
        del sys.modules[module]
    return mod.__dict__


@pytest.fixture
def registered() -> Iterator[list[tuple[Any, str]]]:
    """Collects ``(registry, name)`` to unregister after the test, whatever happens."""
    entries: list[tuple[Any, str]] = []
    yield entries
    for registry, name in entries:
        if name in registry:
            registry.unregister(name)


def test_every_kind_of_extension_has_a_recipe():
    assert set(RECIPES) == EXPECTED
    text = (ROOT / "CONTRIBUTING.md").read_text()
    assert text.count("```python") == len(RECIPES), "a python block without a <!-- recipe: --> marker"


def test_curve_recipe(registered):
    from topoloss.paths.curves import CURVES, make_curve

    ns = run_recipe("curve")
    registered.append((CURVES, "eased"))
    eased: Any = ns["Eased"]
    assert CURVES.get("eased") is eased
    curve: Any = make_curve("eased:bends=2")
    assert curve == ns["Eased"](bends=2) and curve.spec() == "eased:bends=2"
    a, b = torch.tensor([0.0, 0.0], dtype=torch.float64), torch.tensor([1.0, 2.0], dtype=torch.float64)
    bends = curve.init_bends(a, b) + 0.3
    ends = curve.at(a, b, bends, torch.tensor([0.0, 1.0], dtype=torch.float64))
    assert torch.equal(ends[0], a) and torch.equal(ends[1], b)
    # the eased profile moves slower near the ends than the Bézier curve with the same points
    t = torch.tensor([0.1], dtype=torch.float64)
    assert (curve.at(a, b, bends, t) - a).norm() < (tl.Bezier(bends=2).at(a, b, bends, t) - a).norm()
    result = tl.analyze(tl.analytic.get_landscape("himmelblau"), curve=eased(), steps=20, n_minima=4, progress=False)
    assert result.paths and all(type(p.curve) is eased for p in result.paths)


def test_landscape_recipe(registered):
    from topoloss.analytic import LANDSCAPES, available_landscapes, get_landscape

    run_recipe("landscape")
    registered.append((LANDSCAPES, "double-well"))
    assert "double-well" in available_landscapes()
    assert get_landscape("double-well:tilt=0.2").dim == 2
    result = tl.analyze(get_landscape("double-well"), steps=20, n_minima=4, progress=False)
    assert len(result.minima) == 2
    xs = sorted(float(x) for x in result.minima.points[:, 0])
    assert xs[0] == pytest.approx(-1.0, abs=0.05) and xs[1] == pytest.approx(1.0, abs=0.05)
    finite = result.barcode.intervals[np.isfinite(result.barcode.intervals[:, 1])]
    # saddle of (x² − 1)² + 0.1 x + y² at x ≈ 0.025: value 1.00125
    assert finite.shape == (1, 2) and finite[0, 1] == pytest.approx(1.00125, abs=5e-3)


def test_dataset_recipe(registered):
    from topoloss.data import DATASETS, available_datasets, dataset_info, load_dataset

    run_recipe("dataset")
    registered.append((DATASETS, "xor"))
    assert "xor" in available_datasets()
    train, test = load_dataset("xor:n=50")
    assert (len(train), len(test)) == (40, 10)  # type: ignore[arg-type]
    info = dataset_info(train)
    assert tuple(info.input_shape) == (2,) and info.num_classes == 2
    with pytest.raises(InputError):
        load_dataset("xor:colour=red")


def test_model_recipe(registered):
    from topoloss.models import MODELS, available_models, get_model

    run_recipe("model")
    registered.append((MODELS, "tanh-mlp"))
    assert "tanh-mlp" in available_models()
    net: Any = get_model("tanh-mlp:width=4", input_shape=(1, 8, 8), num_classes=10)
    assert net(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    assert net[1].in_features == 64 and net[1].out_features == 4


def test_pairs_recipe(registered):
    from topoloss.engine.planners import PLANNERS

    ns = run_recipe("pairs")
    registered.append((PLANNERS, "by-loss"))
    result = tl.analyze(tl.analytic.get_landscape("six-hump-camel"), pairs="by-loss", steps=20, n_minima=8,
                        progress=False)
    n = len(result.minima)
    assert n >= 3
    wanted = {frozenset(p) for p in ns["by_loss"](result.minima)}
    assert len(wanted) == n - 1
    assert {frozenset((result.minima.index(p.u), result.minima.index(p.v))) for p in result.paths} == wanted
    assert result.barcode.n_components == 1


def test_planner_recipe(registered):
    from topoloss.engine.planners import PLANNERS, select_pairs
    from topoloss.minima.find import Minima

    run_recipe("planner")
    registered.append((PLANNERS, "until-connected"))
    # two tight clusters: the nearest-neighbour graph alone leaves them apart
    points = torch.tensor([[0.0, 0.0], [0.1, 0.0], [5.0, 0.0], [5.1, 0.0]], dtype=torch.float64)
    bowl = tl.analytic.from_function(lambda x: (x**2).sum(-1), [(-9.0, 9.0), (-9.0, 9.0)])
    minima = Minima.from_points(bowl, points)
    planner = PLANNERS.get("until-connected")()
    first = planner.next_pairs(minima, {})
    assert first == [(0, 1), (2, 3)]  # each minimum with its nearest neighbour
    assert select_pairs(minima, "nearest") == [(0, 1), (1, 2), (2, 3)]  # the built-in also joins the clusters
    assert planner.next_pairs(minima, {}) == [(1, 2)]
    assert planner.next_pairs(minima, {}) == []
    assert planner.planned() == [(0, 1), (2, 3), (1, 2)]
    assert PLANNERS.get("until-connected")().planned() == []  # a fresh planner per run
    result = tl.analyze(tl.analytic.get_landscape("six-hump-camel"), pairs="until-connected", steps=20,
                        n_minima=8, progress=False)
    assert result.barcode.n_components == 1 and len(result.paths) >= len(result.minima) - 1


def test_executor_recipe(registered, monkeypatch):
    from topoloss.engine.executors import EXECUTORS

    ns = run_recipe("executor")
    registered.append((EXECUTORS, "one-by-one"))
    calls: list[int] = []
    run = ns["OneByOne"].run

    def spy(self, task, pairs, **kw):
        calls.append(len(pairs))
        return run(self, task, pairs, **kw)

    monkeypatch.setattr(ns["OneByOne"], "run", spy)
    land = tl.analytic.get_landscape("himmelblau")
    mine = tl.analyze(land, executor="one-by-one", steps=20, n_minima=8, progress=False)
    serial = tl.analyze(land, steps=20, n_minima=8, progress=False)
    assert sum(calls) == len(mine.paths) == len(serial.paths) > 0  # one call per planner round
    np.testing.assert_allclose([p.barrier for p in mine.paths], [p.barrier for p in serial.paths],
                               rtol=1e-6, atol=1e-9)


def _section_with_option() -> type:
    """EvaluationConfig plus the recipe's field and check, as the recipe says to write them."""
    from topoloss import config as cfg

    body = "\n".join([
        RECIPES["option-field"],
        "",
        "def __post_init__(self) -> None:",
        "    super().__post_init__()",
        textwrap.indent(RECIPES["option-check"], "    "),
    ])
    source = ("@dataclass(frozen=True)\nclass EvaluationConfig(_Base):\n    _name = 'evaluation'\n"
              + textwrap.indent(body, "    "))
    namespace: dict[str, Any] = {**vars(cfg), "_Base": cfg.EvaluationConfig}
    flags = __future__.annotations.compiler_flag  # field types as strings, as in topoloss/config.py
    exec(compile(source, "CONTRIBUTING.md:option", "exec", flags=flags, dont_inherit=True), namespace)
    return namespace["EvaluationConfig"]


def test_option_recipe(monkeypatch, capsys):
    from topoloss import config as cfg
    from topoloss.cli import main
    from topoloss.cli._options import config_from_args

    section = _section_with_option()
    monkeypatch.setitem(cfg._SECTIONS, "evaluation", section)
    # StudyConfig's default [evaluation] must be the extended section too (what editing the class gives)
    old = cfg.StudyConfig.__init__.__defaults__ or ()
    defaults = tuple(section() if type(d) is cfg.EvaluationConfig else d for d in old)
    monkeypatch.setattr(cfg.StudyConfig.__init__, "__defaults__", defaults)
    # the config-file key, validated with the section's name in the message
    study: Any = cfg.StudyConfig.from_dict({"evaluation": {"tolerance": 0.25}})
    assert study.evaluation.tolerance == 0.25 and study.evaluation.n_eval == 61
    assert cfg.StudyConfig.from_dict(study.to_dict()) == study
    with pytest.raises(InputError, match=r"\[evaluation\] tolerance=-1"):
        cfg.StudyConfig.from_dict({"evaluation": {"tolerance": -1}})
    # the Python keyword
    assert study.with_options(tolerance=0.5).evaluation.tolerance == 0.5
    # the CLI flag, with the help text
    from topoloss.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["connect", "--run", "r", "--tolerance", "0.5"])
    parsed: Any = config_from_args(args, cfg.StudyConfig(evaluation=section()))
    assert parsed.evaluation.tolerance == 0.5
    assert main(["connect", "--help"]) == 0
    assert "stop refining once the barrier moves less than this" in " ".join(capsys.readouterr().out.split())
    # the reference page
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import generate_config_reference as ref
    finally:
        sys.path.remove(str(ROOT / "docs"))
    row = next(line for line in ref.reference().splitlines() if line.startswith("| `tolerance`"))
    assert "`--tolerance`" in row and "stop refining" in row and "`0.0`" in row


def test_command_recipe(monkeypatch, capsys):
    import topoloss.cli as cli

    module = types.ModuleType("topoloss.cli._minima")
    exec(compile(RECIPES["command"], "CONTRIBUTING.md:command", "exec"), module.__dict__)
    monkeypatch.setitem(sys.modules, "topoloss.cli._minima", module)
    monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, "minima"))
    assert cli.main(["--help"]) == 0
    assert re.search(r"^\s+minima\s+the minima of an analytic landscape", capsys.readouterr().out, re.M)
    assert cli.main(["minima", "himmelblau", "--n-minima", "8"]) == 0
    lines = capsys.readouterr().out.split("\n")[:-1]
    assert len(lines) == 4 and all(float(line.split("\t")[1]) < 1e-6 for line in lines)
    assert cli.main(["minima", "no-such-landscape"]) == 2
    assert "unknown landscape" in capsys.readouterr().err


def test_plot_recipe():
    ns = run_recipe("plot")
    graph = tl.LandscapeGraph.from_barriers(np.array([0.0, 0.2, 0.5]),
                                            np.array([[np.nan, 1.0, 2.0], [1.0, np.nan, 1.5], [2.0, 1.5, np.nan]]))
    barcode = tl.loss_barcode(graph)
    fig, ax = plt.subplots()
    try:
        assert ns["plot_bar_lengths"](barcode, bins=4, ax=ax) is ax
        # two finite bars (0.2 -> 1.0 and 0.5 -> 1.5), the infinite one left out
        assert len(ax.patches) == 4 and sum(bar.get_height() for bar in ax.patches) == 2
        assert ax.get_xlabel().startswith("bar length")
        new = ns["plot_bar_lengths"](barcode)
        assert isinstance(new, Axes) and new is not ax
        plt.close(new.get_figure())  # type: ignore[arg-type]
    finally:
        plt.close(fig)
    # the module never imports torch at import time
    code = ("import sys, matplotlib; matplotlib.use('Agg'); ns = {'__name__': 'recipe'}; "
            f"exec({RECIPES['plot']!r}, ns); print('torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
