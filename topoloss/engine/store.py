"""Run directories: every finished result on disk the moment it is finished.

A run directory holds one study::

    RUN/
      config.json            what was asked (model, data, curve, ...); fixed for the run
      minima.json            names, losses, metrics, and where each minimum came from
      minima.safetensors     the minima's points
      paths/U--V.safetensors one file per finished path: tensors + the record as metadata
      minima/NAME.safetensors one file per trained minimum, while training (resume)
      graph.json             the landscape graph
      barcode.json           bars, saddles, TO-score
      progress.json          the study's progress, rewritten after each path (:mod:`~topoloss.engine.progress`)
      progress-history.jsonl the TO-score and every death after each path, one line per path
      report/                figures and the summary (``topoloss report``)

``U``, ``V`` and ``NAME`` are the minima's names escaped by :func:`file_name`, so that
different names (and different pairs) always give different files. A run written before
(names made safe by replacing characters, which could collide) still resumes: files are
read by the names recorded inside them, and a path moves to its new name when saved.

Every file is written atomically (temporary file + rename), so a run killed at any
moment leaves only complete files, and a reader never sees a partial one. Opening the
same directory with the same config resumes it (the stopping rules,
:data:`~topoloss.config.SESSION_OPTIONS`, may differ); a different config is refused unless
``new=True`` moves the old run aside.

Every path file and every trained minimum records the fingerprint of the options and
inputs that made it (:mod:`topoloss.engine.provenance`), and the engine reuses it only
when the fingerprint matches.

A process that writes a run holds an exclusive lock on ``RUN/.lock`` (``flock``; the
file names the holder). The operating system releases it when the process ends, however
it ends, so a killed writer leaves no stale lock. A second writer is refused with
:class:`RunLocked`. Readers take no lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import json
import math
import os
import socket
import sys
import time
import weakref
from collections.abc import Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.torch
import torch

from topoloss._io import atomic_write_bytes, atomic_write_text
from topoloss._validate import finite_or_none
from topoloss.config import SESSION_OPTIONS, with_added_defaults
from topoloss.engine._filenames import file_name, legacy_name
from topoloss.errors import ConfigMismatch, CorruptResult, InputError
from topoloss.minima.find import Minima
from topoloss.paths.record import PathRecord
from topoloss.topology.barcode import Barcode
from topoloss.topology.graph import LandscapeGraph

__all__ = ["ConfigMismatch", "CorruptResult", "Run", "RunLocked", "file_name", "file_sha256"]

PathLike = str | os.PathLike[str]
_CONFIG = "config.json"
_LOCK = ".lock"


def file_sha256(path: PathLike) -> str:
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _canonical(config: Mapping[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, default=str)


def _fixed(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` without the :data:`~topoloss.config.SESSION_OPTIONS`: the part a resume must match."""
    out = dict(config)
    for section, key in SESSION_OPTIONS:
        if isinstance(out.get(section), Mapping) and key in out[section]:
            out[section] = {k: v for k, v in out[section].items() if k != key}
    return out


