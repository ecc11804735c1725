"""Adversarial inputs and faults (issue 9): every bad input ends in one line and an exit code.

Each case asserts the exit code (2: bad input, 1: failed computation or I/O), a single
line on stderr that names the offending item and holds no traceback, and that no
finished result changed (a finished run directory is hashed before and after).

Classes: graph files, checkpoints, options, configs, run directories and disk faults,
diverging optimizations (the edge is never above the straight segment).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import topoloss as tl
from topoloss.cli import main
from topoloss.engine.factories import make_landscape
from topoloss.engine.store import Run
from topoloss.errors import InputError, TopolossWarning
from topoloss.paths.record import evaluate_curve

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--model", "fcn:depth=1,width=4", "--data", "digits"]
FAST = ["--steps", "4", "--n-eval", "5", "--refine", "0", "-q"]


# ---------------------------------------------------------------------- helpers
def _tree_hash(path: Path) -> str:
    """A hash of every file (name and bytes) under ``path``."""
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file() and not p.is_symlink():
            h.update(str(p.relative_to(path)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def _one_line(err: str, *names: str) -> str:
    """The one error line; it names every one of ``names``."""
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert "Traceback" not in err, err
    errors = [ln for ln in lines if ": error: " in ln or ": failed: " in ln]
    assert len(errors) == 1, err
    line = errors[0]
    for name in names:
        assert name in line, (name, line)
    return line


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run of the tiny digits net: three minima, every pair connected."""
    base = tmp_path_factory.mktemp("finished")
    land = make_landscape(tl.StudyConfig().with_options(model="fcn:depth=1,width=4"))
    for k in range(3):
        gen = torch.Generator().manual_seed(k)
        point = 0.3 * torch.randn(land.dim, generator=gen, dtype=land.dtype)
        tl.save_minimum(land, point, base / f"m{k}.safetensors")
    run = base / "run"
    rc = main(["connect", *TINY, *FAST, "--run", str(run), *(str(base / f"m{k}.safetensors") for k in range(3))])
    assert rc == 0 and (run / "graph.json").is_file()
    return run


@pytest.fixture
def unchanged(finished: Path):
    """Asserts that the finished run is byte-identical after the test."""
    before = _tree_hash(finished)
    yield finished
    assert _tree_hash(finished) == before, "a finished result changed"


# ---------------------------------------------------------------------- graph files
_GRAPHML = ("<?xml version='1.0' encoding='utf-8'?><graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">"
            "<key id=\"d0\" for=\"node\" attr.name=\"loss\" attr.type=\"double\"/>"
            "<key id=\"d1\" for=\"edge\" attr.name=\"barrier\" attr.type=\"double\"/>"
            "<graph edgedefault=\"undirected\">{body}</graph></graphml>")


def _node(i: object, loss: float) -> str:
    return f'<node id="{i}"><data key="d0">{loss}</data></node>'


def _edge(u: object, v: object, b: object) -> str:
    return f'<edge source="{u}" target="{v}"><data key="d1">{b}</data></edge>'


def _json_graph(nodes: object, edges: object) -> str:
    return json.dumps({"nodes": nodes, "edges": edges})


_N2 = [{"id": 0, "loss": 0.0}, {"id": 1, "loss": 1.0}]

