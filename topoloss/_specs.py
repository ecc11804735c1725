"""The ``name:key=value,...`` spec strings that name a model, a landscape or a dataset.

One parser for every registry that takes arguments in its spec: :func:`parse_spec`
splits the name from its keyword arguments and reads the values; :func:`check_name`
holds registered names to a form the parser can give back; :func:`check_kwargs`
refuses arguments a factory does not take; :func:`describe` and
:func:`signature_text` give the one-line description and the argument list that the
CLI and ``docs/registries.md`` show.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from topoloss.errors import InputError

__all__ = [
    "accepted_kwargs",
    "check_kwargs",
    "check_name",
    "describe",
    "parse_spec",
    "parse_value",
    "required_kwargs",
    "signature_text",
]

_KEYWORD = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def parse_value(text: str) -> Any:
    """Read one spec value: ``true``/``false``/``none`` (any case), an int, a float, else the text.

    >>> parse_value("3"), parse_value("0.25"), parse_value("True"), parse_value("tanh")
    (3, 0.25, True, 'tanh')
    """
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "none":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_spec(spec: str, *, example: str = "name:key=value") -> tuple[str, dict[str, Any]]:
    """Split ``"name:key=value,key=value"`` into the lower-cased name and its arguments.

    Spaces around the name, the keys and the values are ignored; values are read by
    :func:`parse_value`.

    Parameters
    ----------
    spec : str
        The spec string.
    example : str, default="name:key=value"
        A valid spec of the caller's kind, shown when ``spec`` is empty.

    Returns
    -------
    name : str
        The part before the first ``:``, stripped and lower-cased (not checked
        against any registry).
    kwargs : dict
        The arguments, in their order in ``spec``.

    Raises
    ------
    InputError
        If ``spec`` is not a non-empty string, an item is not ``key=value`` with an
        identifier as key, or a key appears twice.

    Examples
    --------
    >>> parse_spec("FCN: depth=3, width=32, batch_norm=true")
    ('fcn', {'depth': 3, 'width': 32, 'batch_norm': True})
    >>> parse_spec("sextic")
    ('sextic', {})
    """
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"spec={spec!r} must be a non-empty string like {example!r}")
    head, _, tail = spec.strip().partition(":")
    kwargs: dict[str, Any] = {}
    for item in filter(None, (s.strip() for s in tail.split(","))):
        key, eq, value = (s.strip() for s in item.partition("="))
        if not eq or not key.isidentifier():
            raise InputError(f"item {item!r} of spec={spec!r} is not of the form key=value")
        if key in kwargs:
            raise InputError(f"key {key!r} appears twice in spec={spec!r}")
        kwargs[key] = parse_value(value)
    return head.strip().lower(), kwargs


def check_name(name: Any) -> str:
    """``name`` if a spec can name it: a non-empty lower-case word without ``:``, ``,``, ``=``.

    Raises
    ------
    InputError
        Naming the offending ``name=``.
    """
    if not isinstance(name, str) or not name or re.search(r"[:,=\s]", name) or name != name.lower():
        raise InputError(f"name={name!r} must be a non-empty lower-case word without ':,=' or spaces")
    return name


def _parameters(fn: Callable[..., Any]) -> list[inspect.Parameter]:
    try:
        return list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # a builtin without a signature: take anything
        return [inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)]


def accepted_kwargs(fn: Callable[..., Any]) -> tuple[set[str], bool]:
    """The keyword argument names ``fn`` takes, and whether it takes ``**kwargs`` too."""
    params = _parameters(fn)
    var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    return {p.name for p in params if p.kind in _KEYWORD}, var_kw


def required_kwargs(fn: Callable[..., Any]) -> set[str]:
    """The arguments of ``fn`` without a default."""
    return {
        p.name
        for p in _parameters(fn)
        if p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    }


def check_kwargs(what: str, fn: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    """Refuse keyword arguments that ``fn`` does not take.

    Parameters
    ----------
    what : str
        The entry, for the message (``"model 'fcn'"``).
    fn : callable
        The factory the arguments are for.
    kwargs : dict
        The arguments.

    Raises
    ------
    InputError
        ``"{what} takes no argument(s) [...]; it accepts [...]"``.
    """
    names, var_kw = accepted_kwargs(fn)
    unknown = sorted(set(kwargs) - names)
    if unknown and not var_kw:
        raise InputError(f"{what} takes no argument(s) {unknown}; it accepts {sorted(names)}")


def describe(obj: Any) -> str:
    """The first paragraph of ``obj``'s docstring on one line (``""`` without one).

    reST markup becomes Markdown's: ``:func:`x``` and double backquotes give `` `x` ``.

    >>> def f():
    ...     '''Wraps :func:`numpy.sum` of ``x``.
    ...
    ...     More text.'''
    >>> describe(f)
    'Wraps `numpy.sum` of `x`.'
    """
    doc = inspect.getdoc(obj) or ""
    text = " ".join(doc.split("\n\n", 1)[0].split())
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"`\1`", text)
    return re.sub(r"``([^`]+)``", r"`\1`", text)


def signature_text(fn: Callable[..., Any], *, skip: tuple[str, ...] = ()) -> str:
    """The keyword arguments of ``fn`` as ``"a, b=1, c='x'"`` (``**kwargs`` as such).

    Parameters
    ----------
    fn : callable
        A factory.
    skip : tuple of str
        Arguments left out (those a registry fills itself, such as a dataset's ``root``).
    """
    out = []
    for p in _parameters(fn):
        if p.name in skip or p.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            out.append(f"**{p.name}")
        elif p.default is inspect.Parameter.empty:
            out.append(p.name)
        else:
            out.append(f"{p.name}={p.default!r}")
    return ", ".join(out)
