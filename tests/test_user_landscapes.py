"""Your own landscapes from the command line: user code with --bounds, and polynomials by --coeffs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from topoloss.analytic import exact_barcode, from_function, polynomial
from topoloss.cli import main

WELLS = '''
def wells(p):
    x, y = p[..., 0], p[..., 1]
    return (x**2 - 1) ** 2 + 2 * y**2 + 0.1 * x
'''


def _wells(p: torch.Tensor) -> torch.Tensor:
    x, y = p[..., 0], p[..., 1]
    return (x**2 - 1) ** 2 + 2 * y**2 + 0.1 * x


@pytest.fixture
def user_file(tmp_path, monkeypatch):
    (tmp_path / "mywells.py").write_text(WELLS)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "mywells.py"


def test_exact_of_a_user_function_equals_the_same_function_in_python(user_file, tmp_path, capsys):
    out = tmp_path / "exact.json"
    assert main(["exact", f"{user_file}:wells", "--bounds=-2,2,-2,2", "--resolution", "129",
                 "--json", str(out)]) == 0
    got = json.loads(out.read_text())
    want = exact_barcode(from_function(_wells, [(-2, 2), (-2, 2)]), resolution=129)
    assert sorted(b["birth"] for b in got["bars"]) == pytest.approx(sorted(want.intervals[:, 0].tolist()), abs=1e-12)
    finite = want.intervals[np.isfinite(want.intervals[:, 1])]
    assert len(got["bars"]) == len(want) == 2  # the two wells
    assert got["to_score"] == pytest.approx(float((finite[:, 1] - finite[:, 0]).max()) / 2, rel=1e-9)


def test_exact_of_a_polynomial_given_by_its_coefficients(tmp_path):
    out = tmp_path / "poly.json"
    assert main(["exact", "--coeffs", "0,0.1,-0.5,0,0.25", "--bounds=-2,2", "--json", str(out)]) == 0
    got = json.loads(out.read_text())
    want = exact_barcode(polynomial((0.0, 0.1, -0.5, 0.0, 0.25), (-2.0, 2.0)))
    finite = want.intervals[np.isfinite(want.intervals[:, 1])]
    assert len(finite) == 1  # the tilted double well: one finite bar
    assert got["to_score"] == pytest.approx(float(finite[0, 1] - finite[0, 0]) / 2, rel=1e-9)


def test_analyze_a_user_function_by_module_name(user_file, capsys):
    assert main(["analyze", "mywells:wells", "--bounds=-2,2,-2,2", "--steps", "60", "--n-minima", "8",
                 "--resolution", "129", "-q"]) == 0
    text = capsys.readouterr().out
    assert "2 minima" in text and "exact TO-score" in text


@pytest.mark.parametrize("argv, needle", [
    (["analyze", "mywells:wells", "-q"], "--bounds"),
    (["exact", "mywells:wells", "--bounds=-2,2"], "mywells:wells"),
    (["exact", "--coeffs", "1,x"], "--coeffs"),
    (["exact", "--coeffs", "0,1", "--bounds=-1,1,-1,1"], "one variable"),
    (["exact", "mywells:nothing", "--bounds=-2,2,-2,2"], "nothing"),
    (["analyze", "--coeffs", "0,0,-1,0,1", "--run", "r", "-q"], "--run stores registered landscapes only"),
    (["exact", "--bounds=2"], "--bounds"),
])
def test_bad_user_landscapes_are_one_line_exit_2(user_file, capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and needle in err[-1] and "Traceback" not in "\n".join(err)
