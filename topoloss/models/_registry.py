"""Name -> builder registry of the model zoo, and the ``name:key=value,...`` spec syntax."""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from topoloss.models.cnn import cnn
from topoloss.models.fcn import fcn
from topoloss.models.gpt import gpt
from topoloss.models.resnet import paper_resnet, resnet

__all__ = ["available_models", "get_model", "parse_model_spec", "register_model"]

#: Maps ``(input_shape, num_classes)`` of a dataset to builder keyword arguments.
SizeAdapter = Callable[[tuple[int, ...], int], dict[str, Any]]


@dataclass(frozen=True)
class _Entry:
    builder: Callable[..., nn.Module]
    adapter: SizeAdapter | None


def _image_args(shape: tuple[int, ...], num_classes: int) -> dict[str, Any]:
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"input_shape={shape} is not (channels, size, size) of square images")
    return {"in_channels": shape[0], "image_size": shape[1], "num_classes": num_classes}


def _resnet_args(shape: tuple[int, ...], num_classes: int) -> dict[str, Any]:
    args = _image_args(shape, num_classes)
    del args["image_size"]  # global average pooling: any size
    return args


def _fcn_args(shape: tuple[int, ...], num_classes: int) -> dict[str, Any]:
    return {"in_features": math.prod(shape), "num_classes": num_classes}


def _gpt_args(shape: tuple[int, ...], num_classes: int) -> dict[str, Any]:
    if len(shape) != 1:
        raise ValueError(f"input_shape={shape} is not (block_size,) of a token sequence")
    return {"block_size": shape[0], "vocab_size": num_classes}


_REGISTRY: dict[str, _Entry] = {
    "fcn": _Entry(fcn, _fcn_args),
    "cnn": _Entry(cnn, _image_args),
    "resnet": _Entry(resnet, _resnet_args),
    "paper-resnet": _Entry(paper_resnet, _image_args),
    "gpt": _Entry(gpt, _gpt_args),
}

# The paper's model names, e.g. CNN-2-64, CNN-1-32-BN, ResNet-56-NS, WideResNet-56-2-NS.
_ALIASES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[str, dict[str, Any]]]]] = [
    (
        re.compile(r"cnn-?(\d+)-(\d+)(-bn)?"),
        lambda m: ("cnn", {"n_layers": int(m[1]), "channels": int(m[2]), "batch_norm": bool(m[3])}),
    ),
    (
        re.compile(r"resnet-?(\d+)(-ns)?"),
        lambda m: ("resnet", {"depth": int(m[1]), "skip": not m[2]}),
    ),
    (
        re.compile(r"wideresnet-?(\d+)-(\d+)(-ns)?"),
        lambda m: ("resnet", {"depth": int(m[1]), "width": int(m[2]), "skip": not m[3]}),
    ),
]


def available_models() -> tuple[str, ...]:
    """Return the registered model names, sorted.

    Returns
    -------
    tuple of str
        Names accepted by :func:`get_model` (the paper's names such as ``CNN-2-64``,
        ``ResNet-20-NS`` or ``WideResNet-56-2`` are accepted too).
    """
    return tuple(sorted(_REGISTRY))


def register_model(
    name: str, builder: Callable[..., nn.Module], *, adapter: SizeAdapter | None = None
) -> None:
    """Add a model builder to the registry.

    Parameters
    ----------
    name : str
        Registry name; lower case, without ``:``, ``,`` or ``=``.
    builder : callable
        Returns a fresh :class:`torch.nn.Module` from keyword arguments.
    adapter : callable, optional
        ``adapter(input_shape, num_classes) -> dict`` of builder keyword arguments
        that size the model to a dataset (used by :func:`get_model`).
    """
    if not isinstance(name, str) or not name or re.search(r"[:,=\s]", name) or name != name.lower():
        raise ValueError(f"name={name!r} must be a non-empty lower-case word without ':,='")
    if name in _REGISTRY:
        raise ValueError(f"name={name!r} is already registered")
    if not callable(builder):
        raise ValueError(f"builder={builder!r} is not callable")
    _REGISTRY[name] = _Entry(builder, adapter)


def _parse_value(text: str) -> Any:
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


