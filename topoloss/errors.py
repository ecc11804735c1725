"""The errors topoloss raises on purpose, and the exit code each one means.

========================  ==========================================  =========
class                     meaning                                     CLI exit
========================  ==========================================  =========
:class:`InputError`       bad input: an option, a config value, a     2
                          file, a name (also a ``ValueError``)
:class:`InputTypeError`   an input of the wrong type (an              2
                          ``InputError`` and a ``TypeError``)
:class:`ConfigMismatch`   a run directory holds another configuration 2
:class:`Diverged`         an optimization produced non-finite losses  1
:class:`CorruptResult`    a stored result cannot be read back         1
========================  ==========================================  =========

Anything else is a bug and keeps its traceback.

:class:`TopolossWarning` (a ``UserWarning``) marks a result that is valid but needs
attention, e.g. an optimized path that ended higher than its straight segment; the CLI
prints it as one line ``topoloss CMD: warning: ...``.
"""

from __future__ import annotations

__all__ = ["ConfigMismatch", "CorruptResult", "Diverged", "InputError", "InputTypeError", "TopolossError",
           "TopolossWarning"]


class TopolossError(Exception):
    """Base class of every error topoloss raises on purpose."""


class InputError(TopolossError, ValueError):
    """Bad input: an option, a configuration value, a file or a name. Exit code 2."""


class InputTypeError(InputError, TypeError):
    """An input of the wrong type (also a ``TypeError``, as Python raises for one). Exit code 2."""


class ConfigMismatch(InputError):
    """The run directory was made with a different configuration. Exit code 2."""


class Diverged(TopolossError, ArithmeticError):
    """An optimization produced a non-finite loss (the message names the pair). Exit code 1."""


class CorruptResult(TopolossError):
    """A result file cannot be read back (the message names the file). Exit code 1."""


class TopolossWarning(UserWarning):
    """A result that is valid but needs attention (the message names what and why)."""
