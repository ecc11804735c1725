"""The model registry :data:`MODELS`, and the ``name:key=value,...`` spec syntax of models."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from topoloss._registry import Registry
from topoloss._specs import (
    check_kwargs,
    check_name,
    describe,
    parse_spec,
    required_kwargs,
)
from topoloss.errors import InputError
from topoloss.models.cnn import cnn
from topoloss.models.fcn import fcn
from topoloss.models.gpt import gpt
from topoloss.models.resnet import paper_resnet, resnet

__all__ = [
    "MODELS",
    "ModelEntry",
    "SizeAdapter",
    "available_models",
    "get_model",
    "parse_model_spec",
    "register_model",
]

#: Maps ``(input_shape, num_classes)`` of a dataset to builder keyword arguments.
SizeAdapter = Callable[[tuple[int, ...], int], dict[str, Any]]


@dataclass(frozen=True)
class ModelEntry:
    """One registered model.

    Parameters
    ----------
    builder : callable
        Returns a fresh :class:`torch.nn.Module` from keyword arguments.
    adapter : callable or None
        ``adapter(input_shape, num_classes) -> dict`` of builder arguments that size
        the model to a dataset; ``None`` if the model cannot be sized that way.
    description : str
        One line for the CLI and the docs.
    """

    builder: Callable[..., nn.Module]
    adapter: SizeAdapter | None
    description: str


def _image_args(shape: tuple[int, ...], num_classes: int) -> dict[str, Any]:
    if len(shape) != 3 or shape[1] != shape[2]:
        raise InputError(f"input_shape={shape} is not (channels, size, size) of square images")
    return {"in_channels": shape[0], "image_size": shape[1], "num_classes": num_classes}


def _resnet_args(shape: tuple[int, ...], num_classes: int) -> dict[str, Any]:
    args = _image_args(shape, num_classes)
    del args["image_size"]  # global average pooling: any size
    return args


def _fcn_args(shape: tuple[int, ...], num_classes: int) -> dict[str, Any]:
    return {"in_features": math.prod(shape), "num_classes": num_classes}


def _gpt_args(shape: tuple[int, ...], num_classes: int) -> dict[str, Any]:
    if len(shape) != 1:
        raise InputError(f"input_shape={shape} is not (block_size,) of a token sequence")
    return {"block_size": shape[0], "vocab_size": num_classes}


#: The registered models; :func:`register_model` adds to it, the CLI and docs list it.
MODELS: Registry[ModelEntry] = Registry("model")

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
    return tuple(sorted(MODELS.names()))


def register_model(
    name: str,
    builder: Callable[..., nn.Module],
    *,
    adapter: SizeAdapter | None = None,
    description: str | None = None,
    replace: bool = False,
) -> None:
    """Add a model builder to :data:`MODELS`.

    Parameters
    ----------
    name : str
        Registry name; lower case, without ``:``, ``,``, ``=`` or spaces.
    builder : callable
        Returns a fresh :class:`torch.nn.Module` from keyword arguments.
    adapter : callable, optional
        ``adapter(input_shape, num_classes) -> dict`` of builder keyword arguments
        that size the model to a dataset (used by :func:`get_model`).
    description : str, optional
        One line for the CLI and the docs; default: the first paragraph of the
        builder's docstring.
    replace : bool, default=False
        Replace an existing entry of that name instead of refusing it.

    Raises
    ------
    InputError
        For a malformed or already registered name, or a builder or adapter that
        is not callable.

    Examples
    --------
    >>> from torch import nn
    >>> def tiny(in_features: int, num_classes: int, *, hidden: int = 3) -> nn.Module:
    ...     "Two linear layers."
    ...     return nn.Sequential(nn.Linear(in_features, hidden), nn.Linear(hidden, num_classes))
    >>> register_model("tiny", tiny, adapter=lambda shape, k: {"in_features": shape[0],
    ...                                                         "num_classes": k})
    >>> get_model("tiny:hidden=4", input_shape=(6,), num_classes=2)[0].out_features
    4
    >>> MODELS.unregister("tiny")
    """
    check_name(name)
    if not callable(builder):
        raise InputError(f"builder={builder!r} is not callable")
    if adapter is not None and not callable(adapter):
        raise InputError(f"adapter={adapter!r} is not callable")
    text = describe(builder) if description is None else " ".join(str(description).split())
    MODELS.register(name, ModelEntry(builder, adapter, text), replace=replace)


for _name, _builder, _adapter in (
    ("fcn", fcn, _fcn_args),
    ("cnn", cnn, _image_args),
    ("resnet", resnet, _resnet_args),
    ("paper-resnet", paper_resnet, _image_args),
    ("gpt", gpt, _gpt_args),
):
    register_model(_name, _builder, adapter=_adapter)
del _name, _builder, _adapter


def _check_model_kwargs(name: str, kwargs: dict[str, Any]) -> None:
    check_kwargs(f"model {name!r}", MODELS.get(name).builder, kwargs)

def parse_model_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split a model spec ``"name:key=value,key=value"`` into name and keyword arguments.

    Values are read as ``true``/``false``/``none``, then ``int``, then ``float``, else
    kept as strings (the parser all spec strings share: landscapes use it too). The name
    is case-insensitive and may be one of the paper's
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
    InputError
        For an unknown name (the message lists the known ones), a malformed
        ``key=value`` item, a repeated key, or a key the builder does not take.

    Examples
    --------
    >>> parse_model_spec("fcn:depth=3,width=32")
    ('fcn', {'depth': 3, 'width': 32})
    >>> parse_model_spec("ResNet-56-NS")
    ('resnet', {'depth': 56, 'skip': False})
    """
    name, explicit = parse_spec(spec, example="fcn:depth=3,width=32")
    kwargs: dict[str, Any] = {}
    if name not in MODELS:
        for pattern, expand in _ALIASES:
            match = pattern.fullmatch(name)
            if match:
                name, kwargs = expand(match)
                break
        else:
            head = spec.strip().partition(":")[0].strip()
            raise InputError(
                f"unknown model {head!r} in spec={spec!r}; known: "
                f"{', '.join(available_models())} (or the paper's names such as "
                "CNN-2-64, CNN-1-32-BN, ResNet-20-NS, WideResNet-56-2)"
            )
    clash = sorted(k for k in explicit if k in kwargs and explicit[k] != kwargs[k])
    if clash:
        raise InputError(f"spec={spec!r} sets {clash} both in its name and as key=value")
    kwargs.update(explicit)
    _check_model_kwargs(name, kwargs)
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
    InputError
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
    entry = MODELS.get(name)
    if input_shape is None:
        if num_classes is not None:  # a plain builder argument then
            args["num_classes"] = num_classes
    elif num_classes is None:
        raise InputError(f"{input_shape=} needs num_classes too")
    else:
        if entry.adapter is None:
            raise InputError(f"model {name!r} was registered without a size adapter")
        shape = tuple(int(s) for s in input_shape)
        for key, value in entry.adapter(shape, int(num_classes)).items():
            if key in args and args[key] != value:
                raise InputError(
                    f"{key}={args[key]!r} contradicts {input_shape=} and "
                    f"{num_classes=} (which give {key}={value!r})"
                )
            args[key] = value
    _check_model_kwargs(name, args)
    missing = required_kwargs(entry.builder) - set(args)
    if missing:
        raise InputError(
            f"model {name!r} needs {sorted(missing)}; pass them, or input_shape= and "
            "num_classes= (e.g. from topoloss.data.dataset_info)"
        )
    return entry.builder(**args)