def _accepted(builder: Callable[..., nn.Module]) -> tuple[set[str], bool]:
    params = inspect.signature(builder).parameters.values()
    var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    names = {
        p.name
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    return names, var_kw


def _required(builder: Callable[..., nn.Module]) -> set[str]:
    return {
        p.name
        for p in inspect.signature(builder).parameters.values()
        if p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    }


def _check_kwargs(name: str, kwargs: dict[str, Any]) -> None:
    names, var_kw = _accepted(_REGISTRY[name].builder)
    unknown = sorted(set(kwargs) - names)
    if unknown and not var_kw:
        raise ValueError(
            f"model {name!r} takes no argument(s) {unknown}; it accepts {sorted(names)}"
        )


def parse_model_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split a model spec ``"name:key=value,key=value"`` into name and keyword arguments.

    Values are read as ``int``, then ``float``, then ``true``/``false``/``none``, else
    kept as strings. The name is case-insensitive and may be one of the paper's
    names (``CNN-2-64``, ``CNN-1-32-BN``, ``ResNet-20-NS``, ``WideResNet-56-2``),
    which expand to a registered name plus arguments.

    Parameters
    ----------
    spec : str
        The spec, e.g. ``"fcn:depth=3,width=32"`` or ``"resnet-20-ns:width=2"``.

    Returns
    -------
    name : str
        A name from :func:`available_models`.
    kwargs : dict
        Builder keyword arguments.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones), a malformed
        ``key=value`` item, a repeated key, or a key the builder does not take.

    Examples
    --------
    >>> parse_model_spec("fcn:depth=3,width=32")
    ('fcn', {'depth': 3, 'width': 32})
    >>> parse_model_spec("ResNet-56-NS")
    ('resnet', {'depth': 56, 'skip': False})
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"spec={spec!r} must be a non-empty string like 'fcn:depth=3,width=32'")
    head, _, tail = spec.strip().partition(":")
    name = head.strip().lower()
    kwargs: dict[str, Any] = {}
    if name not in _REGISTRY:
        for pattern, expand in _ALIASES:
            match = pattern.fullmatch(name)
            if match:
                name, kwargs = expand(match)
                break
        else:
            raise ValueError(
                f"unknown model {head.strip()!r} in spec={spec!r}; known models: "
                f"{', '.join(available_models())} (or the paper's names such as "
                "CNN-2-64, CNN-1-32-BN, ResNet-20-NS, WideResNet-56-2)"
            )
    explicit: dict[str, Any] = {}
    for item in filter(None, (s.strip() for s in tail.split(","))):
        key, eq, value = (s.strip() for s in item.partition("="))
        if not eq or not key.isidentifier():
            raise ValueError(f"item {item!r} of spec={spec!r} is not of the form key=value")
        if key in explicit:
            raise ValueError(f"key {key!r} appears twice in spec={spec!r}")
        explicit[key] = _parse_value(value)
    clash = sorted(k for k in explicit if k in kwargs and explicit[k] != kwargs[k])
    if clash:
        raise ValueError(f"spec={spec!r} sets {clash} both in its name and as key=value")
    kwargs.update(explicit)
    _check_kwargs(name, kwargs)
    return name, kwargs


def get_model(
    spec: str,
    *,
    input_shape: Sequence[int] | None = None,
    num_classes: int | None = None,
    **kwargs: Any,
) -> nn.Module:
    """Build a zoo model from a name or spec, optionally sized to a dataset.

    Parameters
    ----------
    spec : str
        A registered name or a spec for :func:`parse_model_spec`, e.g. ``"cnn"``,
        ``"fcn:depth=3,width=32"``, ``"ResNet-20-NS"``.
    input_shape : sequence of int, optional
        Shape of one input sample (``DatasetInfo.input_shape``); sets the input
        arguments of the builder (``in_features``; ``in_channels`` and
        ``image_size``; or ``block_size`` for ``gpt``) together with
        ``num_classes``.
    num_classes : int, optional
        Number of classes (the vocabulary size for ``gpt``). Without
        ``input_shape`` it is passed on as the builder's ``num_classes``.
    **kwargs
        Further builder arguments; they override those of the spec.

    Returns
    -------
    torch.nn.Module
        A freshly initialized model.

    Raises
    ------
    ValueError
        For an unknown model or argument, or when ``input_shape``/``num_classes``
        contradict an explicit argument.

    Examples
    --------
    >>> net = get_model("fcn:depth=1,width=8", input_shape=(1, 8, 8), num_classes=10)
    >>> net[1].in_features
    64
    """
    name, args = parse_model_spec(spec)
    args.update(kwargs)
    if input_shape is None:
        if num_classes is not None:  # a plain builder argument then
            args["num_classes"] = num_classes
    elif num_classes is None:
        raise ValueError(f"{input_shape=} needs num_classes too")
    else:
        adapter = _REGISTRY[name].adapter
        if adapter is None:
            raise ValueError(f"model {name!r} was registered without a size adapter")
        shape = tuple(int(s) for s in input_shape)
        for key, value in adapter(shape, int(num_classes)).items():
            if key in args and args[key] != value:
                raise ValueError(
                    f"{key}={args[key]!r} contradicts {input_shape=} and "
                    f"{num_classes=} (which give {key}={value!r})"
                )
            args[key] = value
    _check_kwargs(name, args)
    missing = _required(_REGISTRY[name].builder) - set(args)
    if missing:
        raise ValueError(
            f"model {name!r} needs {sorted(missing)}; pass them, or input_shape= and "
            "num_classes= (e.g. from topoloss.data.dataset_info)"
        )
    return _REGISTRY[name].builder(**args)
