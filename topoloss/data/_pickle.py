"""A restricted unpickler for the python version of the CIFAR batches.

Unpickling can run arbitrary code, because a pickle may name any importable callable.
The CIFAR python batches only hold dicts, lists, ints, bytes and NumPy arrays, so
:func:`load_numpy_pickle` lets through only the handful of callables that rebuild a
NumPy array (``numpy``'s ``_reconstruct``, ``_frombuffer``, ``ndarray`` and
``dtype``; ``_codecs.encode``, which protocol 2 uses for ``bytes``) and refuses
everything else. Prefer the binary CIFAR files, which need no unpickling at all.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load_numpy_pickle"]

_ALLOWED = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }
)


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to unpickle {module}.{name}: only NumPy arrays and plain "
                "Python values are allowed in a CIFAR batch"
            )
        if module.startswith("numpy.core.") and hasattr(np, "_core"):
            module = "numpy._core." + module[len("numpy.core.") :]  # NumPy 2 names
        return super().find_class(module, name)


def load_numpy_pickle(path: Path) -> Any:
    """Unpickle ``path`` allowing only plain Python values and NumPy arrays.

    Parameters
    ----------
    path : pathlib.Path
        A pickle file (e.g. ``cifar-10-batches-py/data_batch_1``).

    Returns
    -------
    Any
        The unpickled object; ``str`` keys of Python-2 pickles come back as ``bytes``.

    Raises
    ------
    pickle.UnpicklingError
        If the pickle names any other callable.
    """
    with open(path, "rb") as fh:
        return _NumpyOnlyUnpickler(fh, encoding="bytes").load()
