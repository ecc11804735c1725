"""Deprecated alias of :mod:`topoloss.engine.factories` (a config's names to a landscape).

``topoloss.engine.specs`` shared its name with :mod:`topoloss._specs` (the spec-string
syntax) but not its job; importing it warns and gives the same objects as
:mod:`topoloss.engine.factories`.
"""

from __future__ import annotations

import warnings

from topoloss.engine.factories import (
    analytic_landscape,
    import_object,
    is_import_spec,
    make_landscape,
    user_code,
)

__all__ = ["analytic_landscape", "import_object", "is_import_spec", "make_landscape", "user_code"]

warnings.warn("topoloss.engine.specs is deprecated: import from topoloss.engine.factories instead",
              DeprecationWarning, stacklevel=2)