#: (id, file name, content (str or bytes), words the message must contain)
BAD_GRAPHS: list[tuple[str, str, str | bytes, tuple[str, ...]]] = [
    ("csv-text", "g.csv", "0,0,abc\n1,abc,0\n", ("line 1", "column 3", "abc")),
    ("csv-neg-inf", "g.csv", "0,0,-inf\n1,-inf,0\n", ("line 1", "column 3", "-inf")),
    ("csv-nan", "g.csv", "0,0,nan\n1,nan,0\n", ("column 3", "nan")),
    ("csv-NaN-upper", "g.csv", "0,0,NaN\n1,NaN,0\n", ("column 3", "NaN")),
    ("csv-loss-text", "g.csv", "x,0,1\n1,1,0\n", ("line 1", "column 1")),
    ("csv-loss-empty", "g.csv", ",0,1\n1,1,0\n", ("line 1", "column 1")),
    ("csv-loss-inf", "g.csv", "inf,0,1\n1,1,0\n", ("line 1", "column 1")),
    ("csv-loss-nan", "g.csv", "0,0,1\nnan,1,0\n", ("line 2", "column 1")),
    ("csv-ragged", "g.csv", "0,0,1\n1,1\n", ("line 2", "columns")),
    ("csv-not-square", "g.csv", "0,0,1,2\n1,1,0,2\n", ("shape",)),
    ("csv-asymmetric", "g.csv", "0,0,1\n1,2,0\n", ("symmetric",)),
    ("csv-below-loss", "g.csv", "0,0,0.5\n1,0.5,0\n", ("below",)),
    ("csv-binary", "g.csv", b"\xff\xfe\x00\x01garbage", ("not a text file",)),
    ("csv-empty", "g.csv", "", ("shape",)),
    ("csv-semicolons", "g.csv", "0;0;1\n1;1;0\n", ("not a number",)),
    ("csv-1e999", "g.csv", "0,0,1e999\n1,1e999,0\n", ("1e999",)),
    ("json-dup-node", "g.json", _json_graph([*_N2, {"id": 0, "loss": 2.0}], []), ("nodes[2]", "listed twice")),
    ("json-nan-barrier", "g.json",
     '{"nodes": [{"id": 0, "loss": 0}, {"id": 1, "loss": 1}], "edges": [{"source": 0, "target": 1, "barrier": NaN}]}',
     ("edges[0]", "nan")),
    ("json-neg-inf-barrier", "g.json",
     '{"nodes": [{"id": 0, "loss": 0}, {"id": 1, "loss": 1}], '
     '"edges": [{"source": 0, "target": 1, "barrier": -Infinity}]}', ("edges[0]",)),
    ("json-text-barrier", "g.json", _json_graph(_N2, [{"source": 0, "target": 1, "barrier": "high"}]),
     ("edges[0]", "high")),
    ("json-nan-loss", "g.json", '{"nodes": [{"id": 0, "loss": NaN}], "edges": []}', ("loss of minimum 0",)),
    ("json-no-loss", "g.json", _json_graph([{"id": 0}], []), ("nodes[0]", "loss")),
    ("json-unknown-node", "g.json", _json_graph(_N2, [{"source": 0, "target": 7, "barrier": 2}]),
     ("edges[0]", "unknown minimum 7")),
    ("json-self-loop", "g.json", _json_graph(_N2, [{"source": 0, "target": 0, "barrier": 2}]), ("self-loop",)),
    ("json-list-id", "g.json", _json_graph([{"id": [1, 2], "loss": 0}], []), ("nodes[0]",)),
    ("json-top-list", "g.json", "[1, 2]", ("nodes",)),
    ("json-top-number", "g.json", "3", ("nodes",)),
    ("json-nodes-dict", "g.json", json.dumps({"nodes": {"a": 1}, "edges": []}), ("must be lists",)),
    ("json-edge-not-object", "g.json", _json_graph(_N2, [[0, 1, 2]]), ("edges[0]",)),
    ("json-deep", "g.json", "[" * 100_000 + "]" * 100_000, ("nested too deeply",)),
    ("json-deep-dict", "g.json", '{"a":' * 50_000 + "1" + "}" * 50_000, ("nested too deeply",)),
    ("json-invalid", "g.json", '{"nodes": [', ("invalid JSON",)),
    ("json-binary", "g.json", b"\x89PNG\r\n\x1a\n\x00\x00", ("invalid JSON",)),
    ("json-empty", "g.json", "", ("invalid JSON",)),
    ("npz-empty", "g.npz", b"", ("unreadable NPZ",)),
    ("npz-random", "g.npz", os.urandom(200), ("unreadable NPZ",)),
    ("npz-truncated", "g.npz", "TRUNCATED", ("unreadable NPZ",)),
    ("npz-nan", "g.npz", "NAN", ("barriers[0, 1]", "nan")),
    ("npz-neg-inf", "g.npz", "NEGINF", ("barriers[0, 1]", "-inf")),
    ("npz-missing-array", "g.npz", "NOBARRIERS", ("lacks",)),
    ("npz-dup-names", "g.npz", "DUPNAMES", ("distinct",)),
    ("npz-shape", "g.npz", "SHAPE", ("shape",)),
    ("graphml-dup-node", "g.graphml", _GRAPHML.format(body=_node(0, 0) + _node(0, 1) + _node(1, 2)),
     ("'0'", "listed twice")),
    ("graphml-broken", "g.graphml", "<graphml><graph>", ("unreadable GRAPHML",)),
    ("graphml-no-barrier", "g.graphml",
     _GRAPHML.format(body=_node(0, 0) + _node(1, 1) + '<edge source="0" target="1"/>'), ("barrier",)),
    ("gexf-broken", "g.gexf", "<gexf><graph", ("unreadable GEXF",)),
    ("unknown-suffix", "g.xlsx", "0,0\n", ("unknown graph format",)),
]


