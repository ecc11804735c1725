"""User functions are checked once at the edge (issue 18 item 11): one line naming the function."""

import re

import pytest
import torch

from topoloss.analytic import from_function
from topoloss.cli import main
from topoloss.errors import InputError

BODIES = {
    "constant": "torch.zeros(x.shape[0], dtype=x.dtype)",
    "integer": "(x ** 2).sum(-1).round().long()",
    "nan": "x.sum(-1) * float('nan')",
    "complex": "(x ** 2).sum(-1) + 1j * x.sum(-1)",
}
EXPECTED = {
    "constant": r"has no gradient: its value does not depend on its input",
    "integer": r"returns int64 values; expected real floating values",
    "nan": r"is not finite at any of 17 points of its box",
    "complex": r"returns complex128 values; expected real floating values",
}


@pytest.fixture
def user_file(tmp_path):
    lines = ["import torch", ""]
    for name, body in BODIES.items():
        lines += [f"def {name}(x):", f"    return {body}", ""]
    path = tmp_path / "mine.py"
    path.write_text("\n".join(lines))
    return path


@pytest.mark.parametrize("name", list(BODIES))
def test_analyze_refuses_a_bad_function_in_one_line(user_file, name, capsys):
    code = main(["analyze", f"{user_file}:{name}", "--bounds=-1,1", "--steps", "5", "-q"])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert f"{user_file}:{name}" in lines[0]
    assert re.search(EXPECTED[name], lines[0])


def test_exact_refuses_a_complex_function_and_accepts_a_constant(user_file, capsys):
    assert main(["exact", f"{user_file}:complex", "--bounds=-1,1"]) == 2
    assert "returns complex128 values" in capsys.readouterr().err
    # the exact barcode needs no gradient: a constant has one minimum, a trivial barcode
    assert main(["exact", f"{user_file}:constant", "--bounds=-1,1"]) == 0


def test_python_api_names_the_function():
    with pytest.raises(InputError, match=r"landscape 'f' returns int64"):
        from_function(lambda x: x.sum(-1).long(), [(-1, 1)], name="f")
    flat = from_function(lambda x: torch.ones(x.shape[0], dtype=x.dtype), [(-1, 1)], name="flat")
    assert not flat.differentiable
    import topoloss as tl

    with pytest.raises(InputError, match=r"landscape 'flat' has no gradient"):
        tl.analyze(flat, steps=5, progress=False)
    bowl = from_function(lambda x: (x ** 2).sum(-1), [(-1, 1)], name="bowl")
    assert bowl.differentiable
