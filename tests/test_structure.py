"""The package's structure: no module over 400 lines, and an import graph (read from the
source with ``ast``) with no cycle and no arrow up.

The layer order is the one CONTRIBUTING.md states ("Import rule"). Every import counts:
at module level, inside a function, and under ``if TYPE_CHECKING:``; so does a string that
names a topoloss module (``importlib.import_module("topoloss.engine...")`` is an import
too). A package is its ``__init__``: a module that imports names from its own package while
the package imports that module (even lazily) is a cycle.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1] / "topoloss"

#: Bottom to top. Modules of one entry may import each other (without a cycle); a module
#: imports only from its own entry and the ones before it. The bare package ``topoloss``
#: (its ``__init__``, the flat API) sits just below the command line.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "_validate", "_specs", "_registry", "_io", "_progress", "_schedules", "_warn", "_layout",
     "_filenames", "_html_page", "_config_sections"),
    ("topology",),
    ("tda", "stats"),
    ("data", "models"),
    ("landscapes",),
    ("analytic",),
    ("minima",),
    ("paths",),
    ("config",),
    ("engine",),
    ("plot",),
    ("report",),
    ("",),
    ("cli",),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
MODULE_STRING = re.compile(r"^topoloss(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = modules()


def target(name: str) -> str | None:
    """The module an imported dotted name lives in (``a.b.attr`` -> ``a.b``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports(name: str, path: Path) -> Iterator[tuple[str, str, int]]:
    """``(imported module, kind, line)`` for every import of one module."""
    is_package = path.name == "__init__.py"

    def walk(node: ast.AST, kind: str) -> Iterator[tuple[str, str, int]]:
        for child in ast.iter_child_nodes(node):
            sub = kind
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                sub = "function"
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                sub = "TYPE_CHECKING"
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, sub, child.lineno
            elif isinstance(child, ast.ImportFrom):
                module = child.module or ""
                if child.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - child.level + 1]
                    module = ".".join([*base, module] if module else base)
                for alias in child.names:
                    sub_module = f"{module}.{alias.name}"
                    yield (sub_module if sub_module in MODULES else module), sub, child.lineno
            elif isinstance(child, ast.Constant) and isinstance(child.value, str):
                text = child.value.split(":")[0]
                if MODULE_STRING.match(text) and text in MODULES:
                    yield text, "string", child.lineno
            yield from walk(child, sub)

    for imported, kind, line in walk(ast.parse(path.read_text(), str(path)), "module"):
        found = target(imported) if imported.startswith("topoloss") else None
        if found and found != name:
            yield found, kind, line


EDGES = [(a, b, kind, line) for a, path in MODULES.items() for b, kind, line in imports(a, path)]


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_scan_sees_the_imports_it_should() -> None:
    # a check of the checker, on edges known to exist in every version of the package
    pairs = {(a, b) for a, b, _, _ in EDGES}
    assert ("topoloss.engine.pipeline", "topoloss.config") in pairs
    assert ("topoloss.topology.persistence", "topoloss.topology.barcode") in pairs
    assert all(layer(m) in RANK for m in MODULES), sorted({layer(m) for m in MODULES} - set(RANK))


def test_no_import_cycle() -> None:
    graph = nx.DiGraph((a, b) for a, b, _, _ in EDGES)
    cycles = sorted(" -> ".join([*c, c[0]]) for c in nx.simple_cycles(graph))
    assert not cycles, "import cycles:\n" + "\n".join(cycles[:20])


@pytest.mark.parametrize("kind", ["module", "function", "TYPE_CHECKING", "string"])
def test_no_arrow_from_a_lower_layer_to_a_higher_one(kind: str) -> None:
    up = [
        f"{MODULES[a].relative_to(ROOT.parent)}:{line} imports {b} ({kind}): layer {layer(a)!r} is below {layer(b)!r}"
        for a, b, k, line in EDGES
        if k == kind and RANK[layer(b)] > RANK[layer(a)]
    ]
    assert not up, "\n".join(up)


#: A module that passes this holds more than one job: split it by responsibility (CONTRIBUTING.md).
MAX_LINES = 400


def test_no_module_over_400_lines() -> None:
    long = {str(p.relative_to(ROOT.parent)): n for p in MODULES.values()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, long
