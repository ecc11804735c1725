"""Which configurations a run directory accepts: the part of a config a resume must match,
and the keys that differ when it does not (:class:`~topoloss.engine.store.Run`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from topoloss._layout import RunLayout
from topoloss.config import SESSION_OPTIONS, with_added_defaults
from topoloss.errors import CorruptResult

__all__ = ["canonical", "diff_keys", "fixed", "read_config"]


def canonical(config: Mapping[str, Any]) -> str:
    """The text two configs are compared by (keys sorted)."""
    return json.dumps(config, sort_keys=True, default=str)


def fixed(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` without the :data:`~topoloss.config.SESSION_OPTIONS`: the part a resume must match."""
    out = dict(config)
    for section, key in SESSION_OPTIONS:
        if isinstance(out.get(section), Mapping) and key in out[section]:
            out[section] = {k: v for k, v in out[section].items() if k != key}
    return out


def diff_keys(a: Mapping[str, Any], b: Mapping[str, Any], prefix: str = "") -> list[str]:
    """``key: old -> new`` for every (nested) key where ``a`` and ``b`` differ."""
    out = []
    for key in sorted(set(a) | set(b), key=str):
        va, vb = a.get(key, "<absent>"), b.get(key, "<absent>")
        if isinstance(va, Mapping) and isinstance(vb, Mapping):
            out += diff_keys(va, vb, f"{prefix}{key}.")
        elif canonical({"v": va}) != canonical({"v": vb}):
            out.append(f"{prefix}{key}: {va!r} -> {vb!r}")
    return out


def read_config(layout: RunLayout) -> dict[str, Any] | None:
    """The stored config (with the defaults added since it was written), or ``None``.

    Raises
    ------
    CorruptResult
        ``config.json`` is not valid JSON.
    """
    p = layout.config
    if not p.exists():
        return None
    try:
        return with_added_defaults(json.loads(p.read_text()))
    except json.JSONDecodeError as exc:
        raise CorruptResult(f"{p}: unreadable config ({exc}); start afresh with --new (the run is moved "
                            f"aside, nothing is deleted) or give another --run") from None
