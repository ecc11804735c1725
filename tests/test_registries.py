"""The dataset, model and landscape registries: one style, one spec parser, docs from them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from topoloss._specs import parse_spec, signature_text
from topoloss.analytic import (
    LANDSCAPES,
    AnalyticLandscape,
    available_landscapes,
    from_function,
    get_landscape,
    register_landscape,
)
from topoloss.data import DATASETS, as_dataset, available_datasets, register_dataset
from topoloss.data import load_dataset as _load_dataset
from topoloss.errors import InputError
from topoloss.models import (
    MODELS,
    available_models,
    get_model,
    parse_model_spec,
    register_model,
)

ROOT = Path(__file__).resolve().parents[1]


def load_dataset(spec: str, **kwargs: Any) -> tuple[Any, Any]:
    """:func:`topoloss.data.load_dataset`, typed loosely for the tests' attribute access."""
    return _load_dataset(spec, **kwargs)


def test_registry_tables_are_up_to_date() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "generate_registry_tables.py"), "--check"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, (
        "docs/registries.md is stale: run python docs/generate_registry_tables.py\n" + proc.stderr
    )


def test_registry_tables_list_every_entry() -> None:
    text = (ROOT / "docs" / "registries.md").read_text()
    for syntax in available_datasets():
        assert f"| `{syntax}` |" in text
    for name in (*available_models(), *available_landscapes()):
        assert f"| `{name}` |" in text
    assert "`dim=2, bounds=(-1.5, 1.5)`" in text  # rastrigin's arguments
    assert "-\\|sin x" in text  # a '|' in a description does not split the cell


# ------------------------------------------------------------------ the spec parser


def test_parse_spec() -> None:
    assert parse_spec(" Rastrigin : dim = 3 ") == ("rastrigin", {"dim": 3})
    assert parse_spec("x:a=1.5,b=TRUE,c=none,d=relu,e=-2") == (
        "x", {"a": 1.5, "b": True, "c": None, "d": "relu", "e": -2}
    )
    assert parse_spec("x:") == ("x", {})
    for spec, match in [("x:a", "key=value"), ("x:1a=2", "key=value"), ("x:a=1,a=2", "twice"),
                        ("  ", "non-empty")]:
        with pytest.raises(InputError, match=match):
            parse_spec(spec)


def test_models_and_landscapes_share_the_parser() -> None:
    for bad, match in [(":depth", "key=value"), (":depth=1,depth=2", "twice")]:
        with pytest.raises(InputError, match=match):
            parse_model_spec("fcn" + bad)
        with pytest.raises(InputError, match=match):
            get_landscape("rastrigin" + bad.replace("depth", "dim"))


def test_signature_text() -> None:
    def f(a, b=1, *args, c="x", **kw):
        pass

    assert signature_text(f) == "a, b=1, c='x', **kw"
    assert signature_text(f, skip=("a",)) == "b=1, c='x', **kw"


# ------------------------------------------------------------------------ landscapes


@pytest.fixture
def mine() -> Iterator[str]:
    name = "mine-test"

    def factory(*, scale: float = 1.0, dim: int = 2) -> AnalyticLandscape:
        """A scaled bowl: one minimum at the origin.

        More text that is not the description.
        """
        return from_function(lambda x: scale * (x**2).sum(-1), [(-1.0, 1.0)] * dim, name="mine")

    register_landscape(name, factory)
    yield name
    LANDSCAPES.unregister(name)


def test_user_landscape(mine: str) -> None:
    assert mine in available_landscapes()
    assert LANDSCAPES.get(mine).description == "A scaled bowl: one minimum at the origin."
    land = get_landscape(f"{mine}:scale=3,dim=3")
    assert land.dim == 3
    assert float(land(torch.ones(3, dtype=torch.float64))) == pytest.approx(9.0)
    assert get_landscape(mine.upper().replace("-", "_")).dim == 2  # the old name still works
    assert get_landscape(mine, dim=1).dim == 1  # keyword arguments reach the factory
    with pytest.raises(InputError, match=r"landscape 'mine-test' takes no argument\(s\) \['sigma'\]"):
        get_landscape(f"{mine}:sigma=1")


def test_landscape_registry_style(mine: str) -> None:
    with pytest.raises(InputError, match="'mine-test' is already registered"):
        register_landscape(mine, lambda: get_landscape("himmelblau"))
    register_landscape(mine, lambda: get_landscape("himmelblau"), replace=True,
                       description="  now   Himmelblau ")
    assert get_landscape(mine).name == "himmelblau"
    assert LANDSCAPES.get(mine).description == "now Himmelblau"
    assert available_landscapes().count(mine) == 1
    with pytest.raises(InputError, match=r"unknown landscape 'nope'.*himmelblau.*mine-test"):
        get_landscape("nope:dim=2")
    with pytest.raises(InputError, match="name="):
        register_landscape("Bad:name", lambda: get_landscape("himmelblau"))
    with pytest.raises(InputError, match="not callable"):
        register_landscape("not-callable", 3)  # type: ignore[arg-type]


def test_builtin_landscape_specs() -> None:
    assert get_landscape("rastrigin:dim=3").dim == 3
    sextic: Any = get_landscape("sextic:barrier=0.25")
    assert sextic.barrier == pytest.approx(0.25, abs=1e-12)
    assert get_landscape("Styblinski_Tang:dim=1").dim == 1
    assert get_landscape("rastrigin:dim=1").name == "rastrigin-1d"
    with pytest.raises(InputError, match=r"takes no argument\(s\) \['dim'\]"):
        get_landscape("styblinski-tang-3d:dim=2")


