"""One registry style for everything that is chosen by name.

Curve families, analytic landscapes, datasets, models, pair planners and executors are
each a :class:`Registry`: ``register(name, obj, *, replace=False)`` adds an entry (a
duplicate name is refused unless ``replace=True``), ``get(name)`` returns it or raises
an :class:`~topoloss.errors.InputError` listing the choices, and ``names()`` gives the
choices that the CLI and the docs show.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from topoloss.errors import InputError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one kind.

    Parameters
    ----------
    kind : str
        What the entries are, for messages (``"curve family"``, ``"dataset"``, ...).

    Examples
    --------
    >>> shapes = Registry[int]("shape")
    >>> shapes.register("square", 4)
    >>> shapes.get("square")
    4
    >>> shapes.register("square", 5)
    Traceback (most recent call last):
    ...
    topoloss.errors.InputError: shape 'square' is already registered; pass replace=True to replace it
    >>> shapes.names()
    ('square',)
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str, obj: T, *, replace: bool = False) -> None:
        """Add ``obj`` under ``name``; an existing name needs ``replace=True``."""
        if not isinstance(name, str) or not name or name != name.strip():
            raise InputError(f"{self.kind} name {name!r}: expected a non-empty string without "
                             "surrounding spaces")
        if name in self._entries and not replace:
            raise InputError(f"{self.kind} {name!r} is already registered; pass replace=True "
                             "to replace it")
        self._entries[name] = obj

    def unregister(self, name: str) -> None:
        """Remove ``name`` (tests and plugins that clean up after themselves)."""
        self.get(name)
        del self._entries[name]

    def get(self, name: str) -> T:
        """The entry called ``name``; :class:`InputError` listing the choices otherwise."""
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise InputError(f"unknown {self.kind} {name!r}; choose one of "
                             f"{', '.join(self.names()) or '(none registered)'}") from None

    def names(self) -> tuple[str, ...]:
        """Registered names, in registration order."""
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self.names())})"
