"""From the names in a configuration to objects: the landscape of a study.

``landscape = "himmelblau"`` names a registered analytic landscape; otherwise ``model``
(a zoo spec such as ``"fcn:depth=2,width=32"``, or ``"pkg.module:factory"``) and ``data``
(a registered dataset such as ``"digits"``, or ``"pkg.module:factory"`` returning
``(train, test)``) make a :class:`~topoloss.ModelLandscape`. A ``module:attr`` spec is
imported from the Python path as it is; the library never changes ``sys.path``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from torch import nn

from topoloss.config import StudyConfig
from topoloss.errors import InputError
from topoloss.landscapes.base import Landscape

__all__ = ["import_object", "is_import_spec", "make_landscape"]


def is_import_spec(spec: str) -> bool:
    """Whether ``spec`` names Python code (``pkg.module:attr``) rather than a registered name."""
    head, sep, _ = spec.partition(":")
    return bool(sep) and "." in head and "/" not in head and "\\" not in head


def import_object(spec: str, what: str) -> Any:
    """The object ``attr`` of ``module`` named by ``"module:attr"``."""
    module, _, attr = spec.partition(":")
    try:
        obj = importlib.import_module(module)
    except ImportError as exc:
        raise InputError(f"cannot import {what} module {module!r} from {spec!r}: {exc}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"{what} {spec!r}: module {module!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def _load_data(spec: str) -> tuple[Any, Any]:
    from topoloss.data import load_dataset

    if is_import_spec(spec):
        made = import_object(spec, "data")
        made = made() if callable(made) else made
        if isinstance(made, tuple) and len(made) == 2 and not hasattr(made[0], "shape"):
            return made
        return made, None
    return load_dataset(spec)


def _model_factory(spec: str, train: Any) -> Callable[[], nn.Module]:
    if is_import_spec(spec):
        factory = import_object(spec, "model")
        if not callable(factory):
            raise InputError(f"model {spec!r} is not callable")
        return factory  # type: ignore[no-any-return]
    from topoloss.data import dataset_info
    from topoloss.models import get_model

    info = getattr(train, "info", None) or dataset_info(train)
    get_model(spec, input_shape=info.input_shape, num_classes=info.num_classes)  # validate now
    return lambda: get_model(spec, input_shape=info.input_shape, num_classes=info.num_classes)


def make_landscape(config: StudyConfig) -> Landscape:
    """The landscape a study config names (see the module docstring)."""
    if config.landscape is not None:
        from topoloss.analytic import get_landscape

        return get_landscape(config.landscape)
    from topoloss.landscapes.model import ModelLandscape

    train, test = _load_data(config.data)
    factory = _model_factory(config.model, train)
    return ModelLandscape(factory, train, test_data=test, batch_size=config.batch_size, device=config.device)
