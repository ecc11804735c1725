"""The CLI's contract with scripts: --version, --json, and which errors are one line (issue 18)."""

from topoloss import __version__
from topoloss.cli import build_parser, main


def test_version_and_json_flags_exist(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"topoloss {__version__}"
    parser = build_parser()
    for argv in (["run", "study.toml", "--json"], ["connect", "--run", "RUN", "--json"]):
        assert parser.parse_args(argv).json
