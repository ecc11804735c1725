"""Every ``topoloss ...`` command in README.md and docs/*.md exists as written.

Each command in a fenced code block is parsed by the real parser
(:func:`topoloss.cli.build_parser`) and its study options go through the validation the
command applies (the config built from the flags, its pair strategy and its executor),
without running anything. A block after the line ``<!-- illustrative -->``, or a line
ending in the comment ``# illustrative``, holds placeholders (``CKPT...``, ``SPEC``): its
commands are only checked for their subcommand and flags, as are the commands quoted
inline (`` `topoloss compare LABEL=RUN,RUN ...` ``). Every study config file in a
```` ```toml ```` block is read with :meth:`StudyConfig.from_dict`. The generated pages
``docs/cli.md`` and ``docs/configuration.md`` are left out: they are made from the
parser and the config, and ``tests/test_docs.py`` keeps them current.
"""

from __future__ import annotations

import functools
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ("cli.md", "configuration.md")
MARK = "<!-- illustrative -->"


@dataclass(frozen=True)
class Command:
    where: str
    argv: tuple[str, ...]
    illustrative: bool


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if p.name not in GENERATED)]


def blocks(text: str) -> list[tuple[int, str, str, bool]]:
    """``(first line number, language, body, illustrative)`` of every fenced block."""
    out, lines, k = [], text.splitlines(), 0
    while k < len(lines):
        fence = re.match(r"^\s*(```+|~~~+)\s*([\w+-]*)", lines[k])
        if not fence:
            k += 1
            continue
        marked = any(lines[j].strip() == MARK for j in range(max(0, k - 2), k))
        start, body = k + 1, []
        k += 1
        while k < len(lines) and not lines[k].strip().startswith(fence.group(1)):
            body.append(lines[k])
            k += 1
        out.append((start + 1, fence.group(2).lower(), "\n".join(body), marked))
        k += 1
    return out


def _commands_in(line: str) -> list[list[str]]:
    """The ``topoloss ...`` commands of one shell line (after ``&&``, ``;`` or ``|``)."""
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError:
        return []
    out: list[list[str]] = []
    current: list[str] | None = None
    for tok in tokens:
        if tok in ("&&", "||", ";", "|", "&"):
            current = None
        elif current is not None:
            current.append(tok)
        elif tok == "topoloss" and (not out or current is None):
            current = []
            out.append(current)
    return out


def commands() -> list[Command]:
    found: list[Command] = []
    for page in pages():
        text = page.read_text()
        name = page.relative_to(ROOT).as_posix()
        for first, lang, body, marked in blocks(text):
            if lang not in ("", "bash", "sh", "shell", "console"):
                continue
            joined = re.sub(r"\\\n\s*", " ", body).splitlines()
            for n, raw in enumerate(joined):
                line = re.sub(r"^\s*\$\s+", "", raw)
                illustrative = marked or bool(re.search(r"#.*\billustrative\b", line))
                for argv in _commands_in(line):
                    found.append(Command(f"{name}:{first + n}", tuple(argv), illustrative))
        prose = re.sub(r"(```+|~~~+).*?\1", "", text, flags=re.S)
        for span in re.findall(r"`(topoloss [^`]+)`", prose):
            found.append(Command(f"{name} (inline)", tuple(shlex.split(span)[1:]), True))
    return found


def study_configs() -> list[tuple[str, dict]]:
    out = []
    for page in pages():
        for first, lang, body, marked in blocks(page.read_text()):
            if lang == "toml" and not marked:
                out.append((f"{page.relative_to(ROOT).as_posix()}:{first}", tomllib.loads(body)))
    return out


@functools.cache
def _parser() -> tuple[object, dict[str, set[str]]]:
    """The real parser, and the option strings of each subcommand."""
    import argparse

    from topoloss.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return parser, {name: {s for a in p._actions for s in a.option_strings} for name, p in sub.choices.items()}


def check_command(cmd: Command) -> None:
    """Raise ``AssertionError`` naming ``cmd`` if it is no valid command (see the module docstring)."""
    from topoloss.cli._options import config_from_args
    from topoloss.engine.executors import make_executor
    from topoloss.engine.planners import make_planner

    parser, known = _parser()
    shown = f"{cmd.where}: topoloss {' '.join(cmd.argv)}"
    if cmd.argv and cmd.argv[0].startswith("-"):  # topoloss --version
        assert set(a.split("=")[0] for a in cmd.argv if a.startswith("-")) <= {"--version", "-h", "--help"}, shown
        return
    assert cmd.argv and cmd.argv[0] in known, f"{shown}: no such command"
    for tok in cmd.argv[1:]:
        flag = tok.split("=", 1)[0]
        if re.fullmatch(r"--?[A-Za-z][\w-]*", flag):
            assert flag in known[cmd.argv[0]], f"{shown}: {cmd.argv[0]} has no option {flag}"
    if cmd.illustrative:
        return
    try:
        args = parser.parse_args(list(cmd.argv))  # type: ignore[attr-defined]
    except SystemExit as exc:
        raise AssertionError(f"{shown}: refused by the parser (exit {exc.code})") from None
    if any(k.startswith("cfg__") for k in vars(args)):
        config = config_from_args(args)  # every option's own validation
        make_planner(config.paths.pairs) if isinstance(config.paths.pairs, str) else None
        make_executor(config.execution)


COMMANDS = commands()


def test_the_docs_show_commands_at_all():
    where = {c.where.split(":")[0].split(" ")[0] for c in COMMANDS if not c.illustrative}
    assert {"README.md", "docs/own-checkpoints.md", "docs/getting-started.md"} <= where
    assert len([c for c in COMMANDS if not c.illustrative]) >= 15


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: f"{c.where} {' '.join(c.argv)[:40]}")
def test_every_documented_command_parses_with_its_options(cmd, capsys):
    check_command(cmd)


@pytest.mark.parametrize("where, data", study_configs(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_documented_config_file_is_valid(where, data):
    from topoloss.config import StudyConfig

    try:
        StudyConfig.from_dict(data)
    except ValueError as exc:
        raise AssertionError(f"{where}: {exc}") from None


@pytest.mark.parametrize("line, problem", [
    ("topoloss connect a.pt b.pt --model fcn --data digits --run r --curve bezier --bends 3", "no option --bends"),
    ("topoloss conect --run r", "no such command"),
    ("topoloss connect a.pt --model fcn --data digits --run r --lr -1", "lr"),
    ("topoloss connect a.pt --model fcn --data digits --run r --pairs nonsense", "nonsense"),
    ("topoloss train --model fcn --data digits", "refused by the parser"),
])
def test_a_stale_command_fails(line, problem, capsys):
    cmd = Command("x.md:1", tuple(_commands_in(line)[0]), False)
    with pytest.raises((AssertionError, ValueError), match=problem):
        check_command(cmd)


def test_markers_and_extraction():
    text = ("```bash\npip install . && topoloss demo -q  # ok\ntopoloss connect CKPT... --run RUN  # illustrative\n"
            "topoloss train --model fcn --data digits \\\n    --run r\n```\n\n" + MARK + "\n```\ntopoloss x\n```\n")
    (first, lang, body, marked), (_, _, body2, marked2) = blocks(text)
    assert (first, lang, marked, marked2) == (2, "bash", False, True)
    joined = re.sub(r"\\\n\s*", " ", body).splitlines()
    assert [_commands_in(line) for line in joined] == [
        [["demo", "-q"]], [["connect", "CKPT...", "--run", "RUN"]],
        [["train", "--model", "fcn", "--data", "digits", "--run", "r"]]]