def _write_graph(path: Path, content: str | bytes) -> None:
    if content in ("TRUNCATED", "NAN", "NEGINF", "NOBARRIERS", "DUPNAMES", "SHAPE"):
        losses, barriers = np.array([0.0, 1.0]), np.array([[0.0, 2.0], [2.0, 0.0]])
        arrays: dict[str, np.ndarray] = {"losses": losses, "barriers": barriers}
        if content == "NAN":
            arrays["barriers"] = np.array([[0.0, np.nan], [np.nan, 0.0]])
        elif content == "NEGINF":
            arrays["barriers"] = np.array([[0.0, -np.inf], [-np.inf, 0.0]])
        elif content == "NOBARRIERS":
            del arrays["barriers"]
        elif content == "DUPNAMES":
            arrays["names"] = np.array(["a", "a"])
        elif content == "SHAPE":
            arrays["barriers"] = np.zeros((3, 3))
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)
        if content == "TRUNCATED":
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 2])
        return
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


@pytest.mark.parametrize(("name", "content", "words"), [c[1:] for c in BAD_GRAPHS],
                         ids=[c[0] for c in BAD_GRAPHS])
def test_bad_graph_file(tmp_path, capsys, name, content, words):
    path = tmp_path / name
    _write_graph(path, content)
    before = path.read_bytes()
    rc, out, err = _cli(capsys, "barcode", path)
    assert rc == 2, (rc, out, err)
    _one_line(err, str(path), *words)
    assert out == ""
    assert path.read_bytes() == before


#: Explicit missing forms and repeats resolved by the documented rule: (content, expected barcode deaths).
GOOD_GRAPHS = [
    ("csv-empty-cell", "g.csv", "0,0,\n1,,0\n", 2),
    ("csv-inf", "g.csv", "0,0,inf\n1,INF,0\n", 2),
    ("csv-infinity", "g.csv", "0,0,Infinity\n1,+inf,0\n", 2),
    ("json-null", "g.json", _json_graph(_N2, [{"source": 0, "target": 1, "barrier": None}]), 2),
    ("json-infinity", "g.json",
     '{"nodes": [{"id": 0, "loss": 0}, {"id": 1, "loss": 1}], "edges": [{"source": 0, "target": 1, '
     '"barrier": Infinity}]}', 2),
    ("json-inf-text", "g.json", _json_graph(_N2, [{"source": 0, "target": 1, "barrier": "inf"}]), 2),
]


@pytest.mark.parametrize(("name", "content", "components"), [c[1:] for c in GOOD_GRAPHS],
                         ids=[c[0] for c in GOOD_GRAPHS])
def test_explicit_missing_is_no_path(tmp_path, name, content, components):
    path = tmp_path / name
    _write_graph(path, content)
    graph = tl.LandscapeGraph.read(path)
    assert len(graph) == 2 and graph.edges == []
    assert tl.loss_barcode(graph).n_components == components


@pytest.mark.parametrize("fmt", ["json", "graphml"])
def test_repeated_edge_keeps_the_lowest(tmp_path, capsys, fmt):
    """A pair listed twice keeps its lowest barrier, whichever comes first (documented rule)."""
    for order in ((5.0, 3.0), (3.0, 5.0)):
        path = tmp_path / f"g.{fmt}"
        if fmt == "json":
            path.write_text(_json_graph(_N2, [{"source": 0, "target": 1, "barrier": order[0]},
                                              {"source": 1, "target": 0, "barrier": order[1]}]))
        else:
            path.write_text(_GRAPHML.format(body=_node(0, 0.0) + _node(1, 1.0) + _edge(0, 1, order[0])
                                            + _edge(1, 0, order[1])))
        graph = tl.LandscapeGraph.read(path)
        assert graph.barrier(0, 1) == 3.0
        assert sorted(p["barrier"] for p in graph.paths(0, 1)) == [3.0, 5.0]
        rc, out, _ = _cli(capsys, "barcode", path, "--json")
        assert rc == 0 and json.loads(out)["bars"][1]["death"] == 3.0


