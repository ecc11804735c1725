"""The run directory's one layout (topoloss._layout.RunLayout), which the store owns."""

import ast
from pathlib import Path

import topoloss as tl
from topoloss._layout import RunLayout
from topoloss.config import StudyConfig
from topoloss.engine.pipeline import run_study
from topoloss.engine.store import Run

PACKAGE = Path(tl.__file__).parent
NAMES = {value for key, value in vars(RunLayout).items() if key.isupper() and isinstance(value, str)}


def test_a_run_writes_only_the_names_of_its_layout(tmp_path):
    config = StudyConfig(landscape="himmelblau").with_options(steps=20, n_minima=4, pairs="mst", seed=0)
    run = Run(tmp_path / "run", config.to_dict())
    result = run_study(run, progress=False)
    layout = run.layout
    assert layout == RunLayout(tmp_path / "run") and layout.root == run.dir
    written = {p.name for p in run.dir.iterdir()}
    assert written <= NAMES, written - NAMES
    for file in (layout.config, layout.minima_record, layout.minima_points, layout.graph, layout.barcode,
                 layout.plan, layout.progress, layout.history, layout.lock):
        assert file.is_file(), file
    assert sorted(layout.path_files()) == sorted(run.path_file(p.u, p.v) for p in result.paths)
    assert all(f.parent == layout.paths and f.suffix == RunLayout.TENSORS for f in layout.path_files())
    assert run.minima_files == (layout.minima_record, layout.minima_points)
    # the topology layer reads a run directory through the same layout
    graph = tl.LandscapeGraph.read(run.dir)
    assert graph.to_dict() == run.load_graph().to_dict() == result.graph.to_dict()


def test_the_layout_names_minima_files_with_the_injective_file_names():
    layout = RunLayout("r")
    assert layout.path_file("a b", "c") == Path("r/paths/a%20b--c.safetensors")
    assert layout.legacy_path_file("a b", "c") == Path("r/paths/a_b--c.safetensors")
    assert layout.minimum_part("seed0") == Path("r/minima/seed0.safetensors")
    assert layout.checkpoint("seed0") == Path("r/checkpoints/seed0.safetensors")


def test_no_module_spells_a_run_file_name():
    """Every file name of a run is spelt once, in the layout (docstrings may quote them)."""
    # engine/ and topology/ spell no name at all; elsewhere the folder names are also ordinary
    # words (the `report` command, the `checkpoints` option), so only the file names count there
    files = NAMES - {RunLayout.MINIMUM_PARTS, RunLayout.PATHS}
    dotted = {name for name in NAMES if "." in name} - {RunLayout.TENSORS}  # a file format, not a run file
    offenders = []
    for file in sorted(PACKAGE.rglob("*.py")):
        if file.name == "_layout.py":
            continue
        if True:
            tree = ast.parse(file.read_text())
            docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                          if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef)) and n.body
                          and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
            for node in ast.walk(tree):
                if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                        and node.value in (files if file.parent.name in ("engine", "topology") else dotted)):
                    offenders.append(f"{file.relative_to(PACKAGE)}:{node.lineno}: {node.value!r}")
    assert not offenders, offenders
