"""What the parts of a run directory's store share (:class:`~topoloss.engine.store.Run`):
the directory with its layout and write lock, the JSON of stored values, file hashes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import torch

from topoloss._layout import RunLayout

__all__ = ["PathLike", "StoreBase", "file_sha256", "jsonable"]

PathLike = str | os.PathLike[str]


class StoreBase:
    """The attributes every part of :class:`~topoloss.engine.store.Run` uses."""

    #: The run directory.
    dir: Path
    #: Where each of its files lies.
    layout: RunLayout

    def _write_lock(self) -> None:  # pragma: no cover - Run defines it
        """Take the run's lock before the first write."""
        raise NotImplementedError


def file_sha256(path: PathLike) -> str:
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def jsonable(x: Any) -> Any:
    """``json.dumps``'s ``default`` for stored records: arrays and tensors as lists, anything else as text."""
    if hasattr(x, "tolist"):
        return x.tolist()
    if isinstance(x, torch.dtype):
        return str(x)
    return str(x)
