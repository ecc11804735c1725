"""File names for minima in a run directory: :func:`file_name` (injective) and the older
:func:`legacy_name` (not injective), which is only used to find the files of older runs.

Part of the run directory's layout (:class:`topoloss._layout.RunLayout` names every file
with them); no topoloss imports, so every layer may use it.
"""

from __future__ import annotations

import re
from collections.abc import Hashable

__all__ = ["file_name", "legacy_name"]

#: How names became file names before :func:`file_name` (not injective: ``a b`` and ``a_b``
#: collide); still used to find the files of older runs.
_LEGACY = re.compile(r"[^A-Za-z0-9._-]+")
_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._")


def file_name(name: Hashable) -> str:
    """The file-name stem of the minimum ``name``: injective, and safe in ``U--V`` names.

    Letters, digits, ``.`` and ``_`` are kept, as is a ``-`` that has no ``-`` next to it
    and is neither first nor last; every other character (its UTF-8 bytes) is written
    as ``%XX``. So no stem contains ``--``, starts or ends with ``-``, and the pair
    stem ``file_name(u) + "--" + file_name(v)`` determines ``(u, v)``; a stem of
    ``.`` or ``..`` is escaped too.

    Examples
    --------
    >>> file_name("seed0"), file_name("w-1"), file_name("a b"), file_name("a_b"), file_name("a--b")
    ('seed0', 'w-1', 'a%20b', 'a_b', 'a%2D%2Db')
    """
    text = str(name)
    out = []
    for k, ch in enumerate(text):
        dash_ok = (ch == "-" and 0 < k < len(text) - 1 and text[k - 1] != "-" and text[k + 1] != "-")
        if ch in _PLAIN or dash_ok:
            out.append(ch)
        else:
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass")))
    stem = "".join(out)
    if stem in ("", ".", ".."):
        stem = "".join(f"%{b:02X}" for b in text.encode("utf-8")) or "%"
    return stem


def legacy_name(name: Hashable) -> str:
    """The file-name stem runs used before :func:`file_name` (``a b`` and ``a_b`` both give ``a_b``)."""
    return _LEGACY.sub("_", str(name))