def test_from_barriers_refuses_negative_infinity():
    with pytest.raises(InputError, match=r"barriers\[0, 1\] is -inf"):
        tl.LandscapeGraph.from_barriers([0, 1], [[0, -np.inf], [-np.inf, 0]])


def test_no_numpy_reprs_in_graph_messages():
    g = tl.LandscapeGraph()
    g.add_minimum(np.str_("a"), np.float64(1.0))
    g.add_minimum(np.int64(2), np.float64(0.5))
    with pytest.raises(InputError) as info:
        g.add_path("a", np.int64(2), np.float64(0.2))
    assert "np." not in str(info.value) and "barrier=0.2 between 'a' and 2" in str(info.value)


@pytest.mark.parametrize("kind", ["empty-dir", "fifo", "missing"])
def test_graph_path_that_is_not_a_graph_file(tmp_path, capsys, kind):
    path = tmp_path / "g.json"
    if kind == "empty-dir":
        path.mkdir()
        word = "holds no graph.json"
    elif kind == "fifo":
        os.mkfifo(path)
        word = "FIFO"
    else:
        word = "not found"
    rc, _, err = _cli(capsys, "barcode", path)
    assert rc == 2
    _one_line(err, str(path), word)


# ---------------------------------------------------------------------- checkpoints
def _state(land) -> dict[str, torch.Tensor]:
    return land.unflatten(torch.full((land.dim,), 0.01, dtype=land.dtype))


def _bad_checkpoint(kind: str, path: Path, land) -> str:
    """Write a bad checkpoint of ``kind`` at ``path``; returns a word the message must hold."""
    from safetensors.torch import save_file

    sd = _state(land)
    key = next(k for k in sd if k in land._alias)
    if kind in ("int64", "int8", "bool", "complex64", "complex128"):
        torch.save({k: v.to(getattr(torch, kind)) for k, v in sd.items()}, path)
        return f"dtype {kind}"
    if kind == "safetensors-int":
        save_file({k: v.to(torch.int32).contiguous() for k, v in sd.items()}, str(path))
        return "dtype int32"
    if kind == "meta":
        torch.save({k: v.to("meta") for k, v in sd.items()}, path)
        return "meta-device"
    if kind == "random":
        path.write_bytes(b"R" + os.urandom(500))
        return "not a PyTorch checkpoint"
    if kind == "empty":
        path.write_bytes(b"")
        return "empty"
    if kind == "text":
        path.write_text("hello, this is not a checkpoint\n")
        return "not a PyTorch checkpoint"
    if kind in ("truncated", "truncated-safetensors"):
        if kind == "truncated":
            torch.save(sd, path)
        else:
            save_file({k: v.contiguous() for k, v in sd.items()}, str(path))
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return "not a readable"
    if kind == "nan":
        torch.save({k: v.fill_(math.nan) if k == key else v for k, v in sd.items()}, path)
        return "NaN"
    if kind == "missing-key":
        torch.save({k: v for k, v in sd.items() if k != key}, path)
        return f"missing key {key!r}"
    if kind == "extra-key":
        torch.save({**sd, "bogus.weight": torch.zeros(2)}, path)
        return "unexpected key 'bogus.weight'"
    if kind == "wrong-shape":
        torch.save({**sd, key: torch.zeros(3, 3)}, path)
        return "has shape (3, 3)"
    if kind == "not-a-tensor":
        torch.save({**sd, key: [1.0, 2.0]}, path)
        return "not a tensor"
    if kind == "pickled-object":
        torch.save({"state_dict": sd, "when": __import__("datetime").date(2020, 1, 1)}, path)
        return "refusing to load"
    raise AssertionError(kind)


