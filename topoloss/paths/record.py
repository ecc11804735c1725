"""Optimized paths: the :class:`PathRecord` record (SPEC §2).

A record holds one optimized curve between two minima, its exact loss profile and the
straight segment's. The profiles come from the dense evaluation
(:mod:`topoloss.paths.evaluate`, re-exported here: :func:`evaluate_curves`,
:func:`evaluate_curve`, :func:`exact_losses`) or the screened one
(:mod:`topoloss.paths.screen`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from topoloss.errors import InputError
from topoloss.paths.curves import Curve, curve_from_dict
from topoloss.paths.evaluate import _straight, evaluate_curve, evaluate_curves, exact_losses  # noqa: F401 - re-exported

__all__ = ["PathRecord", "evaluate_curve", "evaluate_curves", "exact_losses"]

#: The arrays of a record's screening estimates.
_SCREEN_ARRAYS = ("screen_t", "screen_losses", "linear_screen_t", "linear_screen_losses")


def _frozen(a: Any, dtype: Any = float) -> np.ndarray:
    out = np.array(a, dtype=dtype, copy=True).reshape(-1)
    out.setflags(write=False)
    return out


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


class _Metrics(Mapping[str, np.ndarray]):
    """A read-only mapping name -> read-only array that pickles (Ray sends records between processes)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, np.ndarray] | None = None) -> None:
        self._data = dict(data or {})

    def __getitem__(self, name: str) -> np.ndarray:
        return self._data[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k!r}: array({v.size})" for k, v in self._data.items()) + "}"


def _metrics(metrics: Mapping[str, Any], t: np.ndarray, losses: np.ndarray) -> Mapping[str, np.ndarray]:
    """``metrics`` as a read-only mapping of read-only float arrays aligned with ``t``."""
    if not isinstance(metrics, Mapping):
        raise InputError(f"metrics={type(metrics).__name__}; expected a mapping of name -> values along t")
    out: dict[str, np.ndarray] = {}
    for name, values in metrics.items():
        if not isinstance(name, str):
            raise InputError(f"metric name {name!r} is not a string")
        arr = _frozen([math.nan if v is None else v for v in values] if isinstance(values, list) else values)
        if arr.shape != t.shape:
            raise InputError(f"metric {name!r} has {arr.size} values; expected one per t ({t.size})")
        out[name] = arr
    if "train_loss" in out and not np.array_equal(out["train_loss"], losses, equal_nan=True):
        raise InputError("metric 'train_loss' differs from losses; it must be the barrier profile itself")
    return _Metrics(out)


