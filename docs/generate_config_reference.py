"""Write docs/configuration.md from topoloss/config.py: ``python docs/generate_config_reference.py``.

Every table row comes from a dataclass field: its name, type, default, ``help``,
``choices``, ``registry`` (a key, listed by ``topoloss.cli._options.registered_names``)
and ``flag`` metadata, and the commands whose parsers carry the flag. ``--check`` exits 1
when docs/configuration.md is stale or an example in it does not parse to a
:class:`~topoloss.config.StudyConfig`. A test
(tests/test_config_reference.py) runs the same checks.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from dataclasses import MISSING, Field, fields
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGET = HERE / "configuration.md"

SECTIONS = ("", "minima", "paths", "evaluation", "execution")

_TYPES = {
    "int": "integer",
    "float": "number",
    "str": "string",
    "bool": "boolean",
    "int | None": "integer (optional)",
    "float | None": "number (optional)",
    "str | None": "string (optional)",
    "tuple[int, ...]": "list of integers",
    "tuple[str, ...]": "list of strings",
    "Curve": "curve spec or table",
    "Any": "strategy name or list of pairs",
}

EXAMPLE = """\
# study.toml: run with `topoloss run study.toml`
run = "runs/camel"               # the run directory (not a StudyConfig key; default: study-run)
landscape = "six-hump-camel"     # or model = "..." and data = "..." for a network
seed = 0

[minima]
n_minima = 16                    # descents from a seeded Sobol sequence

[paths]
pairs = "mst"                    # or [["m0", "m1"], ["m0", "m2"]]
steps = 200                      # optimizer steps per path (or epochs = ..., not both)
optimizer = "adam"
schedule = "cosine"

[paths.curve]
kind = "bezier"
bends = 2

[evaluation]
n_eval = 61
refine = 2
linear = true

[execution]
executor = "serial"
"""

INTRO = """\
# Configuration reference

Generated from `topoloss/config.py` by `python docs/generate_config_reference.py`; do not
edit by hand.

A study is one `StudyConfig`: a few keys at the top level (the landscape, `device`,
`batch_size`, the root `seed`) and four sections: `[minima]` (where the minima come
from), `[paths]` (how each pair is joined), `[evaluation]` (how a barrier is measured)
and `[execution]` (where the pairs run). The same names work in all three places:

- **config files** for `topoloss run` (TOML, YAML or JSON), with one table per section;
- **command-line flags**: `t_batch` is `--t-batch` (the *CLI flag* column), in each
  command listed with it; a key without a flag is set in a config file or in Python;
