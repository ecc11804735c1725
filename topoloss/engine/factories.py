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
is always the built-in dataset, whatever ``digits.py`` lies around.

The code imports the way Python runs a script: while the module is imported (and while
its functions named by the spec run), the working directory (for ``file.py:attr``, the
file's folder) is first on ``sys.path``, so that ``from train4 import make_net`` finds
the neighbouring ``train4.py``; ``sys.path`` is restored exactly afterwards. An exception
raised inside that code becomes one :class:`~topoloss.errors.InputError` line naming the
spec and the user's own frame (``file:line: source``), without frames of topoloss.

Importing code runs it. :func:`user_code` says which specs of a config would import
code, so that a caller can refuse to do so for a config it did not get from the user.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import linecache
import os
import sys
import sysconfig
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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


@contextmanager
def _first_on_path(folder: str) -> Iterator[None]:
    """``folder`` first on ``sys.path`` for the duration, as when Python runs a script there."""
    saved = list(sys.path)
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        sys.path[:] = saved


_OURS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIBRARIES = tuple(os.path.abspath(p) + os.sep for p in {
    sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")} if p)


def _user_frame(exc: BaseException) -> str:
    """``file:line: source`` of the innermost frame of ``exc`` in the user's code ('' if none)."""
    if isinstance(exc, SyntaxError) and exc.filename:
        text = (exc.text or "").strip()
        return f"{_short(exc.filename)}:{exc.lineno}: {text}" if text else f"{_short(exc.filename)}:{exc.lineno}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith("<") and not os.path.abspath(f.filename).startswith(_OURS + os.sep)]
    own = [f for f in frames if not os.path.abspath(f.filename).startswith(_LIBRARIES)] or frames
    if not own:
        return ""
    f = own[-1]
    line = (f.line or linecache.getline(f.filename, f.lineno or 0)).strip()
    return f"{_short(f.filename)}:{f.lineno}: {line}" if line else f"{_short(f.filename)}:{f.lineno}"


def _short(file: str) -> str:
    try:
        rel = os.path.relpath(file)
    except ValueError:  # another drive
        return file
    return file if rel.startswith(os.pardir) else rel


def _failed(exc: BaseException, what: str, spec: str, doing: str) -> InputError:
    """The one line for an exception raised inside the user's code."""
    if isinstance(exc, SystemExit):
        text = f"SystemExit({exc.code!r})"
    else:
        message = str(exc).strip().splitlines()
        text = f"{type(exc).__name__}: {message[0]}" if message else type(exc).__name__
    where = _user_frame(exc)
    return InputError(f"{what} {spec!r}: {doing} raised {text}" + (f" (at {where})" if where else ""))


class _UserCall:
    """A function of the user's code, called with its folder first on ``sys.path`` and
    with its exceptions as one line (:func:`_failed`); picklable when the function is."""

    def __init__(self, func: Callable[..., Any], what: str, spec: str, folder: str) -> None:
        self.func, self.what, self.spec, self.folder = func, what, spec, folder
        self.__wrapped__ = func  # inspect.signature sees the user's signature
        self.__name__ = getattr(func, "__name__", type(func).__name__)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with _first_on_path(self.folder):
            try:
                return self.func(*args, **kwargs)
            except (Exception, SystemExit) as exc:
                raise _failed(exc, self.what, self.spec, f"calling {self.__name__}") from None


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
    with _first_on_path(str(path.resolve().parent)):
        try:
            return _execute(name, found)
        except (Exception, SystemExit) as exc:
            raise _failed(exc, what, spec, f"importing {file}") from None


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
    with _first_on_path(os.getcwd()):
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            parts = name.split(".")
            if exc.name not in {".".join(parts[:k]) for k in range(1, len(parts) + 1)}:
                raise _failed(exc, what, spec, f"importing {name}") from None  # the module's own import failed
            noun = "dataset" if what == "data" else what
            raise InputError(f"{what} {spec!r}: cannot import module {name!r} ({exc}); it is no registered "
                             f"{noun} either (registered: {_registered(what)}); {_FORMS}") from None
        except (Exception, SystemExit) as exc:
            raise _failed(exc, what, spec, f"importing {name}") from None


def import_object(spec: str, what: Kind) -> Any:
    """The object ``attr`` named by ``"module:attr"`` or ``"path/to/file.py:attr"`` (this imports,
    that is runs, the module).

    A function comes back wrapped, so that calling it runs with the module's folder first
    on ``sys.path`` and reports an exception inside it as one line (see the module docstring).
    """
    if ".py:" in spec:
        cut = spec.rindex(".py:") + 3
        source, attr = spec[:cut], spec[cut + 1:]
        obj: Any = _import_file(source, spec, what)
        folder = str(Path(source).expanduser().resolve().parent)
    else:
        source, _, attr = spec.partition(":")
        obj = _import_module(source, spec, what)
        folder = os.getcwd()
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"{what} {spec!r}: {source} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if callable(obj) and not isinstance(obj, nn.Module):
        return _UserCall(obj, what, spec, folder)
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
