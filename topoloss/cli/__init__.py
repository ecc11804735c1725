"""The ``topoloss`` command: a thin layer over the Python API.

Each command lives in its own module here, named after it, and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (``args -> int``) as
the parser default. The options of a study are generated from :mod:`topoloss.config`
(:mod:`topoloss.cli._options`). Errors are one line, no traceback:

- exit 2: bad input (:class:`~topoloss.errors.InputError`, a missing file);
- exit 1: the computation failed (:class:`~topoloss.errors.Diverged`,
  :class:`~topoloss.errors.CorruptResult`, an I/O error such as a full disk, a file-size
  limit or a read-only filesystem, named with its file);
- exit 0 after a closed pipe (``topoloss barcode RUN | head -1``);
- anything else (a bare ``ValueError``, ``KeyError``, ``TypeError`` from numpy, torch or
  our own code) is a bug and keeps its traceback: every input problem is raised as an
  ``InputError`` where it is found.

A :class:`~topoloss.errors.TopolossWarning` is printed as one line
``topoloss CMD: warning: ...``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from topoloss import __version__

__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "emit_json", "main"]

EXIT_OK = 0
#: A user mistake: bad arguments, a missing or malformed file, invalid values.
EXIT_USAGE = 2
#: The computation itself failed (e.g. a NaN loss during optimization).
EXIT_FAILURE = 1

#: Command modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = ("demo", "train", "connect", "run", "watch", "report", "barcode", "compare", "exact",
                             "analyze")


def emit_json(target: str, data: object) -> bool:
    """Write ``data`` as JSON to stdout (``target == "-"``) or atomically to a file.

    Returns whether it went to stdout (then the command prints nothing else).
    """
    import json

    text = json.dumps(data, indent=1)
    if target != "-" and os.path.isdir(target):
        from topoloss.errors import InputError

        raise InputError(f"--json {target}: is a directory; give a file name (or no FILE for stdout)")
    if target == "-":
        print(text)
        return True
    from topoloss._io import atomic_write_text

    atomic_write_text(target, text)
    return False


def build_parser(commands: Sequence[str] = COMMANDS) -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered (or only ``commands``)."""
    parser = argparse.ArgumentParser(
        prog="topoloss",
        description="Loss barcodes and TO-scores of loss landscapes.",
    )
    parser.add_argument("--version", action="version", version=f"topoloss {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in commands:
        importlib.import_module(f"topoloss.cli._{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``topoloss`` command; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    # `topoloss barcode ...` needs only its own parser: the study commands' options import torch
    parser = build_parser(argv[:1] if argv and argv[0] in COMMANDS else COMMANDS)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a flag argparse refused (exit 2)
        return int(exc.code or 0)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return EXIT_USAGE
    from topoloss.errors import CorruptResult, Diverged, InputError, TopolossWarning

    with warnings.catch_warnings():
        warnings.simplefilter("always", TopolossWarning)
        warnings.showwarning = _one_line_warning(args.command, warnings.showwarning)
        try:
            return int(args.func(args) or EXIT_OK)
        except (Diverged, CorruptResult) as exc:
            print(f"topoloss {args.command}: failed: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        except (InputError, FileNotFoundError) as exc:
            print(f"topoloss {args.command}: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except RecursionError:
            print(f"topoloss {args.command}: error: an input file is nested too deeply to be read", file=sys.stderr)
            return EXIT_USAGE
        except BrokenPipeError:  # e.g. `topoloss barcode RUN | head -1`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_OK
        except OSError as exc:
            print(f"topoloss {args.command}: failed: {_os_error(exc)}", file=sys.stderr)
            return EXIT_FAILURE
        except MemoryError:
            print(f"topoloss {args.command}: failed: out of memory (use smaller sizes)", file=sys.stderr)
            return EXIT_FAILURE
        except RuntimeError as exc:  # torch reports a failed allocation as a RuntimeError
            text = str(exc)
            if "can't allocate memory" not in text and "out of memory" not in text.lower():
                raise
            first = text.strip().splitlines()[0][:200]
            print(f"topoloss {args.command}: failed: out of memory (use smaller sizes): {first}", file=sys.stderr)
            return EXIT_FAILURE
        except KeyboardInterrupt:
            print(f"topoloss {args.command}: interrupted", file=sys.stderr)
            return 130


def _os_error(exc: OSError) -> str:
    """An I/O error as one line naming the file and what went wrong (``No space left on device``, ...)."""
    what = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is None:
        return what
    target = f" -> {exc.filename2}" if exc.filename2 is not None else ""
    return f"{exc.filename}{target}: {what}"


def _one_line_warning(command: str, default: Any) -> Any:
    from topoloss.errors import TopolossWarning

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        if issubclass(category, TopolossWarning):
            print(f"topoloss {command}: warning: {message}", file=sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    return show


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
