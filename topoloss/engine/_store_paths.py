"""The finished paths in a run directory: one ``paths/U--V.safetensors`` per pair, with the
files of runs written under the older names (:class:`~topoloss.engine.store.Run` inherits
:class:`PathFiles`).

A file is read back only when it is consistent with itself (:func:`inconsistency`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Hashable
from pathlib import Path

import numpy as np
import safetensors.torch

from topoloss._io import atomic_write_bytes
from topoloss.engine._store_base import StoreBase, jsonable
from topoloss.errors import CorruptResult
from topoloss.paths.record import PathRecord

__all__ = ["PathFiles", "inconsistency"]


class PathFiles(StoreBase):
    """The paths of a run (a part of :class:`~topoloss.engine.store.Run`)."""

    def path_file(self, u: Hashable, v: Hashable) -> Path:
        """Where the path between minima ``u`` and ``v`` is stored."""
        return self.layout.path_file(u, v)

    def _legacy_path_file(self, u: Hashable, v: Hashable) -> Path:
        """Where a run written before :func:`~topoloss._filenames.file_name` stored that path (maybe another pair's)."""
        return self.layout.legacy_path_file(u, v)

    def save_path(self, path: PathRecord, *, provenance: str | None = None) -> Path:
        """Write one finished path (atomic), with the fingerprint of what made it. Returns its file.

        A file already there is replaced only at the moment the new one is complete. In a
        run written with the older file names, the file there may hold another pair: it
        is moved to that pair's own name first, and this pair's file under its older
        name is removed once the new one is written.
        """
        self._write_lock()
        file = self.path_file(path.u, path.v)
        pair = {path.u, path.v}
        held = self._pair_in(file)
        if held is not None and set(held) != pair and not self.path_file(*held).exists():
            os.replace(file, self.path_file(*held))  # another pair's file from an older run: keep it, renamed
        tensors = {k: t.detach().cpu().contiguous() for k, t in path.tensors().items()}
        meta = {"record": json.dumps(path.to_dict(tensors=False), default=jsonable)}
        if provenance is not None:
            meta["provenance"] = provenance
        atomic_write_bytes(file, safetensors.torch.save(tensors, metadata=meta))
        for a, b in ((path.u, path.v), (path.v, path.u)):
            old = self._legacy_path_file(a, b)
            held = self._pair_in(old)
            if old != file and held is not None and set(held) == pair:
                old.unlink(missing_ok=True)
        return file

    def _pair_in(self, file: Path) -> tuple[Hashable, Hashable] | None:
        """The pair ``(u, v)`` whose path ``file`` holds; ``None`` if it is absent or unreadable."""
        if not file.exists():
            return None
        try:
            record = self._read_path(file)[0]
        except CorruptResult:
            return None
        return record.u, record.v

    def load_path(self, u: Hashable, v: Hashable) -> PathRecord | None:
        """The stored path between ``u`` and ``v`` (either direction), or ``None``.

        Raises
        ------
        CorruptResult
            The file exists but cannot be read back; the message names it.
        """
        for a, b in ((u, v), (v, u)):
            file = self.path_file(a, b)
            if file.exists():
                return self._read_path(file)[0]
        for a, b in ((u, v), (v, u)):  # a run written before file_name: the old name, if it is this pair's
            file = self._legacy_path_file(a, b)
            held = self._pair_in(file)
            if held is not None and set(held) == {u, v}:
                return self._read_path(file)[0]
        return None

    def _read_path(self, file: Path) -> tuple[PathRecord, str | None]:
        try:
            with safetensors.safe_open(str(file), framework="pt") as fh:
                meta = fh.metadata() or {}
                tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - safe_open is no dict
            record = PathRecord.from_dict(json.loads(meta["record"]), tensors=tensors)
        except Exception as exc:  # any failure to read back means the file is unusable
            raise CorruptResult(f"path file {file} is corrupt ({type(exc).__name__}: {exc})") from None
        problem = inconsistency(record)
        if problem is not None:
            raise CorruptResult(f"path file {file} is inconsistent with itself ({problem})")
        return record, meta.get("provenance")

    def stored_paths(self) -> tuple[list[tuple[Path, PathRecord, str | None]], list[Path]]:
        """Every readable path file as ``(file, record, fingerprint or None)``, and the unreadable files."""
        good: list[tuple[Path, PathRecord, str | None]] = []
        bad: list[Path] = []
        for file in self.layout.path_files():
            try:
                good.append((file, *self._read_path(file)))
            except CorruptResult:
                bad.append(file)
        return good, bad

    def finished_paths(self) -> tuple[list[PathRecord], list[Path]]:
        """All readable stored paths, and the files that could not be read."""
        good, bad = self.stored_paths()
        return [record for _, record, _ in good], bad


def inconsistency(record: PathRecord) -> str | None:
    """Why a stored record contradicts itself, or ``None``: its barrier must be the maximum of
    its stored profile, or after a straight-segment fallback that of the straight profile
    (below the curve's), exactly as it was written (JSON keeps every float bit for bit)."""
    def same(a: float, b: float) -> bool:
        return math.isfinite(a) and math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)

    curve = float(np.max(record.losses))
    if record.fallback is None:
        if not same(record.barrier, curve):
            return f"barrier {record.barrier!r} is not the maximum {curve!r} of its stored profile"
        return None
    if not record.linear_losses.size:
        return "a straight-segment fallback without the straight profile"
    straight = float(np.max(record.linear_losses))
    if not same(record.barrier, straight) or not curve > straight:
        return (f"barrier {record.barrier!r} is not the straight fallback's {straight!r} below the "
                f"curve's {curve!r}")
    return None
