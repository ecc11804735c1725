"""The machinery of the configuration's sections (:mod:`topoloss.config`).

:func:`_opt` declares a field with its help text and metadata; :class:`_Section` gives a
section dataclass its dict round trip (``to_dict``/``from_dict``, unknown keys named)
and a validated ``replace``, with errors naming the section. It knows no section: a
section converts what a file holds (a curve spec) in its ``_convert`` hook.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import field, fields
from typing import Any, ClassVar

from topoloss.errors import InputError

__all__: list[str] = []


def _opt(default: Any, help: str, **meta: Any) -> Any:  # noqa: A002 - mirrors argparse
    return field(default=default, metadata={"help": help, **meta})


class _Section:
    """Shared behaviour of the config dataclasses: dict round trip and validation."""

    _name: str = ""
    __dataclass_fields__: ClassVar[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (curves and sections as their ``to_dict()``, tuples as lists)."""
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if callable(getattr(value, "to_dict", None)):  # a curve or a nested section
                value = value.to_dict()
            elif isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None = None) -> Any:
        """Build from a mapping (a config file's table); unknown keys are named in the error."""
        data = {} if data is None else data
        where = f"[{cls._name}] " if cls._name else ""
        if not isinstance(data, Mapping):
            raise InputError(f"config {where.strip() or 'file'} must be a table of keys, got "
                             f"{type(data).__name__}")
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        for key in data:
            if key not in known:
                raise InputError(f"unknown config key {where}{key!r}; known keys: {', '.join(sorted(known))}")
        values = dict(data)
        try:
            cls._convert(values)
            return cls(**values)
        except InputError as exc:
            raise type(exc)(f"{where}{exc}") from None

    @classmethod
    def _convert(cls, values: dict[str, Any]) -> None:
        """Turn values read from a file into field values, in place (a section's hook)."""

    def replace(self, **changes: Any) -> Any:
        """A copy with ``changes`` (validated again; errors name the section)."""
        try:
            return dataclasses.replace(self, **changes)  # type: ignore[type-var]
        except InputError as exc:
            if not self._name or str(exc).startswith("["):
                raise
            raise type(exc)(f"[{self._name}] {exc}") from None