CHECKPOINTS = [
    ("int64", ".pt"), ("int8", ".pt"), ("bool", ".pt"), ("complex64", ".pt"), ("complex128", ".pt"),
    ("safetensors-int", ".safetensors"), ("meta", ".pt"), ("random", ".pt"), ("empty", ".pt"),
    ("text", ".pt"), ("truncated", ".pt"), ("truncated-safetensors", ".safetensors"), ("nan", ".pt"),
    ("missing-key", ".pt"), ("extra-key", ".pt"), ("wrong-shape", ".pt"), ("not-a-tensor", ".pt"),
    ("pickled-object", ".pt"),
]


@pytest.fixture(scope="module")
def tiny_landscape():
    return make_landscape(tl.StudyConfig().with_options(model="fcn:depth=1,width=4"))


@pytest.mark.parametrize(("kind", "suffix"), CHECKPOINTS, ids=[c[0] for c in CHECKPOINTS])
def test_bad_checkpoint(tmp_path, capsys, tiny_landscape, finished, unchanged, kind, suffix):
    bad = tmp_path / f"bad{suffix}"
    word = _bad_checkpoint(kind, bad, tiny_landscape)
    good = sorted(finished.parent.glob("m*.safetensors"))[0]
    rc, out, err = _cli(capsys, "connect", *TINY, *FAST, "--run", tmp_path / "run", good, bad)
    assert rc == 2, (rc, out, err)
    _one_line(err, str(bad), word)
    assert not (tmp_path / "run" / "graph.json").exists()


@pytest.mark.parametrize("kind", ["directory", "fifo", "symlink-loop", "dangling-symlink", "missing"])
def test_checkpoint_that_is_not_a_file(tmp_path, tiny_landscape, kind):
    """The message says what the path is, not "not found" for something that exists."""
    path = tmp_path / "c.pt"
    if kind == "directory":
        path.mkdir()
        word, exc = "is a directory", InputError
    elif kind == "fifo":
        os.mkfifo(path)
        word, exc = "is a FIFO", InputError
    elif kind == "symlink-loop":
        path.symlink_to(path)
        word, exc = "symbolic link loop", InputError
    elif kind == "dangling-symlink":
        path.symlink_to(tmp_path / "nowhere.pt")
        word, exc = "link to a missing file", InputError
    else:
        word, exc = "not found", FileNotFoundError
    with pytest.raises(exc) as info:
        tl.load_minima(tiny_landscape, [path, path])
    assert str(path) in str(info.value) and word in str(info.value)
    assert "\n" not in str(info.value)


def test_one_checkpoint_warns_trivial(tmp_path, capsys, finished):
    good = sorted(finished.parent.glob("m*.safetensors"))[0]
    rc, out, err = _cli(capsys, "connect", *TINY, *FAST, "--run", tmp_path / "run", good)
    assert rc == 0
    assert "warning: one checkpoint" in err and "trivial" in err and "Traceback" not in err


def test_one_minimum_graph_warns_trivial(tmp_path, capsys):
    path = tmp_path / "one.csv"
    path.write_text("0.5, 0\n")
    rc, out, err = _cli(capsys, "barcode", path)
    assert rc == 0 and "TO-score (bottleneck): 0" in out
    assert f"warning: {path} holds one minimum" in err and "trivial" in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------- options
#: (id, extra flags of `analyze himmelblau`, exit code, words of the message)
BAD_OPTIONS = [
    ("lr-inf", ["--lr", "inf"], 2, ("lr",)),
    ("lr-nan", ["--lr", "nan"], 2, ("lr",)),
    ("lr-negative", ["--lr", "-1"], 2, ("lr",)),
    ("lr-zero", ["--lr", "0"], 2, ("lr",)),
    ("seed-negative", ["--seed", "-1"], 2, ("seed",)),
    ("steps-zero", ["--steps", "0"], 2, ("steps",)),
    ("n-eval-one", ["--n-eval", "1"], 2, ("n_eval",)),
    ("refine-negative", ["--refine", "-1"], 2, ("refine",)),
    ("t-batch-zero", ["--t-batch", "0"], 2, ("t_batch",)),
    ("momentum-text", ["--momentum", "fast"], 2, ("momentum",)),
    ("curve-unknown", ["--curve", "spline"], 2, ("spline",)),
    ("curve-bends-negative", ["--curve", "bezier:bends=-1"], 2, ("bends",)),
    ("curve-bends-text", ["--curve", "bezier:bends=many"], 2, ("bends",)),
    ("curve-unknown-key", ["--curve", "bezier:colour=red"], 2, ("colour",)),
    ("curve-bends-huge", ["--curve", "bezier:bends=1000000000"], 2, ("--curve", "bends=1000000000", "GiB")),
    ("n-eval-huge", ["--n-eval", "1000000000000"], 2, ("--n-eval", "GiB")),
    ("pairs-unknown", ["--pairs", "none"], 2, ("pairs",)),
    ("optimizer-unknown", ["--optimizer", "lbfgs"], 2, ("optimizer",)),
    ("n-minima-zero", ["--n-minima", "0"], 2, ("n_minima",)),
    ("landscape-unknown", ["--", "no-such-landscape"], 2, ("no-such-landscape",)),
]


