"""Every input problem is an InputError; the CLI turns only topoloss's own errors into one line.

Anything else (a bare ``ValueError`` from numpy, a ``KeyError`` from our own code) is a bug,
so ``topoloss`` lets it through with its traceback instead of reading it as the user's mistake.
"""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path

import pytest
import torch

import topoloss as tl
import topoloss.cli as cli
from topoloss.analytic import get_landscape
from topoloss.errors import CorruptResult, Diverged, InputError, InputTypeError, TopolossError

ROOT = Path(__file__).resolve().parents[1]

#: The bare raises that stay: internal invariants of private modules (firing means a bug in
#: topoloss, which must show its traceback), by file and the start of the message.
INTERNAL = {
    ("topoloss/topology/forest.py", "pairs repeat an edge"),
    ("topoloss/topology/_graph_methods.py", "not a LandscapeGraph method"),
    ("topoloss/paths/_chain.py", "grad has shape"),
    ("topoloss/paths/_chain.py", "climbing=True needs the losses"),
    ("topoloss/paths/_curve_step.py", "one pair at a time"),
    ("topoloss/paths/_curve_step.py", "method="),
    ("topoloss/paths/_curve_step.py", "the blockwise objective needs"),
}


def _bare_raises() -> list[tuple[str, int, str, str]]:
    """``(file, line, exception, message start)`` of every ``raise ValueError/TypeError/KeyError(...)``."""
    found = []
    for path in sorted((ROOT / "topoloss").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            func = node.exc.func
            if isinstance(func, ast.Name) and func.id in ("ValueError", "TypeError", "KeyError"):
                arg = node.exc.args[0] if node.exc.args else None
                if isinstance(arg, ast.JoinedStr):
                    text = "".join(p.value if isinstance(p, ast.Constant) else "{" + ast.unparse(p.value) + "!r}"
                                   for p in arg.values)
                else:
                    text = arg.value if isinstance(arg, ast.Constant) else ""
                found.append((str(path.relative_to(ROOT)), node.lineno, func.id, str(text)))
    return found


def test_no_input_problem_is_raised_as_a_bare_builtin_error():
    stray = [f"{f}:{line} raise {exc}({msg[:50]!r})" for f, line, exc, msg in _bare_raises()
             if not any(f == where and msg.startswith(start) for where, start in INTERNAL)]
    assert not stray, "raise InputError (or InputTypeError) for bad input:\n" + "\n".join(stray)
    # the allowlist holds only sites that still exist (a stale entry would hide nothing)
    kept = {(f, start) for f, _, _, msg in _bare_raises() for where, start in INTERNAL
            if f == where and msg.startswith(start)}
    assert kept == INTERNAL


def test_input_errors_keep_the_builtin_types_callers_catch():
    assert issubclass(InputError, ValueError) and issubclass(InputTypeError, TypeError)
    assert issubclass(InputTypeError, InputError) and issubclass(InputError, TopolossError)
    with pytest.raises(InputTypeError, match="expected a Curve"):
        tl.StudyConfig().with_options(curve="bezier-ish-object-of-the-wrong-type")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="bends"):
        tl.Bezier(bends=-1)
    with pytest.raises(InputTypeError, match="f must be callable"):
        tl.AnalyticLandscape(3, [(0, 1), (0, 1)])  # type: ignore[arg-type]
    with pytest.raises(InputError, match="nope"):
        get_landscape("nope")


def _parser_raising(exc: BaseException):
    def build(commands=cli.COMMANDS):
        parser = argparse.ArgumentParser(prog="topoloss")
        sub = parser.add_subparsers(dest="command")
        boom = sub.add_parser("boom")

        def func(args):
            raise exc

        boom.set_defaults(func=func)
        return parser

    return build


@pytest.mark.parametrize(
    "exc, code, line",
    [
        (InputError("--lr -1: must be positive"), 2, "topoloss boom: error: --lr -1: must be positive"),
        (InputTypeError("config=3; expected a StudyConfig"), 2, "topoloss boom: error: config=3"),
        (FileNotFoundError("no such file: ckpt.pt"), 2, "topoloss boom: error: no such file: ckpt.pt"),
        (Diverged("loss is not finite between 'a' and 'b'"), 1, "topoloss boom: failed: loss is not finite"),
        (CorruptResult("RUN/paths/a--b.json: not JSON"), 1, "topoloss boom: failed: RUN/paths/a--b.json"),
    ],
)
def test_topoloss_errors_are_one_line_with_their_exit_code(monkeypatch, capsys, exc, code, line):
    monkeypatch.setattr(cli, "build_parser", _parser_raising(exc))
    assert cli.main(["boom"]) == code
    err = capsys.readouterr().err
    assert err.startswith(line) and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("exc", [ValueError("operands could not be broadcast"), KeyError("weight"),
                                 TypeError("unsupported operand"), IndexError("index 3 is out of bounds")])
def test_any_other_error_is_a_bug_and_keeps_its_traceback(monkeypatch, exc):
    monkeypatch.setattr(cli, "build_parser", _parser_raising(exc))
    with pytest.raises(type(exc)):
        cli.main(["boom"])


def test_a_real_input_problem_through_the_cli_is_still_one_line(tmp_path, capsys):
    """End to end: a malformed barcode file (JSON of the wrong shape) is named in one line, exit 2."""
    bad = tmp_path / "bars.json"
    bad.write_text(json.dumps({"intervals": "not a list"}))
    assert cli.main(["barcode", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bars.json" in err and "Traceback" not in err


def test_a_diverged_model_loss_is_a_computation_failure_not_bad_input():
    torch.manual_seed(0)
    x, y = torch.randn(32, 3), torch.randint(0, 2, (32,))
    land = tl.ModelLandscape(lambda: torch.nn.Sequential(torch.nn.Linear(3, 2)), (x, y))
    with pytest.raises(Diverged, match=r"points\[0\].*not finite.*smaller lr"):
        land.loss(land.initial_point(0)[None] * 1e38)