- **the Python API**: every `tl.analyze` / `tl.connect` keyword is a key below, whatever
  its section, for example `tl.analyze(land, steps=200, curve=tl.Bezier(bends=1),
  pairs="mst", n_minima=16)`. `StudyConfig.with_options(**options)` places flat names in
  their sections (top level first, then `paths`, `evaluation`, `execution`, `minima`, so
  a flat `epochs` or `lr` means the *paths'* option), and `StudyConfig.from_dict(data)`
  reads a config file's mapping:

```python
import tomllib

import topoloss as tl
from topoloss.config import StudyConfig

config = StudyConfig.from_dict(tomllib.loads(open("study.toml").read()))  # drop the "run" key first
config = config.with_options(steps=400)
result = tl.analyze(tl.analytic.get_landscape(config.landscape), config=config)
```

A key shown as *unset* has no default value of its own: leave it out and topoloss
chooses (the meaning column says how). An unknown key, or a value out of range, is an error that names the key
(`[paths] lr=-1; ...`), with exit code 2 on the command line.

## `epochs` and `steps`

`epochs` always counts passes over the training data and `steps` counts optimizer
steps. On a full-batch landscape (every analytic one) an epoch is one step. In
`[paths]`, give at most one of them. With neither, a path gets 400 steps (on a dataset:
enough whole epochs for 400 steps). `[minima] epochs` is the training length of each
minimum.

## Curves

`curve` is a curve family with its options, written as a spec string or as a table with
a `kind`:

```toml
[paths]
curve = "bezier:bends=1"     # also "polychain:bends=2", "chain:points=7"
```

```toml
[paths.curve]
kind = "chain"
points = 5
```

On the command line the flag is `--curve bezier:bends=1`. In Python, pass a curve object
(`curve=tl.Bezier(bends=1)`, `tl.Chain(points=5)`), or turn a spec into one with
`tl.make_curve("chain:points=5")`. Registered families (see CONTRIBUTING.md) are accepted
everywhere.

## Pairs

`pairs` is either the name of a registered pair strategy (`all`, `mst`, `nearest`, or
your own) or an explicit list of pairs of minima names (`m0`, `m1`, ... for searched
minima) or indices:

```toml
[paths]
pairs = [["m0", "m1"], ["m1", "m2"]]
```

On the command line, write `--pairs mst` or `--pairs m0-m1,m1-m2`.
"""


#: Keys that commands take in another form than a generated flag.
_NO_FLAG = {("", "landscape"): "argument `LANDSCAPE` (analyze)"}


def _default(f: Field[Any]) -> Any:
    if f.default is not MISSING:
        return f.default
    return f.default_factory()  # type: ignore[misc,operator]


def _toml(value: Any) -> str:
    """A default as it would be written in a config file."""
    from topoloss.paths.curves import Curve

    if value is None:
        return "unset"
    if isinstance(value, Curve):
        value = value.spec()
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, tuple):
        return "`[" + ", ".join(_toml(v).strip("`") for v in value) + "]`"
    return f"`{value}`"


def _flags() -> dict[tuple[str, str], tuple[str, list[str]]]:
    """``(section, field)`` -> (flag, commands whose parser has it), read from the parsers."""
    from topoloss.cli import build_parser
    from topoloss.cli._options import _PREFIX

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for command, p in sub.choices.items():
        for action in p._actions:
            if action.dest.startswith(_PREFIX) and action.option_strings:
                section, name = action.dest[len(_PREFIX):].split("__", 1)
                flag = "/".join(f"`{o}`" for o in action.option_strings)
                found.setdefault((section, name), (flag, []))[1].append(command)
    return found


def _cell(text: str) -> str:
    text = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", text)  # Sphinx roles to plain code
    return " ".join(text.replace("%%", "%").replace("|", "\\|").split())


def _table(section: str, flags: dict[tuple[str, str], tuple[str, list[str]]]) -> list[str]:
    from topoloss.cli._options import registered_names
    from topoloss.config import _SECTIONS, StudyConfig

    cls = StudyConfig if section == "" else _SECTIONS[section]
    title = "top level" if section == "" else section
    doc = (cls.__doc__ or "").strip().split("\n\n")[0]
    out = [f"## [{title}]", "", _cell(doc), "",
           "| key | type | default | CLI flag | meaning |", "|---|---|---|---|---|"]
    for f in fields(cls):
        if f.name in _SECTIONS:
            continue
        meaning = f.metadata.get("help", "")
        if "choices" in f.metadata:
            meaning += "; one of " + ", ".join(f"`{c}`" for c in f.metadata["choices"])
        if "registry" in f.metadata:
            meaning += "; registered: " + ", ".join(f"`{n}`" for n in registered_names(f.metadata["registry"]))
        flag, commands = flags.get((section, f.name), ("", []))
        where = f"{flag} ({', '.join(commands)})" if flag else _NO_FLAG.get((section, f.name), "none")
        kind = _TYPES.get(str(f.type), str(f.type))
        out.append(f"| `{f.name}` | {_cell(kind)} | {_toml(_default(f))} | {where} | {_cell(meaning)} |")
    return out


def reference() -> str:
    """The whole page."""
    flags = _flags()
    out = [INTRO.rstrip()]
    for section in SECTIONS:
        out += ["", *_table(section, flags)]
    out += ["", "## A complete example", "",
            "Every key that is left out keeps its default. The `run` key is read by "
            "`topoloss run` itself: it names the run directory, and running the same file "
            "again resumes there.", "", "```toml", EXAMPLE.rstrip(), "```"]
    return "\n".join(out) + "\n"


def toml_examples(text: str) -> list[str]:
    """The ```toml blocks of a page."""
    return re.findall(r"```toml\n(.*?)```", text, re.S)


def parse_example(toml_text: str) -> Any:
    """A TOML example as :class:`StudyConfig`, as ``topoloss run`` reads it."""
    from topoloss.config import StudyConfig

    data = tomllib.loads(toml_text)
    data.pop("run", None)
    return StudyConfig.from_dict(data)


def check() -> list[str]:
    """Problems with docs/configuration.md: empty when it is up to date and every example parses."""
    problems = []
    text = reference()
    if not TARGET.is_file() or TARGET.read_text() != text:
        problems.append(f"{TARGET} is stale: run python docs/generate_config_reference.py")
    for block in toml_examples(text):
        try:
            parse_example(block)
        except Exception as exc:  # any failure is a broken example
            problems.append(f"example does not parse: {exc}\n{block}")
    return problems


if __name__ == "__main__":
    if "--check" in sys.argv:
        found = check()
        for problem in found:
            print(problem, file=sys.stderr)
        sys.exit(1 if found else 0)
    TARGET.write_text(reference())