@pytest.mark.parametrize(("flags", "code", "words"), [c[1:] for c in BAD_OPTIONS], ids=[c[0] for c in BAD_OPTIONS])
def test_bad_option(capsys, unchanged, flags, code, words):
    landscape = [] if flags[0] == "--" else ["himmelblau"]
    rc, out, err = _cli(capsys, "analyze", *landscape, "--steps", "3", "-q", "--resolution", "9", *flags)
    assert rc == code, (rc, out, err)
    if "usage:" in err:  # refused by argparse: its own two-line usage message
        assert "Traceback" not in err and any(w in err for w in words)
        return
    _one_line(err, *words)


def test_bends_zero_is_the_straight_segment(capsys):
    """A Bézier curve without bends is the straight segment: nothing to optimize, no traceback."""
    result = tl.analyze(tl.analytic.himmelblau(), curve=tl.Bezier(bends=0), steps=5, progress=False)
    for p in result.paths:
        assert p.bends.shape[0] == 0
        assert p.barrier == pytest.approx(p.linear_barrier)


def test_json_into_a_directory(tmp_path, capsys, finished, unchanged):
    target = tmp_path / "out"
    target.mkdir()
    rc, _, err = _cli(capsys, "barcode", finished, "--json", target)
    assert rc == 2
    _one_line(err, "--json", str(target), "directory")
    assert list(target.iterdir()) == []


# ---------------------------------------------------------------------- configs
#: (id, file, content, the word the message names: the file, else the key)
BAD_CONFIGS = [
    ("top-level-list", "c.json", "[1, 2, 3]", "c.json"),
    ("top-level-string", "c.json", '"hello"', "c.json"),
    ("deep", "c.json", "[" * 100_000 + "]" * 100_000, "c.json"),
    ("invalid-json", "c.json", '{"paths": ', "c.json"),
    ("invalid-toml", "c.toml", "[paths\nlr = ", "c.toml"),
    ("unknown-key", "c.toml", "[paths]\nlearning_rate = 0.1\n", "'learning_rate'"),
    ("wrong-type", "c.toml", "[paths]\nlr = \"fast\"\n", "lr='fast'"),
    ("unknown-section", "c.toml", "[optimiser]\nlr = 0.1\n", "'optimiser'"),
    ("yaml-tag", "c.yaml", "paths: !!python/object/apply:os.system ['true']\n", "c.yaml"),
    ("binary", "c.toml", "\x00\x01\x02", "c.toml"),
    ("unknown-suffix", "c.ini", "[paths]\n", "c.ini"),
    ("missing", "nowhere.toml", None, "nowhere.toml"),
]


