"""The ``topoloss`` command: a thin layer over the Python API.

Each subcommand lives in its own module here and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` (``args -> int``) as the parser default.
User mistakes raise :class:`UsageError` (or ``ValueError`` / ``FileNotFoundError``)
and are printed as one line with exit code 2; no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from topoloss import __version__

__all__ = ["EXIT_OK", "EXIT_USAGE", "EXIT_FAILURE", "UsageError", "emit_json", "main"]

EXIT_OK = 0
#: A user mistake: bad arguments, a missing or malformed file, invalid values.
EXIT_USAGE = 2
#: The computation itself failed (e.g. a NaN loss during optimization).
EXIT_FAILURE = 1

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = ("study", "barcode", "compare", "exact", "analyze")


class UsageError(Exception):
    """A mistake in the user's input, reported as one line with exit code 2."""


def emit_json(target: str, data: object) -> bool:
    """Write ``data`` as JSON to stdout (``target == "-"``) or atomically to a file.

    Returns whether it went to stdout (then the command prints nothing else).
    """
    import json

    text = json.dumps(data, indent=1)
    if target == "-":
        print(text)
        return True
    from topoloss._io import atomic_write_text

    atomic_write_text(target, text)
    return False


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="topoloss",
        description="Loss barcodes and TO-scores of loss landscapes.",
    )
    parser.add_argument("--version", action="version", version=f"topoloss {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"topoloss.cli._{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``topoloss`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or EXIT_OK)
    except (UsageError, ValueError, FileNotFoundError, KeyError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"topoloss {args.command}: error: {msg}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"topoloss {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
