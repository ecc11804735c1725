"""Run directories: every finished result on disk the moment it is finished.

A run directory holds one study::

    RUN/
      config.json            what was asked (model, data, curve, ...); fixed for the run
      minima.json            names, losses, metrics, and where each minimum came from
      minima.safetensors     the minima's points
      paths/U--V.safetensors one file per finished path: tensors + the record as metadata
      graph.json             the landscape graph
      barcode.json           bars, saddles, TO-score
      report/                figures and the summary (``topoloss report``)

Every file is written atomically (temporary file + rename), so a run killed at any
moment leaves only complete files. Opening the same directory with the same config
resumes it; a different config is refused unless ``new=True`` moves the old run aside.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any

import safetensors.torch
import torch

from topoloss._io import atomic_write_bytes, atomic_write_text
from topoloss.errors import ConfigMismatch, CorruptResult
from topoloss.minima.find import Minima
from topoloss.paths.record import PathRecord
from topoloss.topology.barcode import Barcode
from topoloss.topology.graph import LandscapeGraph

__all__ = ["ConfigMismatch", "CorruptResult", "Run", "file_sha256"]

PathLike = str | os.PathLike[str]
_CONFIG = "config.json"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def file_sha256(path: PathLike) -> str:
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _canonical(config: Mapping[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, default=str)


def _diff_keys(a: Mapping[str, Any], b: Mapping[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(a) | set(b), key=str):
        va, vb = a.get(key, "<absent>"), b.get(key, "<absent>")
        if isinstance(va, Mapping) and isinstance(vb, Mapping):
            out += _diff_keys(va, vb, f"{prefix}{key}.")
        elif _canonical({"v": va}) != _canonical({"v": vb}):
            out.append(f"{prefix}{key}: {va!r} -> {vb!r}")
    return out


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
        If the folder holds a run, move it aside to ``DIRECTORY.old-<timestamp>`` and
        start afresh (instead of resuming it, or refusing a different config).

    Raises
    ------
    ConfigMismatch
        The stored config differs from ``config`` and ``new`` is false.
    FileNotFoundError
        ``config`` is omitted and the folder holds no run.
    """

    def __init__(self, directory: PathLike, config: Mapping[str, Any] | None = None, *, new: bool = False) -> None:
        self.dir = Path(directory)
        stored = self._read_config()
        if config is None:
            if stored is None:
                raise FileNotFoundError(f"{self.dir} is not a topoloss run directory (no {_CONFIG})")
            self.config: dict[str, Any] = stored
            return
        config = dict(json.loads(_canonical(config)))
        extends = stored is not None and all(
            _canonical({"v": stored[k]}) == _canonical({"v": config.get(k)}) for k in stored
        )
        if stored is not None and (new or not extends):
            if not new:
                changes = "; ".join(_diff_keys(stored, config)[:6])
                raise ConfigMismatch(
                    f"{self.dir} holds a run with a different configuration ({changes}); "
                    "use a new directory, or --new to move the old run aside"
                )
            aside = self.dir.with_name(f"{self.dir.name}.old-{time.strftime('%Y%m%d-%H%M%S')}")
            os.replace(self.dir, aside)
            stored = None
        self.config = config
        if stored is None or _canonical(stored) != _canonical(config):
            self.dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.dir / _CONFIG, json.dumps(config, indent=1, sort_keys=True))

    def __repr__(self) -> str:
        return f"Run({str(self.dir)!r})"

    def _read_config(self) -> dict[str, Any] | None:
        p = self.dir / _CONFIG
        if not p.exists():
            return None
        try:
            return json.loads(p.read_text())
        except json.JSONDecodeError as exc:
            raise CorruptResult(f"{p}: unreadable config ({exc})") from None

    # ------------------------------------------------------------------ minima
    @property
    def minima_files(self) -> tuple[Path, Path]:
        """``(minima.json, minima.safetensors)``."""
        return self.dir / "minima.json", self.dir / "minima.safetensors"

    def save_minima(self, minima: Minima, *, sources: Iterable[PathLike] | None = None) -> None:
        """Store the minima (points + record), with the SHA-256 of their source files.

        ``sources`` are the user's checkpoint files the minima were loaded from; a
        later :meth:`check_sources` verifies they have not changed.
        """
        meta, tensors = self.dir / "minima.json", self.dir / "minima.safetensors"
        record = {"format": "topoloss.Minima", "type": type(minima).__name__, **minima.to_dict(points=False)}
        if sources is not None:
            record["sources"] = [{"file": str(Path(s).resolve()), "sha256": file_sha256(s)} for s in sources]
        atomic_write_bytes(tensors, safetensors.torch.save({"points": minima.points.detach().cpu().contiguous()}))
        atomic_write_text(meta, json.dumps(record, indent=1, default=_jsonable))

    def save_minimum_part(self, minimum: Minima) -> None:
        """Store one freshly trained minimum as ``minima/<name>.safetensors`` (atomic).

        Parts let an interrupted training resume with the seeds that are missing;
        :meth:`minimum_parts` reads them back.
        """
        for i, name in enumerate(minimum.names):
            one = minimum.subset([i])
            record = json.dumps({"type": type(one).__name__, **one.to_dict(points=False)}, default=_jsonable)
            file = self.dir / "minima" / f"{_SAFE_NAME.sub('_', str(name))}.safetensors"
            atomic_write_bytes(file, safetensors.torch.save(
                {"points": one.points.detach().cpu().contiguous()}, metadata={"record": record}))

    def minimum_parts(self) -> dict[Hashable, Minima]:
        """The minima stored by :meth:`save_minimum_part`, by name (unreadable ones skipped)."""
        from topoloss.minima.train import TrainedMinima

        out: dict[Hashable, Minima] = {}
        for file in sorted((self.dir / "minima").glob("*.safetensors")):
            try:
                with safetensors.safe_open(str(file), framework="pt") as fh:
                    record = json.loads((fh.metadata() or {})["record"])
                    points = fh.get_tensor("points")
                cls = TrainedMinima if record.get("type") == "TrainedMinima" else Minima
                one = cls.from_dict(record, points=points)
            except Exception:  # a damaged part is simply trained again
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
            raise CorruptResult(f"{meta.name}/{tensors.name} in {self.dir}: unreadable minima ({exc})") from None

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

        folder = self.dir / "checkpoints"
        for name, point in zip(minima.names, minima.points):
            file = folder / f"{_SAFE_NAME.sub('_', str(name))}.safetensors"
            if not file.exists():
                save_minimum(landscape, point, file)
        return folder

    # ------------------------------------------------------------------ paths
    def path_file(self, u: Hashable, v: Hashable) -> Path:
        """Where the path between minima ``u`` and ``v`` is stored."""
        return self.dir / "paths" / f"{_SAFE_NAME.sub('_', str(u))}--{_SAFE_NAME.sub('_', str(v))}.safetensors"

    def save_path(self, path: PathRecord) -> Path:
        """Write one finished path (atomic). Returns its file."""
        file = self.path_file(path.u, path.v)
        tensors = {k: t.detach().cpu().contiguous() for k, t in path.tensors().items()}
        record = json.dumps(path.to_dict(tensors=False), default=_jsonable)
        atomic_write_bytes(file, safetensors.torch.save(tensors, metadata={"record": record}))
        return file

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
                return self._read_path(file)
        return None

    def _read_path(self, file: Path) -> PathRecord:
        try:
            with safetensors.safe_open(str(file), framework="pt") as fh:
                meta = fh.metadata() or {}
                tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - safe_open is no dict
            return PathRecord.from_dict(json.loads(meta["record"]), tensors=tensors)
        except Exception as exc:  # any failure to read back means the file is unusable
            raise CorruptResult(f"path file {file} is corrupt ({type(exc).__name__}: {exc})") from None

    def finished_paths(self) -> tuple[list[PathRecord], list[Path]]:
        """All readable stored paths, and the files that could not be read."""
        good: list[PathRecord] = []
        bad: list[Path] = []
        for file in sorted((self.dir / "paths").glob("*.safetensors")):
            try:
                good.append(self._read_path(file))
            except CorruptResult:
                bad.append(file)
        return good, bad

    # ------------------------------------------------------------------ results
    def save_graph(self, graph: LandscapeGraph) -> None:
        """Write ``graph.json``."""
        graph.to_json(self.dir / "graph.json")

    def load_graph(self) -> LandscapeGraph | None:
        """The stored graph, or ``None``."""
        p = self.dir / "graph.json"
        return LandscapeGraph.from_json(p) if p.exists() else None

    def save_barcode(self, barcode: Barcode) -> None:
        """Write ``barcode.json``: bars, saddles, TO-scores."""
        from topoloss.topology.score import barcode_summary

        data = barcode_summary(barcode)
        atomic_write_text(self.dir / "barcode.json", json.dumps(data, indent=1, default=_jsonable))

    def load_barcode(self) -> Barcode | None:
        """The stored barcode, or ``None``."""
        p = self.dir / "barcode.json"
        return Barcode.from_dict(json.loads(p.read_text())) if p.exists() else None


def _jsonable(x: Any) -> Any:
    if hasattr(x, "tolist"):
        return x.tolist()
    if isinstance(x, torch.dtype):
        return str(x)
    return str(x)
