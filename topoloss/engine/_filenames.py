"""File names for minima in a run directory: :func:`file_name` and :func:`legacy_name`.

They are part of the run directory's layout, which lives at the bottom of the package so
that every layer can read it (:mod:`topoloss._layout`); the implementation is
:mod:`topoloss._filenames`, re-exported here.
"""

from __future__ import annotations

from topoloss._filenames import file_name, legacy_name

__all__ = ["file_name", "legacy_name"]