@dataclass(frozen=True, eq=False)
class PathRecord:
    """One optimized path between two minima and its loss profile.

    Attributes
    ----------
    u, v : hashable
        Names of the start (``t = 0``) and end (``t = 1``) minima.
    start, end : Tensor, shape (P,)
        Their points.
    curve : Curve
        The curve specification (:class:`~topoloss.Bezier`, ...).
    bends : Tensor, shape (k, P)
        The optimized control points; ``curve.at(start, end, bends, t)`` is the path.
    t, losses : ndarray, shape (T,)
        Sorted evaluation parameters and the exact loss there (read-only).
    barrier : float
        The barrier ``B(u, v)`` this record gives the graph: ``max(losses)``, the peak
        of the optimized curve, unless the optimization failed (see ``fallback``).
    t_max : float
        Where the barrier is attained (on the straight segment after a fallback).
    linear_t, linear_losses : ndarray
        The same evaluation on the straight segment (empty if not computed).
    linear_barrier : float
        Barrier of the straight segment (``nan`` if not computed).
    history : ndarray
        Optimization loss per step: the mean objective over the sampled ``t`` for
        Bézier curves and polygonal chains, the highest objective over the movable
        points for a :class:`~topoloss.Chain`.
    seconds_optimize, seconds_evaluate : float
        Wall time spent optimizing and evaluating (shared evenly among paths that
        were optimized together); the evaluation includes measuring ``metrics``.
    seed : int
        The seed this path's randomness was drawn from.
    screen : int
        How the profile was evaluated: ``0`` densely (every grid point on the full
        training set), else the samples of the screening subsample
        (:mod:`topoloss.paths.screen`); ``t``/``losses`` then hold only the points
        evaluated on the full data (endpoints, survivors, refinement).
    screen_t, screen_losses : ndarray
        After screening: every screened parameter of the curve and its subsample
        estimate (the whole grid, e.g. to draw the profile); empty otherwise.
    linear_screen_t, linear_screen_losses : ndarray
        The same for the straight segment (empty unless its profile is kept).
    fallback : str or None
        ``None`` normally. ``"straight"`` when the optimized curve peaked higher than
        the straight segment between the same minima (by more than a relative ``1e-6``,
        evaluation accuracy): the straight segment is itself a
        path, so the optimization failed, and ``barrier``/``t_max`` are the straight
        segment's (``linear_barrier``). ``t``/``losses``/``bends`` still describe the
        failed curve, ``curve_barrier`` its peak. The rule: an edge is never higher than
        the best path evaluated for its pair (up to that tolerance).
    metrics : mapping of str to ndarray
        Measurements along the optimized curve, each aligned with ``t`` (read-only):
        ``train_loss`` (equal to ``losses``), ``train_accuracy`` and, when the landscape
        has test data, ``test_loss`` and ``test_accuracy``
        (:func:`topoloss.paths.metrics.path_metrics`). Empty for analytic landscapes and
        for records stored before metrics existed.
    """

    u: Hashable
    v: Hashable
    start: torch.Tensor
    end: torch.Tensor
    curve: Curve
    bends: torch.Tensor
    t: np.ndarray
    losses: np.ndarray
    barrier: float
    t_max: float
    linear_t: np.ndarray = field(default_factory=lambda: _frozen([]))
    linear_losses: np.ndarray = field(default_factory=lambda: _frozen([]))
    linear_barrier: float = math.nan
    history: np.ndarray = field(default_factory=lambda: _frozen([]))
    seconds_optimize: float = 0.0
    seconds_evaluate: float = 0.0
    seed: int = 0
    fallback: str | None = None
    metrics: Mapping[str, np.ndarray] = field(default_factory=_Metrics)
    screen: int = 0
    screen_t: np.ndarray = field(default_factory=lambda: _frozen([]))
    screen_losses: np.ndarray = field(default_factory=lambda: _frozen([]))
    linear_screen_t: np.ndarray = field(default_factory=lambda: _frozen([]))
    linear_screen_losses: np.ndarray = field(default_factory=lambda: _frozen([]))

    def __post_init__(self) -> None:
        for name in ("t", "losses", "linear_t", "linear_losses", "history", *_SCREEN_ARRAYS):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        for name in ("start", "end", "bends"):
            object.__setattr__(self, name, getattr(self, name).detach())
        if self.t.shape != self.losses.shape or self.t.size == 0:
            raise InputError(f"t and losses must be non-empty and equal in length, got "
                             f"{self.t.size} and {self.losses.size}")
        if self.bends.ndim != 2 or self.bends.shape[1] != self.start.shape[0]:
            raise InputError(f"bends of shape {tuple(self.bends.shape)} do not match "
                             f"endpoints of shape {tuple(self.start.shape)}")
        object.__setattr__(self, "barrier", float(self.barrier))
        object.__setattr__(self, "t_max", float(self.t_max))
        object.__setattr__(self, "linear_barrier", float(self.linear_barrier))
        for name in ("screen_t", "linear_screen_t"):
            if getattr(self, name).shape != getattr(self, name.replace("_t", "_losses")).shape:
                raise InputError(f"{name} and {name.replace('_t', '_losses')} must be equal in length")
        object.__setattr__(self, "screen", int(self.screen))
        if self.fallback not in (None, "straight"):
            raise InputError(f"fallback={self.fallback!r}; expected None or 'straight'")
        object.__setattr__(self, "metrics", _metrics(self.metrics, self.t, self.losses))

    def barrier_metrics(self) -> dict[str, float]:
        """Every metric at the barrier point ``t_max`` (``{}`` without metrics).

        After a fallback the barrier lies on the straight segment, where no metric was
        measured: every value is then ``nan``.
        """
        if not self.metrics:
            return {}
        hit = np.flatnonzero(self.t == self.t_max) if self.fallback is None else np.empty(0, int)
        return {name: float(values[hit[0]]) if hit.size else math.nan for name, values in self.metrics.items()}

    @property
    def curve_barrier(self) -> float:
        """The peak of the optimized curve, ``max(losses)`` (above ``barrier`` after a fallback)."""
        return float(np.max(self.losses))

    @property
    def pair(self) -> tuple[Hashable, Hashable]:
        """``(u, v)``."""
        return (self.u, self.v)

    def points(self, t: torch.Tensor | Sequence[float] | float) -> torch.Tensor:
        """Points of the path at parameters ``t``, shape ``(T, P)``."""
        t = torch.as_tensor(t, dtype=self.start.dtype, device=self.start.device).reshape(-1)
        with torch.no_grad():
            return self.curve.at(self.start, self.end, self.bends, t)

    def tensors(self) -> dict[str, torch.Tensor]:
        """The tensors of the record (``start``, ``end``, ``bends``), e.g. for safetensors."""
        return {"start": self.start, "end": self.end, "bends": self.bends}

    def to_dict(self, *, tensors: bool = True) -> dict[str, Any]:
        """A JSON-ready dict; tensors as nested lists unless ``tensors=False``.

        With ``tensors=False`` store :meth:`tensors` separately and pass them back to
        :meth:`from_dict`.
        """
        out: dict[str, Any] = {
            "format": "topoloss.Path",
            "version": 1,
            "u": self.u,
            "v": self.v,
            "curve": self.curve.to_dict(),
            "n_bends": int(self.bends.shape[0]),
            "dim": int(self.start.shape[0]),
            "barrier": _num(self.barrier),
            "t_max": self.t_max,
            "linear_barrier": _num(self.linear_barrier),
            "t": self.t.tolist(),
            "losses": self.losses.tolist(),
            "linear_t": self.linear_t.tolist(),
            "linear_losses": self.linear_losses.tolist(),
            "history": [_num(h) for h in self.history.tolist()],
            "seconds_optimize": self.seconds_optimize,
            "seconds_evaluate": self.seconds_evaluate,
            "seed": self.seed,
            "fallback": self.fallback,
            "screen": self.screen,
            **{name: getattr(self, name).tolist() for name in _SCREEN_ARRAYS},
        }
        if self.metrics:  # records without metrics (analytic landscapes) keep their old form
            out["metrics"] = {name: [_num(x) for x in values.tolist()] for name, values in self.metrics.items()}
        if tensors:
            out.update({k: v.cpu().tolist() for k, v in self.tensors().items()})
        return out

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, tensors: Mapping[str, torch.Tensor] | None = None
    ) -> PathRecord:
        """Inverse of :meth:`to_dict`; ``tensors`` overrides tensors stored in ``data``."""
        if data.get("format", "topoloss.Path") != "topoloss.Path":
            raise InputError(f"not a path record: format={data.get('format')!r}")
        src: dict[str, Any] = {}
        for key in ("start", "end", "bends"):
            if tensors is not None and key in tensors:
                src[key] = tensors[key]
            elif key in data:
                src[key] = torch.as_tensor(data[key], dtype=torch.float64)
            else:
                raise InputError(f"PathRecord record lacks tensor {key!r}; pass tensors=...")
        if src["bends"].numel() == 0:
            src["bends"] = src["bends"].reshape(0, src["start"].shape[0])

        def num(x: Any) -> float:
            return math.nan if x is None else float(x)

        return cls(
            u=data["u"],
            v=data["v"],
            curve=curve_from_dict(data["curve"]),
            t=data["t"],
            losses=data["losses"],
            barrier=num(data["barrier"]),
            t_max=data["t_max"],
            linear_t=data.get("linear_t", []),
            linear_losses=data.get("linear_losses", []),
            linear_barrier=num(data.get("linear_barrier")),
            history=np.array([num(h) for h in data.get("history", [])], dtype=float),
            seconds_optimize=float(data.get("seconds_optimize", 0.0)),
            seconds_evaluate=float(data.get("seconds_evaluate", 0.0)),
            seed=int(data.get("seed", 0)),
            fallback=data.get("fallback"),
            metrics=data.get("metrics", {}),
            screen=int(data.get("screen", 0)),
            **{name: data.get(name, []) for name in _SCREEN_ARRAYS},
            **src,
        )

    def to_csv(self, path: str | os.PathLike[str] | None = None) -> str:
        """The profile as CSV: columns ``t``, ``loss`` and one per metric, a row per ``t``.

        Non-finite values are written as ``nan``/``inf``, readable by ``pandas.read_csv``
        and ``numpy.genfromtxt``. Written to ``path`` too (atomically) when given.

        Examples
        --------
        >>> import torch
        >>> from topoloss.paths.curves import Bezier
        >>> rec = PathRecord("a", "b", torch.zeros(1), torch.ones(1), Bezier(bends=0), torch.zeros(0, 1),
        ...                  t=[0.0, 1.0], losses=[0.5, 0.25], barrier=0.5, t_max=0.0,
        ...                  metrics={"test_loss": [0.75, 0.5]})
        >>> print(rec.to_csv().strip())
        t,loss,test_loss
        0.0,0.5,0.75
        1.0,0.25,0.5
        """
        import csv
        import io

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["t", "loss", *self.metrics])
        columns = [self.t, self.losses, *self.metrics.values()]
        for row in zip(*(c.tolist() for c in columns)):
            w.writerow([repr(float(x)) for x in row])
        text = buf.getvalue()
        if path is not None:
            from topoloss._io import atomic_write_text

            atomic_write_text(path, text)
        return text

    def __repr__(self) -> str:
        return (
            f"PathRecord({self.u!r} -> {self.v!r}, {self.curve!r}, barrier={self.barrier:.6g}, "
            f"linear_barrier={self.linear_barrier:.6g}"
            + (f", fallback={self.fallback!r})" if self.fallback else ")")
        )
