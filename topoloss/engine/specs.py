"""From the names in a configuration to objects: the landscape of a study.

``landscape = "himmelblau"`` names a registered analytic landscape; otherwise ``model``
(a zoo spec such as ``"fcn:depth=2,width=32"``) and ``data`` (a registered dataset such
as ``"digits"``) make a :class:`~topoloss.ModelLandscape`. Both may also name your own
code (:func:`is_import_spec`):

- ``module:attr``: ``attr`` of a module. The module is looked for first as
  ``module.py`` (or the package ``module/``) in the working directory, then on the
  Python path; dotted names (``pkg.mod:attr``) work the same way.
- ``path/to/file.py:attr``: ``attr`` of that file, imported by its location.

A name that is both registered and importable means the registered one: ``digits:...``
is always the built-in dataset, whatever ``digits.py`` lies around. Neither form changes
``sys.path``.

Importing code runs it. :func:`user_code` says which specs of a config would import
code, so that a caller can refuse to do so for a config it did not get from the user.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from torch import nn

from topoloss.config import StudyConfig
from topoloss.errors import InputError
from topoloss.landscapes.base import Landscape

__all__ = [
    "analytic_landscape", "import_object", "is_import_spec", "make_landscape", "user_code"]

Kind = Literal["model", "data"]
_FORMS = ("name your own code as module:attr (module.py in the working directory, or an importable "
          "module) or path/to/file.py:attr")


def _builtin(head: str, kind: Kind) -> bool:
    from topoloss.data.spec import DATASETS
    from topoloss.models._registry import MODELS

    registry: Any = MODELS if kind == "model" else DATASETS
    return head in registry or head.strip().lower() in registry


def _registered(kind: Kind) -> str:
    if kind == "model":
        from topoloss.models import available_models as names
    else:
        from topoloss.data import available_datasets as names
    return ", ".join(names())


def is_import_spec(spec: str, kind: Kind | None = None) -> bool:
    """Whether ``spec`` names Python code rather than a registered name.

    ``path/file.py:attr`` always does; ``module:attr`` does when ``module`` is a
    (dotted) Python name and, with ``kind`` given, not a registered model (resp.
    dataset) name: a registered name wins.

    Examples
    --------
    >>> is_import_spec("mynets:make_net"), is_import_spec("nets/small.py:make")
    (True, True)
    >>> is_import_spec("fcn:depth=2", "model"), is_import_spec("digits", "data")
    (False, False)
    """
    if not isinstance(spec, str):
        return False
    if ".py:" in spec:
        return True
    head, sep, attr = spec.partition(":")
    if not sep or not all(part.isidentifier() for part in head.split(".")):
        return False
    if not all(part.isidentifier() for part in attr.split(".")):
        return False
    return kind is None or not _builtin(head, kind)


def _import_file(file: str, spec: str, what: str) -> ModuleType:
    path = Path(file).expanduser()
    if not path.is_file():
        raise InputError(f"{what} {spec!r}: file {file} not found")
    name = f"_topoloss_user_{abs(hash(str(path.resolve())))}_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    found = importlib.util.spec_from_file_location(name, path)
    if found is None or found.loader is None:
        raise InputError(f"{what} {spec!r}: cannot import {file}")
    return _execute(name, found)


def _execute(name: str, found: importlib.machinery.ModuleSpec) -> ModuleType:
    """Import the module ``found`` describes under ``name`` (removed again if it fails)."""
    assert found.loader is not None
    module = importlib.util.module_from_spec(found)
    sys.modules[name] = module
    try:
        found.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _import_module(name: str, spec: str, what: Kind) -> ModuleType:
    top = name.split(".")[0]
    if top not in sys.modules:
        local = importlib.machinery.PathFinder.find_spec(top, [os.getcwd()])
        if local is not None and local.loader is not None:
            _execute(top, local)
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        noun = "dataset" if what == "data" else what
        raise InputError(f"{what} {spec!r}: cannot import module {name!r} ({exc}); it is no registered "
                         f"{noun} either (registered: {_registered(what)}); {_FORMS}") from None


def import_object(spec: str, what: Kind) -> Any:
    """The object ``attr`` named by ``"module:attr"`` or ``"path/to/file.py:attr"`` (this imports,
    that is runs, the module)."""
    if ".py:" in spec:
        cut = spec.rindex(".py:") + 3
        source, attr = spec[:cut], spec[cut + 1:]
        obj: Any = _import_file(source, spec, what)
    else:
        source, _, attr = spec.partition(":")
        obj = _import_module(source, spec, what)
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"{what} {spec!r}: {source} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def user_code(config: StudyConfig) -> list[str]:
    """The specs of ``config`` that import code (``["model=mynets:make_net", ...]``), in order."""
    if config.landscape is not None:
        return []
    out = []
    for key in ("model", "data"):
        value = getattr(config, key)
        if is_import_spec(value, key):  # type: ignore[arg-type]
            out.append(f"{key}={value}")
    return out


def _unknown(exc: InputError, spec: str, kind: Kind) -> InputError:
    head = spec.partition(":")[0]
    if _builtin(head, kind):
        return exc
    return InputError(f"{exc}; or {_FORMS}")


def _load_data(spec: str) -> tuple[Any, Any]:
    from topoloss.data import load_dataset

    if is_import_spec(spec, "data"):
        made = import_object(spec, "data")
        made = made() if callable(made) else made
        if isinstance(made, tuple) and len(made) == 2 and not hasattr(made[0], "shape"):
            return made
        return made, None
    try:
        return load_dataset(spec)
    except InputError as exc:
        raise _unknown(exc, spec, "data") from None


def _model_factory(spec: str, train: Any) -> Callable[[], nn.Module]:
    if is_import_spec(spec, "model"):
        factory = import_object(spec, "model")
        if not callable(factory):
            raise InputError(f"model {spec!r} is not callable")
        return factory  # type: ignore[no-any-return]
    from topoloss.data import dataset_info
    from topoloss.models import get_model

    info = getattr(train, "info", None) or dataset_info(train)
    try:
        get_model(spec, input_shape=info.input_shape, num_classes=info.num_classes)  # validate now
    except InputError as exc:
        raise _unknown(exc, spec, "model") from None
    return lambda: get_model(spec, input_shape=info.input_shape, num_classes=info.num_classes)


def make_landscape(config: StudyConfig) -> Landscape:
    """The landscape a study config names (see the module docstring)."""
    if config.landscape is not None:
        from topoloss.analytic import get_landscape

        return get_landscape(config.landscape)
    from topoloss.landscapes.model import ModelLandscape

    train, test = _load_data(config.data)
    factory = _model_factory(config.model, train)
    return ModelLandscape(factory, train, test_data=test, batch_size=config.batch_size, device=config.device,
                          **_loss_for(train))


def _loss_for(train: Any) -> dict[str, Any]:
    """Next-token data (a target per position, e.g. ``text``) get the sequence
    cross-entropy; class labels keep the default cross-entropy."""
    import torch

    target = train[0][1] if len(train) else None
    if target is not None and torch.as_tensor(target).ndim == 1:
        from topoloss.models import sequence_cross_entropy

        return {"loss": sequence_cross_entropy}
    return {}


def analytic_landscape(
    spec: str | None,
    *,
    bounds: Sequence[tuple[float, float]] | None = None,
    coeffs: Sequence[float] | None = None,
) -> Any:
    """An analytic landscape from the command line: a registered spec, user code, or a polynomial.

    Parameters
    ----------
    spec : str or None
        A registered landscape (``"himmelblau"``, ``"rastrigin:dim=3"``); or user code,
        ``module:attr`` / ``path/to/file.py:attr``, naming an
        :class:`~topoloss.analytic.AnalyticLandscape`, a function returning one, or a
        function ``f(points (B, d)) -> (B,)`` of torch tensors (then ``bounds`` is
        required); ``None`` with ``coeffs``.
    bounds : sequence of (low, high), optional
        The box of a user function (one pair per variable), or of the polynomial.
    coeffs : sequence of float, optional
        A polynomial in one variable, ``sum_k coeffs[k] x**k``.

    Raises
    ------
    InputError
        Naming what is missing or wrong.

    Examples
    --------
    >>> analytic_landscape(None, coeffs=[0, 0, -1, 0, 1], bounds=[(-2, 2)]).dim
    1
    """
    from topoloss.analytic import LANDSCAPES, from_function, get_landscape, polynomial
    from topoloss.analytic.landscape import AnalyticLandscape

    if coeffs is not None:
        if spec is not None:
            raise InputError("give a landscape spec or --coeffs, not both")
        if bounds is not None and len(bounds) != 1:
            raise InputError(f"a polynomial has one variable: --bounds takes one LOW,HIGH pair, got {len(bounds)}")
        if bounds:
            return polynomial(tuple(float(c) for c in coeffs), (float(bounds[0][0]), float(bounds[0][1])))
        return polynomial(tuple(float(c) for c in coeffs))
    if spec is None:
        raise InputError("give a landscape spec (see `topoloss exact --list`) or --coeffs")
    head = spec.partition(":")[0].strip().lower()
    if head in LANDSCAPES or head.replace("_", "-") in LANDSCAPES or not is_import_spec(spec):
        return get_landscape(spec, **({"bounds": [(float(b[0]), float(b[1])) for b in bounds]} if bounds else {}))
    obj = import_object(spec, "landscape")  # type: ignore[arg-type]
    if isinstance(obj, AnalyticLandscape):
        return obj
    if not callable(obj):
        raise InputError(f"landscape {spec!r} is neither an AnalyticLandscape nor a function")
    if bounds is None:
        import inspect

        try:
            required = [q for q in inspect.signature(obj).parameters.values()
                        if q.default is q.empty and q.kind in (q.POSITIONAL_ONLY, q.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            required = []
        if required:
            raise InputError(f"landscape {spec!r} is a function of points: give its box with --bounds "
                             "(LOW,HIGH per variable)")
        made = obj()
        if not isinstance(made, AnalyticLandscape):
            raise InputError(f"landscape {spec!r}: a function of points needs --bounds LOW,HIGH (one per variable)")
        return made
    try:
        return from_function(obj, [(float(b[0]), float(b[1])) for b in bounds], name=spec)
    except InputError:
        raise
    except Exception as exc:  # the user's function failed on a point of its box: say so in one line
        raise InputError(f"landscape {spec!r} on --bounds with {len(bounds)} variable(s): evaluating it at "
                         f"the centre of the box failed ({type(exc).__name__}: {exc})") from None
