"""Write docs/registries.md from the registries themselves: ``python docs/generate_registry_tables.py``.

``--check`` writes nothing and exits 1 when docs/registries.md is stale; a test
(tests/test_registries.py) runs it.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the topoloss of this checkout


def _cell(text: str) -> str:
    return text.replace("|", "\\|") or " "


def _table(rows: list[tuple[str, str, str]]) -> list[str]:
    out = ["| name | description | arguments |", "| --- | --- | --- |"]
    out += [f"| {_cell(n)} | {_cell(d)} | {_cell(a)} |" for n, d, a in rows]
    return out


def reference() -> str:
    from topoloss._specs import signature_text
    from topoloss.analytic import LANDSCAPES
    from topoloss.data import DATASETS
    from topoloss.models import MODELS

    datasets = []
    for name in DATASETS.names():
        d = DATASETS.get(name)
        args = signature_text(d.loader, skip=("root", "path") if d.argument else ())
        datasets.append((f"`{name}{d.syntax}`", d.description, f"`{args}`" if args else ""))
    models = []
    for name in sorted(MODELS.names()):
        m = MODELS.get(name)
        args = signature_text(m.builder)
        models.append((f"`{name}`", m.description, f"`{args}`" if args else ""))
    landscapes = []
    for name in LANDSCAPES.names():
        f = LANDSCAPES.get(name)
        args = signature_text(f.factory)
        landscapes.append((f"`{name}`", f.description, f"`{args}`" if args else ""))
    out = [
        "# Registries: datasets, models, analytic landscapes",
        "",
        ("Generated from the registries by `python docs/generate_registry_tables.py`; "
         "a test checks that this page is up to date."),
        "",
        ("Everything chosen by name is a registry entry. A spec string names an entry and "
         "may set its keyword arguments: `name:key=value,key=value` (case-insensitive name; "
         "values read as `true`/`false`/`none`, then integers, then floats, else text). "
         "Register your own with `tl.register_dataset`, `tl.register_model` or "
         "`tl.register_landscape` (also `topoloss.data.register_dataset`, "
         "`topoloss.models.register_model`, `topoloss.analytic.register_landscape`; "
         "`replace=True` replaces an entry); they are then accepted wherever a built-in is."),
        "",
        "## Datasets",
        "",
        ("`topoloss.data.load_dataset(spec)` and `--data SPEC`. `NAME:ROOT` reads files "
         "already in the folder `ROOT` (nothing is downloaded); `NAME[:FILE]` takes an "
         "optional file; the others take `key=value` arguments, e.g. `blobs:centers=3`."),
        "",
        *_table(datasets),
        "",
        "## Models",
        "",
        ("`topoloss.models.get_model(spec, input_shape=..., num_classes=...)` and "
         "`--model SPEC`, e.g. `fcn:depth=3,width=32`. The input and output sizes come "
         "from the dataset. The paper's names are accepted too: `CNN-2-64`, `CNN-1-32-BN`, "
         "`ResNet-20-NS`, `WideResNet-56-2`."),
        "",
        *_table(models),
        "",
        "## Analytic landscapes",
        "",
        ("`topoloss.analytic.get_landscape(spec)`, e.g. `rastrigin:dim=3` or "
         "`sextic:barrier=0.25`; boxes (`bounds`) are set from Python only."),
        "",
        *_table(landscapes),
    ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    text = reference()
    if "--check" in sys.argv:
        sys.exit(0 if (HERE / "registries.md").read_text() == text else 1)
    (HERE / "registries.md").write_text(text)
