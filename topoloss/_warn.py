"""Warnings attributed to the user's own line, never to a line inside topoloss.

A :class:`~topoloss.errors.TopolossWarning` shown by Python names the file and line that
``warnings.warn`` points at, and prints that source line. :func:`warn` points at the
first frame outside the ``topoloss`` package (the user's call of ``tl.analyze``, ...),
so the warning shows the user's own line, or none when topoloss itself was the entry
point (the ``topoloss`` command prints warnings as one line anyway).
"""

from __future__ import annotations

import os
import sys
import warnings

from topoloss.errors import TopolossWarning

__all__ = ["warn"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str, category: type[Warning] = TopolossWarning) -> None:
    """``warnings.warn(message, category)`` from the first caller outside the package."""
    frame = sys._getframe(0)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, category, stacklevel=level)