def _diff_keys(a: Mapping[str, Any], b: Mapping[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(a) | set(b), key=str):
        va, vb = a.get(key, "<absent>"), b.get(key, "<absent>")
        if isinstance(va, Mapping) and isinstance(vb, Mapping):
            out += _diff_keys(va, vb, f"{prefix}{key}.")
        elif _canonical({"v": va}) != _canonical({"v": vb}):
            out.append(f"{prefix}{key}: {va!r} -> {vb!r}")
    return out


class RunLocked(InputError):
    """Another process is writing this run directory (exit code 2)."""


class _Lock:
    """An exclusive ``flock`` on ``DIR/.lock``, shared by every :class:`Run` of this process
    on that directory and released when the last of them is gone (or the process ends)."""

    _held: weakref.WeakValueDictionary[str, _Lock] = weakref.WeakValueDictionary()

    def __init__(self, fd: int, key: str) -> None:
        self.fd = fd
        self.key = key
        self._finalizer = weakref.finalize(self, os.close, fd)

    def release(self) -> None:
        if _Lock._held.get(self.key) is self:
            del _Lock._held[self.key]
        self._finalizer()

    @classmethod
    def acquire(cls, directory: Path) -> _Lock:
        key = os.path.realpath(directory)
        held = cls._held.get(key)
        if held is not None and _same_file(held.fd, Path(key) / _LOCK):
            return held
        directory.mkdir(parents=True, exist_ok=True)
        file = directory / _LOCK
        for _ in range(5):
            fd = os.open(file, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise RunLocked(f"{directory} is being written by another process ({_holder(file)}); "
                                "wait for it to finish, or use another directory") from None
            if _same_file(fd, file):  # not moved aside (--new) between our open and our lock
                break
            os.close(fd)
        else:  # pragma: no cover - only under a storm of --new on the same directory
            raise RunLocked(f"{directory} keeps being replaced by another process; try again")
        command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "python"
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}: {command}\n".encode(), 0)
        lock = cls(fd, key)
        cls._held[key] = lock
        return lock


def _same_file(fd: int, path: Path) -> bool:
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _holder(file: Path) -> str:
    try:
        text = file.read_text(errors="replace").strip()
    except OSError:
        text = ""
    return text.splitlines()[0][:200] if text else "holder unknown"


_ASIDE = itertools.count()


def _aside_name(directory: Path) -> Path:
    """A fresh ``DIR.old-<time>-<pid>[-<n>]`` next to ``directory``."""
    stem = f"{directory.name}.old-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    while True:
        n = next(_ASIDE)
        aside = directory.with_name(stem if n == 0 else f"{stem}-{n}")
        if not aside.exists():
            return aside


class Run:
    """A run directory (see the module docstring for its layout).

    Parameters
    ----------
    directory : path
        The folder; created if absent.
    config : mapping, optional
        The study's configuration (JSON-serializable). Stored on first use; when the
        folder already holds a different one, :class:`ConfigMismatch` is raised.
        Omit it to open an existing run (its stored config is used). A config that
        only adds top-level keys to the stored one (e.g. ``paths`` after
        ``topoloss train``) extends the run.
    new : bool
        If the folder holds a run, move it aside to ``DIRECTORY.old-<timestamp>-<pid>``
        and start afresh (instead of resuming it, or refusing a different config).
    keys : tuple of str, optional
        Store only these top-level keys of ``config`` now (the whole ``config`` is still
        checked against the stored one); :meth:`commit` stores the rest. The engine
        uses this to write the ``paths`` options only once they are known to work.

    Opening with a ``config`` takes the run's lock (see the module docstring); opening
    without one reads and takes the lock only when something is written.

    Raises
    ------
    ConfigMismatch
        The stored config differs from ``config`` and ``new`` is false.
    RunLocked
        Another process is writing the run.
    FileNotFoundError
        ``config`` is omitted and the folder holds no run.
    """

    def __init__(self, directory: PathLike, config: Mapping[str, Any] | None = None, *, new: bool = False,
                 keys: tuple[str, ...] | None = None) -> None:
        self.dir = Path(directory)
        self._lock: _Lock | None = None
        self._pending: dict[str, Any] | None = None
        if config is None:
            stored = self._read_config()
            if stored is None:
                raise FileNotFoundError(f"{self.dir} is not a topoloss run directory (no {_CONFIG})")
            self.config: dict[str, Any] = stored
            return
        config = dict(with_added_defaults(json.loads(_canonical(config))))
        self._lock = _Lock.acquire(self.dir)
        try:
            stored = self._read_config()
        except CorruptResult:
            if not new:
                raise
            stored = {}  # unreadable: moved aside below, as --new promises
        fixed, asked = (_fixed(stored), _fixed(config)) if stored is not None else ({}, {})
        extends = stored is not None and all(
            _canonical({"v": fixed[k]}) == _canonical({"v": asked.get(k)}) for k in fixed
        )
        if stored is not None and (new or not extends):
            if not new:
                changes = "; ".join(_diff_keys(fixed, asked)[:6])
                raise ConfigMismatch(
                    f"{self.dir} holds a run with a different configuration ({changes}); "
                    "use a new directory, or --new to move the old run aside"
                )
            old = self._lock
            os.rename(self.dir, _aside_name(self.dir))
            old.release()
            self._lock = _Lock.acquire(self.dir)
            stored = None
        self.config = config
        now = config if keys is None else {k: v for k, v in config.items() if k in keys}
        if stored is not None:
            now = {**stored, **now}
        if stored is None or _canonical(stored) != _canonical(now):
            atomic_write_text(self.dir / _CONFIG, json.dumps(now, indent=1, sort_keys=True))
        if _canonical(now) != _canonical(config):
            self._pending = config

    def commit(self) -> None:
        """Store the part of the config held back by ``keys`` (nothing if none is)."""
        if self._pending is not None:
            self._write_lock()
            atomic_write_text(self.dir / _CONFIG, json.dumps(self._pending, indent=1, sort_keys=True))
            self._pending = None

    def _write_lock(self) -> None:
        """Take the run's lock before the first write of a run opened for reading."""
        if self._lock is None:
            self._lock = _Lock.acquire(self.dir)

    def close(self) -> None:
        """Release this object's hold on the lock (the lock goes when no :class:`Run` of this
        process holds it; it also goes when the process ends)."""
        self._lock = None

    def __repr__(self) -> str:
        return f"Run({str(self.dir)!r})"

    def _read_config(self) -> dict[str, Any] | None:
        p = self.dir / _CONFIG
        if not p.exists():
            return None
        try:
            return with_added_defaults(json.loads(p.read_text()))
        except json.JSONDecodeError as exc:
            raise CorruptResult(f"{p}: unreadable config ({exc}); start afresh with --new (the run is moved "
                                f"aside, nothing is deleted) or give another --run") from None

    # ------------------------------------------------------------------ minima
    @property
    def minima_files(self) -> tuple[Path, Path]:
        """``(minima.json, minima.safetensors)``."""
        return self.dir / "minima.json", self.dir / "minima.safetensors"

    def save_minima(self, minima: Minima, *, sources: Iterable[PathLike] | None = None,
                    provenance: str | None = None) -> None:
        """Store the minima (points + record), with the SHA-256 of their source files.

        ``sources`` are the user's checkpoint files the minima were loaded from; a
        later :meth:`check_sources` verifies they have not changed. ``provenance`` is the
        fingerprint of what made them (see :meth:`minima_provenance`).
        """
        self._write_lock()
        meta, tensors = self.dir / "minima.json", self.dir / "minima.safetensors"
        record = {"format": "topoloss.Minima", "type": type(minima).__name__, **minima.to_dict(points=False)}
        if sources is not None:
            record["sources"] = [{"file": str(Path(s).resolve()), "sha256": file_sha256(s)} for s in sources]
        if provenance is not None:
            record["provenance"] = provenance
        atomic_write_bytes(tensors, safetensors.torch.save({"points": minima.points.detach().cpu().contiguous()}))
        atomic_write_text(meta, json.dumps(record, indent=1, default=_jsonable))

    def minima_provenance(self) -> str | None:
        """The fingerprint stored with the minima (``None`` if there is none)."""
        meta = self.minima_files[0]
        try:
            value = json.loads(meta.read_text()).get("provenance")
        except (OSError, ValueError, AttributeError):
            return None
        return value if isinstance(value, str) else None

    def save_minimum_part(self, minimum: Minima, *, provenance: str | None = None) -> None:
        """Store one freshly trained minimum as ``minima/<name>.safetensors`` (atomic).

        Parts let an interrupted training resume with the seeds that are missing;
        :meth:`minimum_parts` reads them back. ``provenance`` is the fingerprint of the
        options that trained it (:func:`~topoloss.engine.provenance.minimum_fingerprint`).
        """
        self._write_lock()
        for i, name in enumerate(minimum.names):
            one = minimum.subset([i])
            record = json.dumps({"type": type(one).__name__, **one.to_dict(points=False)}, default=_jsonable)
            meta = {"record": record}
            if provenance is not None:
                meta["provenance"] = provenance
            file = self.dir / "minima" / f"{file_name(name)}.safetensors"
            atomic_write_bytes(file, safetensors.torch.save(
                {"points": one.points.detach().cpu().contiguous()}, metadata=meta))

    def minimum_parts(self, *, provenance: Mapping[Any, str] | None = None) -> dict[Hashable, Minima]:
        """The minima stored by :meth:`save_minimum_part`, by name (unreadable ones skipped).

        With ``provenance`` (name -> expected fingerprint), a part is returned only when
        its stored fingerprint equals the expected one for its name.
        """
        from topoloss.minima.train import TrainedMinima

        out: dict[Hashable, Minima] = {}
        for file in sorted((self.dir / "minima").glob("*.safetensors")):
            try:
                with safetensors.safe_open(str(file), framework="pt") as fh:
                    meta = fh.metadata() or {}
                    record = json.loads(meta["record"])
                    points = fh.get_tensor("points")
                cls = TrainedMinima if record.get("type") == "TrainedMinima" else Minima
                one = cls.from_dict(record, points=points)
            except Exception:  # a damaged part is simply trained again
                continue
            if provenance is not None and meta.get("provenance") != provenance.get(one.names[0]):
                continue
            out[one.names[0]] = one
        return out

    def load_minima(self) -> Minima | None:
        """The stored minima, or ``None`` if there are none yet.

        Raises
        ------
        CorruptResult
            If a minima file exists but cannot be read.
        """
        meta, tensors = self.minima_files
        if not meta.exists() or not tensors.exists():
            return None
        try:
            record = json.loads(meta.read_text())
            points = safetensors.torch.load_file(str(tensors))["points"]
            cls: type[Minima] = Minima
            if record.get("type") == "TrainedMinima":
                from topoloss.minima.train import TrainedMinima

                cls = TrainedMinima
            return cls.from_dict(record, points=points)
        except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError, safetensors.SafetensorError) as exc:
            raise CorruptResult(f"{meta.name}/{tensors.name} in {self.dir}: unreadable minima ({exc}); delete "
                                f"these two files to make the minima again, or start afresh with --new") from None

    def check_sources(self, files: Iterable[PathLike]) -> None:
        """Verify that ``files`` are the checkpoints the stored minima came from.

        Raises
        ------
        ConfigMismatch
            A file differs (by path or content hash) from the one recorded.
        """
        meta = self.minima_files[0]
        record = json.loads(meta.read_text()) if meta.exists() else {}
        recorded = {s["file"]: s["sha256"] for s in record.get("sources", [])}
        for f in files:
            key = str(Path(f).resolve())
            if key not in recorded:
                raise ConfigMismatch(f"checkpoint {f} is not among this run's minima ({self.dir})")
            if file_sha256(f) != recorded[key]:
                raise ConfigMismatch(
                    f"checkpoint {f} changed since this run stored it (SHA-256 differs); "
                    "use --new to start a new run"
                )

    def export_checkpoints(self, landscape: Any, minima: Minima) -> Path:
        """Write each minimum as ``checkpoints/<name>.safetensors`` (a state dict any
        PyTorch user can load; files already there are kept). Returns the folder."""
        from topoloss.minima.train import save_minimum

        self._write_lock()
        folder = self.dir / "checkpoints"
        for name, point in zip(minima.names, minima.points):
            file = folder / f"{file_name(name)}.safetensors"
            if not file.exists():
                save_minimum(landscape, point, file)
        return folder

    # ------------------------------------------------------------------ paths
    def path_file(self, u: Hashable, v: Hashable) -> Path:
        """Where the path between minima ``u`` and ``v`` is stored."""
        return self.dir / "paths" / f"{file_name(u)}--{file_name(v)}.safetensors"

    def _legacy_path_file(self, u: Hashable, v: Hashable) -> Path:
        """Where a run written before :func:`file_name` stored that path (maybe another pair's)."""
        return self.dir / "paths" / f"{legacy_name(u)}--{legacy_name(v)}.safetensors"

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
        meta = {"record": json.dumps(path.to_dict(tensors=False), default=_jsonable)}
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
        problem = _inconsistency(record)
        if problem is not None:
            raise CorruptResult(f"path file {file} is inconsistent with itself ({problem})")
        return record, meta.get("provenance")

    def stored_paths(self) -> tuple[list[tuple[Path, PathRecord, str | None]], list[Path]]:
        """Every readable path file as ``(file, record, fingerprint or None)``, and the unreadable files."""
        good: list[tuple[Path, PathRecord, str | None]] = []
        bad: list[Path] = []
        for file in sorted((self.dir / "paths").glob("*.safetensors")):
            try:
                good.append((file, *self._read_path(file)))
            except CorruptResult:
                bad.append(file)
        return good, bad

    def finished_paths(self) -> tuple[list[PathRecord], list[Path]]:
        """All readable stored paths, and the files that could not be read."""
        good, bad = self.stored_paths()
        return [record for _, record, _ in good], bad

    # ------------------------------------------------------------------ results
    def save_graph(self, graph: LandscapeGraph) -> None:
        """Write ``graph.json``."""
        self._write_lock()
        graph.to_json(self.dir / "graph.json")

    def load_graph(self) -> LandscapeGraph | None:
        """The stored graph, or ``None``."""
        p = self.dir / "graph.json"
        return LandscapeGraph.from_json(p) if p.exists() else None

    def save_plan(self, pairs: list[tuple[Hashable, Hashable, str]],
                  notes: Mapping[tuple[Hashable, Hashable], Mapping[str, Any]] | None = None, *,
                  straight: Any = None) -> None:
        """Write ``plan.json``: the planned pairs in order, each with why it was planned, plus
        ``notes[(u, v)]`` where given (e.g. a straight-segment fallback,
        :func:`topoloss.paths.fallback.fallback_notes`), and the planner's straight-segment
        bounds (minima order; ``null`` where infinite) if given."""
        self._write_lock()
        notes = notes or {}
        data: dict[str, Any] = {"pairs": [{"u": u, "v": v, "reason": why, **notes.get((u, v), notes.get((v, u), {}))}
                                          for u, v, why in pairs]}
        if straight is not None:
            data["straight_bounds"] = [[finite_or_none(x) for x in row] for row in straight]
        atomic_write_text(self.dir / "plan.json", json.dumps(data, indent=1, default=_jsonable))

    def load_plan(self) -> list[dict[str, Any]] | None:
        """The stored plan (``[{"u", "v", "reason"}, ...]``), or ``None``."""
        p = self.dir / "plan.json"
        return list(json.loads(p.read_text())["pairs"]) if p.exists() else None

    def load_straight_bounds(self) -> np.ndarray | None:
        """The straight-segment bounds stored with the plan (``inf`` for ``null``), or ``None``."""
        p = self.dir / "plan.json"
        rows = json.loads(p.read_text()).get("straight_bounds") if p.exists() else None
        return None if rows is None else np.array([[np.inf if x is None else x for x in r] for r in rows], float)

    def save_barcode(self, barcode: Barcode) -> None:
        """Write ``barcode.json``: bars, saddles, TO-scores."""
        from topoloss.topology.score import barcode_summary

        self._write_lock()
        data = barcode_summary(barcode)
        atomic_write_text(self.dir / "barcode.json", json.dumps(data, indent=1, default=_jsonable))

    def load_barcode(self) -> Barcode | None:
        """The stored barcode, or ``None``."""
        p = self.dir / "barcode.json"
        return Barcode.from_dict(json.loads(p.read_text())) if p.exists() else None


def _inconsistency(record: PathRecord) -> str | None:
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


def _jsonable(x: Any) -> Any:
    if hasattr(x, "tolist"):
        return x.tolist()
    if isinstance(x, torch.dtype):
        return str(x)
    return str(x)
