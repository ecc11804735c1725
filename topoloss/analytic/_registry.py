"""The landscape registry :data:`LANDSCAPES` and ``get_landscape("name:key=value,...")``.

The built-in landscapes register themselves in :mod:`topoloss.analytic.functions`;
:func:`register_landscape` adds your own, which :func:`get_landscape`, the CLI and
``docs/registries.md`` then know like the built-ins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from topoloss._registry import Registry
from topoloss._specs import check_kwargs, check_name, describe, parse_spec
from topoloss.analytic.landscape import AnalyticLandscape
from topoloss.errors import InputError, InputTypeError

__all__ = [
    "LANDSCAPES",
    "LandscapeEntry",
    "LandscapeFactory",
    "available_landscapes",
    "get_landscape",
    "register_landscape",
]

#: ``factory(**kwargs) -> AnalyticLandscape``.
LandscapeFactory = Callable[..., AnalyticLandscape]


@dataclass(frozen=True)
class LandscapeEntry:
    """One registered analytic landscape.

    Parameters
    ----------
    factory : callable
        ``factory(**kwargs) -> AnalyticLandscape``; every argument has a default.
    description : str
        One line for the CLI and the docs.
    """

    factory: LandscapeFactory
    description: str


#: The registered landscapes; :func:`register_landscape` adds to it, the CLI and docs list it.
LANDSCAPES: Registry[LandscapeEntry] = Registry("landscape")


def register_landscape(
    name: str,
    factory: LandscapeFactory,
    *,
    description: str | None = None,
    replace: bool = False,
) -> None:
    """Add an analytic landscape to :data:`LANDSCAPES`.

    Parameters
    ----------
    name : str
        Registry name; lower case, without ``:``, ``,``, ``=`` or spaces.
    factory : callable
        ``factory(**kwargs) -> AnalyticLandscape``, callable without arguments
        (the default landscape); the keyword arguments are those a spec such as
        ``"name:key=value"`` may set.
    description : str, optional
        One line for the CLI and the docs; default: the first paragraph of the
        factory's docstring.
    replace : bool, default=False
        Replace an existing entry of that name instead of refusing it.

    Raises
    ------
    InputError
        For a malformed or already registered name, or a factory that is not
        callable.

    Examples
    --------
    >>> from topoloss.analytic import from_function
    >>> register_landscape(
    ...     "bowl", lambda scale=1.0: from_function(lambda x: scale * (x**2).sum(-1),
    ...                                             [(-1, 1), (-1, 1)], name="bowl"),
    ...     description="A quadratic bowl with one minimum at the origin.")
    >>> get_landscape("bowl:scale=2").dim
    2
    >>> LANDSCAPES.unregister("bowl")
    """
    check_name(name)
    if not callable(factory):
        raise InputError(f"factory={factory!r} is not callable")
    text = describe(factory) if description is None else " ".join(str(description).split())
    LANDSCAPES.register(name, LandscapeEntry(factory, text), replace=replace)


def available_landscapes() -> tuple[str, ...]:
    """Return the registered landscape names, in registration order (built-ins first).

    Returns
    -------
    tuple of str
        Names accepted by :func:`get_landscape`.
    """
    return LANDSCAPES.names()


def get_landscape(spec: str, **kwargs: Any) -> AnalyticLandscape:
    """Build a registered landscape from a name or a spec ``"name:key=value,..."``.

    The name is case-insensitive, and ``_`` may stand for ``-``; values are read by
    the parser that model specs use (``int``, ``float``, ``true``/``false``/``none``,
    else text).

    Parameters
    ----------
    spec : str
        E.g. ``"himmelblau"``, ``"rastrigin:dim=3"``, ``"sextic:barrier=0.25"``.
    **kwargs
        Further factory arguments (``bounds=...``); they override those of the spec.

    Returns
    -------
    AnalyticLandscape
        A new landscape.

    Raises
    ------
    InputError
        For an unknown name (the message lists the registered ones), a malformed
        spec, or an argument the factory does not take.
    TypeError
        If a registered factory returns something other than an
        :class:`AnalyticLandscape`.

    Examples
    --------
    >>> get_landscape("rastrigin:dim=3").dim
    3
    >>> round(get_landscape("sextic:barrier=0.25").barrier, 9)
    0.25
    """
    name, args = parse_spec(spec, example="rastrigin:dim=3")
    key = name if name in LANDSCAPES else name.replace("_", "-")
    if key not in LANDSCAPES:
        head = spec.strip().partition(":")[0].strip()
        raise InputError(
            f"unknown landscape {head!r} in spec={spec!r}; known: "
            f"{', '.join(available_landscapes())}"
        )
    entry = LANDSCAPES.get(key)
    args.update(kwargs)
    check_kwargs(f"landscape {key!r}", entry.factory, args)
    land = entry.factory(**args)
    if not isinstance(land, AnalyticLandscape):
        raise InputTypeError(
            f"the factory of landscape {key!r} returned a {type(land).__name__}, "
            "not an AnalyticLandscape (build one with topoloss.analytic.from_function)"
        )
    return land
