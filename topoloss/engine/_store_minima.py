"""The minima in a run directory: ``minima.json`` with ``minima.safetensors``, the parts
``minima/NAME.safetensors`` of a training in progress, and the export to
``checkpoints/`` (:class:`~topoloss.engine.store.Run` inherits :class:`MinimaFiles`)."""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any

import safetensors.torch

from topoloss._io import atomic_write_bytes, atomic_write_text
from topoloss.engine._store_base import PathLike, StoreBase, file_sha256, jsonable
from topoloss.errors import ConfigMismatch, CorruptResult
from topoloss.minima.find import Minima

__all__ = ["MinimaFiles"]


class MinimaFiles(StoreBase):
    """The minima of a run (a part of :class:`~topoloss.engine.store.Run`)."""

    @property
    def minima_files(self) -> tuple[Path, Path]:
        """``(minima.json, minima.safetensors)``."""
        return self.layout.minima_record, self.layout.minima_points

    def save_minima(self, minima: Minima, *, sources: Iterable[PathLike] | None = None,
                    provenance: str | None = None) -> None:
        """Store the minima (points + record), with the SHA-256 of their source files.

        ``sources`` are the user's checkpoint files the minima were loaded from; a
        later :meth:`check_sources` verifies they have not changed. ``provenance`` is the
        fingerprint of what made them (see :meth:`minima_provenance`).
        """
        self._write_lock()
        meta, tensors = self.layout.minima_record, self.layout.minima_points
        record = {"format": "topoloss.Minima", "type": type(minima).__name__, **minima.to_dict(points=False)}
        if sources is not None:
            record["sources"] = [{"file": str(Path(s).resolve()), "sha256": file_sha256(s)} for s in sources]
        if provenance is not None:
            record["provenance"] = provenance
        atomic_write_bytes(tensors, safetensors.torch.save({"points": minima.points.detach().cpu().contiguous()}))
        atomic_write_text(meta, json.dumps(record, indent=1, default=jsonable))

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
            record = json.dumps({"type": type(one).__name__, **one.to_dict(points=False)}, default=jsonable)
            meta = {"record": record}
            if provenance is not None:
                meta["provenance"] = provenance
            file = self.layout.minimum_part(name)
            atomic_write_bytes(file, safetensors.torch.save(
                {"points": one.points.detach().cpu().contiguous()}, metadata=meta))

    def minimum_parts(self, *, provenance: Mapping[Any, str] | None = None) -> dict[Hashable, Minima]:
        """The minima stored by :meth:`save_minimum_part`, by name (unreadable ones skipped).

        With ``provenance`` (name -> expected fingerprint), a part is returned only when
        its stored fingerprint equals the expected one for its name.
        """
        from topoloss.minima.train import TrainedMinima

        out: dict[Hashable, Minima] = {}
        for file in self.layout.minimum_part_files():
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
        folder = self.layout.checkpoints
        for name, point in zip(minima.names, minima.points):
            file = self.layout.checkpoint(name)
            if not file.exists():
                save_minimum(landscape, point, file)
        return folder
