"""The dataset registry :data:`DATASETS` and ``load_dataset("name[:ROOT]")`` (for the CLI).

A spec names a registered dataset. What may follow a ``:`` depends on the entry's
``argument`` (:class:`DatasetEntry`):

* ``None`` -- keyword arguments in the syntax shared with models and landscapes,
  ``"blobs:centers=3,n_samples=200"``;
* ``"root"`` -- a folder, required: ``"cifar10:/data/cifar"``;
* ``"file"`` -- a file, optional: ``"text"`` or ``"text:/data/book.txt"``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from torch.utils.data import Dataset

from topoloss._registry import Registry
from topoloss._specs import (
    accepted_kwargs,
    check_kwargs,
    check_name,
    describe,
    parse_spec,
)
from topoloss.data.builtin import blobs, circles, digits, moons
from topoloss.data.core import ClassificationDataset
from topoloss.data.local import cifar10, cifar100, fashion_mnist, mnist, svhn
from topoloss.data.text import text_corpus
from topoloss.errors import InputError

__all__ = [
    "DATASETS",
    "DatasetArgument",
    "DatasetEntry",
    "DatasetLoader",
    "available_datasets",
    "load_dataset",
    "register_dataset",
]

#: ``loader(**kwargs) -> (train, test)``.
DatasetLoader = Callable[..., tuple[Dataset[Any], Dataset[Any]]]
#: What the part after ``:`` of a spec is: a required folder or an optional file.
DatasetArgument = Literal["root", "file"]

#: The keyword through which the part after ``:`` reaches the loader.
_KEYWORD: dict[str, str] = {"root": "root", "file": "path"}


@dataclass(frozen=True)
class DatasetEntry:
    """One registered dataset.

    Parameters
    ----------
    loader : callable
        ``loader(**kwargs) -> (train, test)``.
    description : str
        One line for the CLI and the docs.
    argument : {"root", "file"} or None
        ``"root"``: a spec must say ``name:ROOT`` and the loader is called with
        ``root=ROOT``; ``"file"``: a spec may say ``name:FILE`` and the loader is then
        called with ``path=FILE``; ``None``: the part after ``:`` holds keyword
        arguments, if any.
    """

    loader: DatasetLoader
    description: str
    argument: DatasetArgument | None = None

    @property
    def syntax(self) -> str:
        """How a spec names it, e.g. ``"mnist:ROOT"`` without the name: ``":ROOT"``."""
        return {None: "", "root": ":ROOT", "file": "[:FILE]"}[self.argument]


#: The registered datasets; :func:`register_dataset` adds to it, the CLI and docs list it.
DATASETS: Registry[DatasetEntry] = Registry("dataset")


def register_dataset(
    name: str,
    loader: DatasetLoader,
    *,
    argument: DatasetArgument | None = None,
    description: str | None = None,
    replace: bool = False,
) -> None:
    """Add a dataset to :data:`DATASETS`, so that :func:`load_dataset` and the CLI know it.

    Parameters
    ----------
    name : str
        Registry name; lower case, without ``:``, ``,``, ``=`` or spaces.
    loader : callable
        ``loader(**kwargs) -> (train, test)``, both datasets carrying ``info``
        (:class:`~topoloss.data.DatasetInfo`) or yielding ``(x, y)`` pairs.
    argument : {"root", "file"}, optional
        What the part after ``:`` of a spec is (see :class:`DatasetEntry`); the
        loader must take ``root`` (resp. ``path``) as a keyword.
    description : str, optional
        One line for the CLI and the docs; default: the first paragraph of the
        loader's docstring.
    replace : bool, default=False
        Replace an existing entry of that name instead of refusing it.

    Raises
    ------
    InputError
        For a malformed or already registered name, a loader that is not callable,
        or an ``argument`` the loader cannot take.

    Examples
    --------
    >>> import torch
    >>> from topoloss.data import as_dataset
    >>> def noise(*, n: int = 40, seed: int = 0):
    ...     "Gaussian inputs with random labels."
    ...     g = torch.Generator().manual_seed(seed)
    ...     x, y = torch.randn(n, 3, generator=g), torch.randint(0, 2, (n,), generator=g)
    ...     h = n // 2
    ...     return as_dataset((x[:h], y[:h])), as_dataset((x[h:], y[h:]))
    >>> register_dataset("noise", noise)
    >>> len(load_dataset("noise:n=10")[0])
    5
    >>> DATASETS.unregister("noise")
    """
    check_name(name)
    if not callable(loader):
        raise InputError(f"loader={loader!r} is not callable")
    if argument is not None:
        if argument not in _KEYWORD:
            raise InputError(f"argument={argument!r}; expected 'root', 'file' or None")
        keyword = _KEYWORD[argument]
        names, var_kw = accepted_kwargs(loader)
        if keyword not in names and not var_kw:
            raise InputError(
                f"dataset {name!r} with argument={argument!r} needs a loader that takes "
                f"{keyword}=; {loader!r} takes {sorted(names)}"
            )
    text = describe(loader) if description is None else " ".join(str(description).split())
    DATASETS.register(name, DatasetEntry(loader, text, argument), replace=replace)


def _digits_images(
    *, test_size: float = 0.2, seed: int = 0, normalize: bool = True
) -> tuple[ClassificationDataset, ClassificationDataset]:
    """scikit-learn's 8x8 digits as ``(1, 8, 8)`` images for CNNs, offline (same split)."""
    return digits(as_images=True, test_size=test_size, seed=seed, normalize=normalize)