@pytest.mark.parametrize(("name", "content", "word"), [c[1:] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config(tmp_path, capsys, unchanged, name, content, word):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    rc, out, err = _cli(capsys, "run", path, "--run", tmp_path / "run", "--no-report", "-q")
    assert rc == 2, (rc, out, err)
    _one_line(err, word)
    assert not (tmp_path / "run" / "graph.json").exists()


# ---------------------------------------------------------------------- run directories
def _corrupt(run: Path, kind: str) -> tuple[str, str]:
    """Damage a copy of a finished run; returns (command, word of the message)."""
    if kind == "graph-truncated":
        data = (run / "graph.json").read_bytes()
        (run / "graph.json").write_bytes(data[: len(data) // 2])
        return "barcode", "graph.json"
    if kind == "graph-empty":
        (run / "graph.json").write_bytes(b"")
        return "barcode", "graph.json"
    if kind == "graph-list":
        (run / "graph.json").write_text("[]")
        return "barcode", "graph.json"
    if kind == "graph-deep":
        (run / "graph.json").write_text("[" * 100_000 + "]" * 100_000)
        return "barcode", "graph.json"
    if kind == "graph-nan":
        g = json.loads((run / "graph.json").read_text())
        g["edges"][0]["barrier"] = "NaN-marker"
        (run / "graph.json").write_text(json.dumps(g).replace('"NaN-marker"', "NaN"))
        return "barcode", "graph.json"
    if kind == "graph-dup-node":
        g = json.loads((run / "graph.json").read_text())
        g["nodes"].append(dict(g["nodes"][0]))
        (run / "graph.json").write_text(json.dumps(g))
        return "barcode", "listed twice"
    if kind == "graph-is-dir":
        (run / "graph.json").unlink()
        (run / "graph.json").mkdir()
        return "barcode", "graph.json"
    if kind == "no-graph":
        (run / "graph.json").unlink()
        return "barcode", "holds no graph.json"
    raise AssertionError(kind)


RUN_FAULTS = ["graph-truncated", "graph-empty", "graph-list", "graph-deep", "graph-nan", "graph-dup-node",
              "graph-is-dir", "no-graph"]


@pytest.mark.parametrize("kind", RUN_FAULTS)
def test_corrupted_run_directory(tmp_path, capsys, finished, unchanged, kind):
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    command, word = _corrupt(run, kind)
    rc, out, err = _cli(capsys, command, run)
    assert rc == 2, (rc, out, err)
    _one_line(err, str(run), word)


def _subprocess(cmd: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_run_directory(tmp_path, capsys, finished):
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    before = _tree_hash(run)
    os.chmod(run, 0o555)
    try:
        rc, out, err = _cli(capsys, "barcode", run, "--json", run / "barcode.json")
        assert rc == 1, (rc, out, err)
        _one_line(err, str(run), "Permission denied")
    finally:
        os.chmod(run, 0o755)
    assert _tree_hash(run) == before


@pytest.fixture
def small_fs(tmp_path):
    """A 256 KiB tmpfs (needs the right to mount, e.g. root in a container); skipped otherwise."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.mark.parametrize("target", ["json", "graph"])
def test_full_disk(capsys, finished, unchanged, small_fs, target):
    """ENOSPC while writing: one line naming the file, exit 1, no partial file left."""
    (small_fs / "filler").write_bytes(b"x" * (256 * 1024 - 4096))
    with contextlib.suppress(OSError), open(small_fs / "filler", "ab") as fh:  # fill the last blocks
        fh.write(b"x" * 65536)
    out = small_fs / "out.json"
    if target == "json":
        rc, _, err = _cli(capsys, "barcode", finished, "--json", out)
    else:
        rc, _, err = _cli(capsys, "analyze", "himmelblau", "--steps", "3", "-q", "--resolution", "9",
                          "--json", out)
    assert rc == 1
    _one_line(err, str(out), "No space left on device")
    assert not out.exists() and not list(small_fs.glob(".out.json.*"))


def test_read_only_filesystem(tmp_path, capsys, finished, small_fs):
    run = small_fs / "run"
    shutil.copytree(finished, run, ignore=shutil.ignore_patterns("*.safetensors"))
    before = _tree_hash(run)
    if subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], capture_output=True).returncode != 0:
        pytest.skip("cannot remount read-only")
    rc, _, err = _cli(capsys, "barcode", run, "--json", run / "barcode.json")
    assert rc == 1
    _one_line(err, str(run), "Read-only file system")
    assert _tree_hash(run) == before


@pytest.mark.slow
def test_file_size_limit(tmp_path, finished):
    """`ulimit -f`: writes fail with EFBIG, reported as one line naming the file; nothing half-written."""
    out = tmp_path / "big.json"
    proc = _subprocess(f"ulimit -f 0; {sys.executable} -m topoloss.cli barcode {finished} --json {out}", tmp_path)
    assert proc.returncode == 1, proc
    _one_line(proc.stderr, str(out), "File too large")
    assert not out.exists() and not list(tmp_path.glob(".big.json.*"))


@pytest.mark.slow
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_disk_full(tmp_path, finished):
    """ENOSPC (``/dev/full``) while printing: one line, exit 1."""
    proc = _subprocess(f"{sys.executable} -m topoloss.cli barcode {finished} --json > /dev/full", tmp_path)
    assert proc.returncode in (1, 120), proc  # 120: Python could not flush stdout at exit
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_closed_pipe(tmp_path, finished):
    proc = _subprocess(f"set -o pipefail; {sys.executable} -m topoloss.cli barcode {finished} | head -1", tmp_path)
    assert proc.returncode == 0, proc
    assert proc.stdout.startswith("loss barcode") and proc.stdout.count("\n") == 1
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


# ---------------------------------------------------------------------- models and data
@pytest.mark.parametrize(("model", "data", "words"), [
    ("gpt", "moons", ("GPT", "input shape (2,)")),
    ("fcn:depth=1,width=4", "text", ("input shape",)),
    ("cnn", "digits", ("input_shape=(64,)",)),
])
def test_model_with_data_it_cannot_take(tmp_path, capsys, model, data, words):
    rc, out, err = _cli(capsys, "train", "--model", model, "--data", data, "--run", tmp_path / "run",
                        "--epochs", "1", "--seeds", "0,1", "-q")
    assert rc == 2, (rc, out, err)
    _one_line(err, *words)


# ---------------------------------------------------------------------- diverging optimization
def _check_no_edge_above_straight(paths, graph) -> int:
    fallbacks = 0
    for p in paths:
        assert p.barrier <= p.curve_barrier
        if not math.isfinite(p.linear_barrier):  # linear=False and the curve was fine
            assert p.fallback is None
            continue
        tol = 1e-6 * max(1.0, abs(p.linear_barrier))  # the documented tolerance of the rule
        assert p.barrier <= p.linear_barrier + tol, p
        assert graph.barrier(p.u, p.v) <= p.linear_barrier + tol
        if p.fallback == "straight":
            fallbacks += 1
            assert p.curve_barrier > p.linear_barrier and p.barrier == p.linear_barrier
    return fallbacks


def test_diverging_optimization_analytic():
    """Huge lr on Himmelblau: every failed curve falls back to its straight segment, with one warning."""
    land = tl.analytic.himmelblau()
    for linear in (True, False):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = tl.analyze(land, lr=1e4, steps=60, progress=False, linear=linear)
        n = _check_no_edge_above_straight(result.paths, result.graph)
        messages = [str(w.message) for w in caught if issubclass(w.category, TopolossWarning)]
        assert n >= 1 and len(messages) == 1  # one warning per call (issue 18 item 2), naming the pairs
        assert "lr=1e+04" in messages[0] and "straight segment" in messages[0]
        # the straight segment is a path: the edge equals an independent evaluation of it
        for p in result.paths:
            if p.fallback:
                _, y = evaluate_curve(land, tl.Bezier(bends=0), p.start, p.end,
                                                      n_eval=61, refine=2)
                assert p.barrier == pytest.approx(float(y.max()), rel=1e-9)
    # the stored record says so too
    again = tl.PathRecord.from_dict(result.paths[0].to_dict())
    assert again.fallback == result.paths[0].fallback and again.barrier == result.paths[0].barrier


@pytest.mark.slow
def test_diverging_optimization_cli(tmp_path, capsys, finished):
    """`connect --lr 1e4` on the tiny digits net: no edge above the straight segment, one warning line."""
    ckpts = sorted(finished.parent.glob("m*.safetensors"))
    run = tmp_path / "run"
    rc, out, err = _cli(capsys, "connect", *TINY, "--steps", "40", "--n-eval", "9", "--refine", "0", "-q",
                        "--lr", "1e4", "--pairs", "all", "--run", run, *ckpts)
    assert rc == 0, err
    graph = tl.LandscapeGraph.read(run)
    records, bad = Run(run).finished_paths()
    assert len(records) == 3 and bad == []
    n = _check_no_edge_above_straight(records, graph)
    warned = [ln for ln in err.splitlines() if ": warning: " in ln]
    # one warning line per run, naming the pairs (issue 18 item 2)
    assert n >= 1 and len(warned) == 1 and "lr=1e+04" in warned[0] and f"failed on {n} of 3 paths" in warned[0]
    assert "Traceback" not in err
