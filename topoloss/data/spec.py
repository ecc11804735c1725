"""``load_dataset("name[:ROOT]")``: one string names any dataset (for the CLI)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch.utils.data import Dataset

from topoloss.data.builtin import blobs, circles, digits, moons
from topoloss.data.local import cifar10, cifar100, fashion_mnist, mnist, svhn
from topoloss.data.text import text_corpus

__all__ = ["available_datasets", "load_dataset"]

_Loader = Callable[..., tuple[Dataset[Any], Dataset[Any]]]

#: name -> (loader, how the part after ':' is used: None, "root" or "path")
_DATASETS: dict[str, tuple[_Loader, str | None]] = {
    "digits": (digits, None),
    "digits-images": (lambda **kw: digits(as_images=True, **kw), None),
    "moons": (moons, None),
    "circles": (circles, None),
    "blobs": (blobs, None),
    "text": (text_corpus, "path"),
    "mnist": (mnist, "root"),
    "fashion-mnist": (fashion_mnist, "root"),
    "cifar10": (cifar10, "root"),
    "cifar100": (cifar100, "root"),
    "svhn": (svhn, "root"),
}


def available_datasets() -> tuple[str, ...]:
    """Return the dataset names that :func:`load_dataset` accepts, with their syntax.

    Returns
    -------
    tuple of str
        E.g. ``"digits"``, ``"text[:FILE]"``, ``"mnist:ROOT"``.
    """
    syntax = {None: "", "path": "[:FILE]", "root": ":ROOT"}
    return tuple(name + syntax[arg] for name, (_, arg) in _DATASETS.items())


def load_dataset(spec: str, **kwargs: Any) -> tuple[Dataset[Any], Dataset[Any]]:
    """Load ``(train, test)`` from a spec such as ``"digits"`` or ``"cifar10:/data"``.

    Known specs: ``digits``, ``digits-images``, ``moons``, ``circles``, ``blobs``,
    ``text`` (the shipped corpus) or ``text:FILE``, and ``mnist:ROOT``,
    ``fashion-mnist:ROOT``, ``cifar10:ROOT``, ``cifar100:ROOT``, ``svhn:ROOT`` for
    files already in the folder ``ROOT`` (see :mod:`topoloss.data.local`).

    Parameters
    ----------
    spec : str
        Dataset name, optionally followed by ``:`` and a folder or file.
    **kwargs
        Passed on to the loader, e.g. ``seed=1``, ``n_train=1000``, ``block_size=16``.

    Returns
    -------
    train, test : torch.utils.data.Dataset
        Both carry ``info`` (:class:`DatasetInfo`).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known specs), a missing
        ``ROOT``, or a ``:`` part given to a dataset that takes none.
    FileNotFoundError
        When the files of a local dataset are missing.

    Examples
    --------
    >>> train, test = load_dataset("moons", n_samples=100)
    >>> train.info
    DatasetInfo(input_shape=(2,), num_classes=2)
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"spec={spec!r} must be a non-empty string such as 'digits'")
    name, colon, arg = spec.strip().partition(":")
    key = name.strip().lower()
    if key not in _DATASETS:
        raise ValueError(
            f"unknown dataset {name!r} in spec={spec!r}; known: {', '.join(available_datasets())}"
        )
    loader, kind = _DATASETS[key]
    if kind is None:
        if colon:
            raise ValueError(f"dataset {key!r} takes no ':' part, got spec={spec!r}")
        return loader(**kwargs)
    if kind == "root":
        if not arg:
            raise ValueError(f"dataset {key!r} needs a folder: '{key}:ROOT', got spec={spec!r}")
        return loader(arg, **kwargs)
    return loader(path=arg or None, **kwargs)