_DIGITS = "scikit-learn's 8x8 handwritten digits as flat 64-vectors (1797 samples, 10 classes)."
_BUILTIN: tuple[tuple[str, DatasetLoader, DatasetArgument | None, str | None], ...] = (
    ("digits", digits, None, _DIGITS),
    ("digits-images", _digits_images, None, None),
    ("moons", moons, None, None),
    ("circles", circles, None, None),
    ("blobs", blobs, None, None),
    ("text", text_corpus, "file", None),
    ("mnist", mnist, "root", None),
    ("fashion-mnist", fashion_mnist, "root", None),
    ("cifar10", cifar10, "root", None),
    ("cifar100", cifar100, "root", None),
    ("svhn", svhn, "root", None),
)
for _name, _loader, _argument, _description in _BUILTIN:
    register_dataset(_name, _loader, argument=_argument, description=_description)
del _name, _loader, _argument, _description


def available_datasets() -> tuple[str, ...]:
    """Return the dataset names that :func:`load_dataset` accepts, with their syntax.

    Returns
    -------
    tuple of str
        In registration order, e.g. ``"digits"``, ``"text[:FILE]"``, ``"mnist:ROOT"``.
    """
    return tuple(name + DATASETS.get(name).syntax for name in DATASETS.names())


def load_dataset(spec: str, **kwargs: Any) -> tuple[Dataset[Any], Dataset[Any]]:
    """Load ``(train, test)`` from a spec such as ``"digits"`` or ``"cifar10:/data"``.

    Built-in specs: ``digits``, ``digits-images``, ``moons``, ``circles``, ``blobs``
    (each optionally with ``:key=value,...`` arguments, e.g. ``"moons:noise=0.2"``),
    ``text`` (the shipped corpus) or ``text:FILE``, and ``mnist:ROOT``,
    ``fashion-mnist:ROOT``, ``cifar10:ROOT``, ``cifar100:ROOT``, ``svhn:ROOT`` for
    files already in the folder ``ROOT`` (see :mod:`topoloss.data.local`);
    :func:`register_dataset` adds more.

    Parameters
    ----------
    spec : str
        Dataset name (case-insensitive), optionally followed by ``:`` and a folder,
        a file or keyword arguments (see :class:`DatasetEntry`).
    **kwargs
        Passed on to the loader, e.g. ``seed=1``, ``n_train=1000``, ``block_size=16``;
        they override the arguments of the spec.

    Returns
    -------
    train, test : torch.utils.data.Dataset
        Both carry ``info`` (:class:`DatasetInfo`).

    Raises
    ------
    InputError
        For an unknown name (the message lists the known specs), a missing
        ``ROOT``, a ``:`` part that is not ``key=value`` arguments for a dataset
        that takes no folder or file, or an argument the loader does not take.
    FileNotFoundError
        When the files of a local dataset are missing.

    Examples
    --------
    >>> train, test = load_dataset("moons", n_samples=100)
    >>> train.info
    DatasetInfo(input_shape=(2,), num_classes=2)
    >>> load_dataset("blobs:centers=3")[0].info.num_classes
    3
    """
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"spec={spec!r} must be a non-empty string such as 'digits'")
    name, _, arg = spec.strip().partition(":")
    key = name.strip().lower()
    if key not in DATASETS:
        raise InputError(
            f"unknown dataset {name!r} in spec={spec!r}; known: "
            f"{', '.join(available_datasets())}"
        )
    entry = DATASETS.get(key)
    args: dict[str, Any] = {}
    if entry.argument is None:
        if any("=" not in item for item in arg.split(",") if item.strip()):
            raise InputError(
                f"dataset {key!r} takes no ':' part other than key=value arguments, "
                f"got spec={spec!r}"
            )
        args = parse_spec(spec)[1]
    elif entry.argument == "root":
        if not arg:
            raise InputError(f"dataset {key!r} needs a folder: '{key}:ROOT', got spec={spec!r}")
        args["root"] = arg
    elif arg:
        args["path"] = arg
    args.update(kwargs)
    check_kwargs(f"dataset {key!r}", entry.loader, args)
    return entry.loader(**args)