def test_landscape_factory_must_return_a_landscape() -> None:
    register_landscape("not-a-landscape", lambda: 3.0)  # type: ignore[arg-type,return-value]
    try:
        with pytest.raises(TypeError, match="returned a float, not an AnalyticLandscape"):
            get_landscape("not-a-landscape")
    finally:
        LANDSCAPES.unregister("not-a-landscape")


# -------------------------------------------------------------------------- datasets


def _noise(*, n: int = 20, seed: int = 0, dim: int = 3):
    """Gaussian inputs with random labels."""
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(n, dim, generator=g), torch.randint(0, 2, (n,), generator=g)
    h = n // 2
    return as_dataset((x[:h], y[:h])), as_dataset((x[h:], y[h:]))


@pytest.fixture
def noise() -> Iterator[str]:
    register_dataset("noise-test", _noise)
    yield "noise-test"
    DATASETS.unregister("noise-test")


def test_user_dataset(noise: str) -> None:
    assert noise in available_datasets()
    assert DATASETS.get(noise).description == "Gaussian inputs with random labels."
    train, test = load_dataset("Noise-Test:n=30,dim=5")
    assert (len(train), len(test)) == (15, 15)
    assert train.info.input_shape == (5,)
    assert len(load_dataset(f"{noise}:n=30", n=8)[0]) == 4  # keyword arguments win
    with pytest.raises(InputError, match=r"dataset 'noise-test' takes no argument\(s\) \['m'\]"):
        load_dataset(f"{noise}:m=1")
    with pytest.raises(InputError, match="takes no ':' part"):
        load_dataset(f"{noise}:/tmp")


def test_dataset_registry_style(noise: str) -> None:
    with pytest.raises(InputError, match="'noise-test' is already registered"):
        register_dataset(noise, _noise)
    register_dataset(noise, lambda **kw: _noise(dim=7, **kw), replace=True, description="seven")
    assert load_dataset(noise)[0].info.input_shape == (7,)
    assert DATASETS.get(noise).description == "seven"
    with pytest.raises(InputError, match=r"unknown dataset 'imagenet'.*digits.*noise-test"):
        load_dataset("imagenet")
    with pytest.raises(InputError, match="name="):
        register_dataset("Bad Name", _noise)
    with pytest.raises(InputError, match="'root', 'file' or None"):
        register_dataset("x", _noise, argument="folder")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="takes root="):
        register_dataset("x", _noise, argument="root")
    assert "x" not in DATASETS


def test_user_dataset_with_a_folder(tmp_path: Path) -> None:
    seen = []

    def from_folder(root: str, *, n: int = 10):
        """Noise, after checking that the folder exists."""
        if not Path(root).is_dir():
            raise FileNotFoundError(f"no folder {root!r}")
        seen.append(root)
        return _noise(n=n)

    register_dataset("folder-test", from_folder, argument="root")
    try:
        assert "folder-test:ROOT" in available_datasets()
        assert len(load_dataset(f"folder-test:{tmp_path}", n=12)[1]) == 6
        assert seen == [str(tmp_path)]
        with pytest.raises(InputError, match=r"needs a folder: 'folder-test:ROOT'"):
            load_dataset("folder-test")
        with pytest.raises(FileNotFoundError, match="no folder"):
            load_dataset(f"folder-test:{tmp_path / 'missing'}")
    finally:
        DATASETS.unregister("folder-test")


def test_builtin_dataset_arguments_in_the_spec() -> None:
    assert load_dataset("blobs:centers=3,n_samples=60")[0].info.num_classes == 3
    assert len(load_dataset("moons:n_samples=50")[1]) == 10
    with pytest.raises(InputError, match=r"takes no argument\(s\) \['centres'\]"):
        load_dataset("blobs:centres=3")


# ---------------------------------------------------------------------------- models


def _tiny(in_features: int, num_classes: int, *, hidden: int = 3) -> nn.Module:
    """Two linear layers."""
    return nn.Sequential(nn.Linear(in_features, hidden), nn.Linear(hidden, num_classes))


def _flat(shape: tuple[int, ...], k: int) -> dict[str, int]:
    return {"in_features": shape[0], "num_classes": k}


@pytest.fixture
def tiny() -> Iterator[str]:
    register_model("tiny-test", _tiny, adapter=_flat)
    yield "tiny-test"
    MODELS.unregister("tiny-test")


def test_user_model(tiny: str) -> None:
    assert tiny in available_models()
    assert MODELS.get(tiny).description == "Two linear layers."
    net: Any = get_model("Tiny-Test:hidden=5", input_shape=(4,), num_classes=3)
    assert net[0].out_features == 5 and net(torch.randn(2, 4)).shape == (2, 3)


def test_model_registry_style(tiny: str) -> None:
    with pytest.raises(InputError, match="'tiny-test' is already registered"):
        register_model(tiny, _tiny)

    def wide(in_features: int, num_classes: int, *, hidden: int = 9) -> nn.Module:
        return _tiny(in_features, num_classes, hidden=hidden)

    register_model(tiny, wide, adapter=_flat, replace=True)
    net: Any = get_model(tiny, input_shape=(4,), num_classes=3)
    assert net[0].out_features == 9
    assert MODELS.get(tiny).description == ""
    with pytest.raises(InputError, match=r"unknown model 'mlp'.*cnn, fcn.*tiny-test"):
        get_model("mlp")
    with pytest.raises(InputError, match="not callable"):
        register_model("x", _tiny, adapter=3)  # type: ignore[arg-type]
    register_model("no-adapter-test", _tiny)
    try:
        net = get_model("no-adapter-test", in_features=4, num_classes=3)
        assert net[0].in_features == 4
        with pytest.raises(InputError, match="without a size adapter"):
            get_model("no-adapter-test", input_shape=(4,), num_classes=3)
    finally:
        MODELS.unregister("no-adapter-test")
