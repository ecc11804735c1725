"""Minima of model landscapes: train them from seeds, load and save checkpoints (SPEC §2).

A minimum is a point ``θ`` found by stochastic gradient descent from a random
initialization, or loaded from a checkpoint. Training runs on the landscape's flat
vector through :meth:`Landscape.objective`, so it exercises exactly the stateless
evaluation that path optimization uses.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from topoloss._io import atomic_write_bytes, check_file
from topoloss._progress import progress_bar
from topoloss.errors import Diverged, InputError, InputTypeError, TopolossWarning
from topoloss.landscapes.base import Landscape
from topoloss.landscapes.model import ModelLandscape
from topoloss.minima.find import Minima
from topoloss.minima.options import TrainingConfig, TrainingOptions, learning_rate

__all__ = ["TrainedMinima", "learning_rate", "load_minima", "save_checkpoints", "save_minimum", "train_minima"]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True, eq=False)
class TrainedMinima(Minima):
    """:class:`~topoloss.minima.Minima` with per-minimum measurements.

    Everything that accepts :class:`~topoloss.minima.Minima` accepts this record.
    For trained minima ``n_steps`` counts optimizer steps, ``converged`` is ``True``
    (training runs a fixed budget) unless a ``target_loss`` was given and not reached,
    and ``on_boundary`` is ``False``.

    Attributes
    ----------
    metrics : tuple of dict
        One dict per minimum, e.g. ``train_loss``, ``train_accuracy``,
        ``test_loss``, ``test_accuracy`` (whatever the landscape can measure).
    """

    metrics: tuple[dict[str, float], ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        metrics = tuple(dict(m) for m in self.metrics)
        if metrics and len(metrics) != len(self):
            raise InputError(f"TrainedMinima has {len(self)} points but {len(metrics)} metrics")
        object.__setattr__(self, "metrics", metrics)

    def subset(self, indices: Sequence[int]) -> TrainedMinima:
        """The minima at ``indices``, in that order, with their metrics."""
        idx = [self.index(i) for i in indices]
        base = super().subset(idx)
        return TrainedMinima(base.points, base.losses, base.names, base.n_steps, base.converged,
                             base.on_boundary, tuple(self.metrics[i] for i in idx) if self.metrics else ())

    def to_dict(self, *, points: bool = True) -> dict[str, Any]:
        """JSON-ready dict, :meth:`Minima.to_dict` plus ``metrics``."""
        return {**super().to_dict(points=points), "metrics": [dict(m) for m in self.metrics]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, points: torch.Tensor | None = None) -> TrainedMinima:
        """Inverse of :meth:`to_dict`."""
        base = Minima.from_dict(data, points=points)
        return cls(base.points, base.losses, base.names, base.n_steps, base.converged,
                   base.on_boundary, tuple(data.get("metrics", ())))


def _record(points: list[torch.Tensor], losses: list[float], names: Sequence[str],
            steps: int | Sequence[int], metrics: list[dict[str, float]],
            converged: Sequence[bool] | None = None) -> TrainedMinima:
    m = len(points)
    n_steps = np.full(m, steps) if isinstance(steps, int) else np.asarray(steps, dtype=np.int64)
    done = np.ones(m, bool) if converged is None else np.asarray(converged, dtype=bool)
    return TrainedMinima(torch.stack(points), np.asarray(losses, float), tuple(names),
                         n_steps, done, np.zeros(m, bool), tuple(metrics))


def _measure(landscape: Landscape, point: torch.Tensor, label: str) -> tuple[float, dict[str, float]]:
    """Exact loss and metrics of one minimum, ``ValueError`` naming it if not finite."""
    out = dict(landscape.point_metrics(point))
    if "train_loss" in out:  # measured with the metrics already: no second pass
        loss = out["train_loss"]
    else:
        loss = float(landscape.loss(point.unsqueeze(0))[0])
        out = {"train_loss": loss, **out}
    if not math.isfinite(loss):
        raise InputError(f"the loss at minimum {label} is {loss} (not finite)")
    return loss, out


def _initial(landscape: Landscape, init: Any, seed: int, index: int) -> torch.Tensor:
    if init is None:
        return landscape.initial_point(seed)
    if callable(init):
        return landscape.as_points(init(seed), name=f"init({seed})")[0]
    return landscape.as_points(init, name="init")[index]


def train_minima(
    landscape: Landscape,
    *,
    config: TrainingConfig | None = None,
    init: torch.Tensor | Callable[[int], torch.Tensor] | None = None,
    progress: bool = True,
    on_minimum: Callable[[TrainedMinima], None] | None = None,
    **options: Any,
) -> TrainedMinima:
    """Train one minimum per seed with mini-batch SGD or Adam.

    For each seed the start is ``landscape.initial_point(seed)`` (or ``init``), the
    mini-batch order comes from a generator seeded with ``seed``, and random layers
    (dropout) draw from ``torch.manual_seed(seed)``; the global RNG is restored after.

    Parameters
    ----------
    landscape : Landscape
        Usually a :class:`~topoloss.ModelLandscape`.
    config : TrainingOptions or MinimaConfig, optional
        The training options: a :class:`~topoloss.minima.options.TrainingOptions`, or
        any :class:`~topoloss.minima.options.TrainingConfig` such as
        :class:`topoloss.config.MinimaConfig` (whose defaults are the same ones, those of
        the CLI and of config files too); default ``TrainingOptions()``.
    init : Tensor (m, P) or callable, optional
        Starting points, one row per seed, or ``init(seed) -> (P,)``.
    progress : bool, default=True
        Show a tqdm bar per seed.
    on_minimum : callable, optional
        Called with each minimum (a one-row :class:`TrainedMinima`) as soon as it is
        trained, e.g. to save it before the next seed starts. Each seed's result
        depends on that seed alone, so training seeds in separate calls gives the
        same minima.
    **options
        Options that replace those of ``config`` (fields of
        :class:`~topoloss.minima.options.TrainingOptions`): ``seeds`` (one minimum per seed, named ``f"seed{seed}"``),
        ``epochs`` (passes over the training set), ``optimizer`` (``"sgd"`` with
        ``momentum``, the paper's setting, or ``"adam"``), ``lr`` (default 0.05 for SGD,
        1e-3 for Adam), ``momentum``, ``weight_decay`` (of the optimizer, not part of
        the landscape's loss), ``schedule`` (see :func:`learning_rate`, updated every
        step), ``lr_end``, ``cycles`` and ``target_loss`` (stop a seed's training after
        the first epoch that ends with the exact full training loss ``<= target_loss``; the
        schedule still spans ``epochs``, which is the cap; a seed that does not reach it
        keeps its last point, is marked ``converged=False`` and a
        :class:`~topoloss.errors.TopolossWarning` names it). With ``target_loss`` each
        minimum's metrics also hold ``epochs``, the epochs it trained.

    Returns
    -------
    TrainedMinima
        Points, exact losses and metrics (train/test loss and accuracy when the
        landscape can measure them).

    Raises
    ------
    InputError
        For a bad option (naming it).
    Diverged
        When training from a seed diverges (naming the seed and the epoch).
    """
    cfg = (config if config is not None else TrainingOptions()).replace(**options).training()
    seeds = list(cfg.seeds)
    epochs, optimizer, momentum, weight_decay = cfg.epochs, cfg.optimizer, cfg.momentum, cfg.weight_decay
    schedule, lr_end, cycles, target = cfg.schedule, cfg.lr_end, cfg.cycles, cfg.target_loss
    base = cfg.base_lr
    if isinstance(init, torch.Tensor) and (init.ndim != 2 or len(init) != len(seeds)):
        raise InputError(f"init must hold one row per seed ({len(seeds)}), got shape {tuple(init.shape)}")
    dev = landscape.device
    cuda = [dev.index or 0] if dev.type == "cuda" else []
    per_epoch = landscape.batches_per_epoch
    total = epochs * per_epoch
    points, losses, metrics, steps_done, reached = [], [], [], [], []
    for index, seed in enumerate(seeds):
        theta = _initial(landscape, init, seed, index).detach().clone().requires_grad_(True)
        if optimizer == "sgd":
            opt: torch.optim.Optimizer = torch.optim.SGD(
                [theta], lr=base, momentum=momentum, weight_decay=weight_decay)
        else:
            opt = torch.optim.Adam([theta], lr=base, weight_decay=weight_decay)
        stream = landscape.batches(generator=torch.Generator().manual_seed(seed))
        bar = progress_bar(total=total, desc=f"seed {seed}", disable=not progress, kind="task", unit="step")
        trained = 0
        with torch.random.fork_rng(devices=cuda), bar:
            torch.manual_seed(seed)
            for epoch in range(epochs):
                running = torch.zeros((), dtype=torch.float64, device=theta.device)
                for step in range(epoch * per_epoch, (epoch + 1) * per_epoch):
                    rate = learning_rate(schedule, step / total, lr=base, lr_end=lr_end, cycles=cycles)
                    for group in opt.param_groups:
                        group["lr"] = rate
                    value = landscape.objective(theta.unsqueeze(0), next(stream)).sum()
                    opt.zero_grad(set_to_none=True)
                    value.backward()
                    opt.step()
                    running += value.detach()
                    bar.update()
                mean = float(running) / per_epoch
                if not math.isfinite(mean):
                    raise Diverged(
                        f"training from seed {seed} diverged in epoch {epoch} (mean mini-batch "
                        f"loss {mean}); lower lr={base}")
                bar.set_postfix(loss=f"{mean:.4g}")
                trained = epoch + 1
                if target is not None and float(landscape.loss(theta.detach().unsqueeze(0))[0]) <= target:
                    break
        point = theta.detach()
        loss, record = _measure(landscape, point, f"seed{seed}")
        hit = target is None or loss <= target
        if target is not None:
            record["epochs"] = float(trained)
            if not hit:
                warnings.warn(f"training from seed {seed} did not reach target_loss={target} in "
                              f"{epochs} epochs (training loss {loss:.4g}); raise epochs or lr",
                              TopolossWarning, stacklevel=2)
        points.append(point)
        losses.append(loss)
        metrics.append(record)
        steps_done.append(trained * per_epoch)
        reached.append(hit)
        if on_minimum is not None:
            on_minimum(_record([point], [loss], [f"seed{seed}"], [trained * per_epoch], [record], [hit]))
    return _record(points, losses, [f"seed{s}" for s in seeds], steps_done, metrics, reached)


# ---------------------------------------------------------------- checkpoints
def _read_checkpoint(path: Path) -> Any:
    check_file(path, "checkpoint")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
            raise InputError(f"{path}: not a readable safetensors file ({exc})") from None
    with open(path, "rb") as fh:
        head = fh.read(2)
    if not head:
        raise InputError(f"{path}: empty file, not a PyTorch checkpoint")
    if head != b"PK" and head[:1] != b"\x80":  # neither torch.save's zip archive nor a pickle
        raise InputError(f"{path}: not a PyTorch checkpoint (neither a zip archive nor a pickle; "
                         f"starts with {head!r})")
    try:
        return torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError:
        raise InputError(
            f"{path}: refusing to load: it holds pickled objects other than tensors and "
            f"plain containers (torch.load(weights_only=True) rejected it); re-save it as "
            f"a plain state dict or .safetensors") from None
    except Exception as exc:  # noqa: BLE001 - torch.load on a corrupt file raises almost anything
        raise InputError(f"{path}: not a readable PyTorch checkpoint ({_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message, cut to 160 characters, or its type."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first if len(first) <= 160 else first[:157] + "..."


def _names_for(paths: Sequence[Path]) -> tuple[str, ...]:
    stems = [p.stem for p in paths]
    if len(set(stems)) == len(stems):
        return tuple(stems)
    return tuple(str(p) for p in paths)


def load_minima(landscape: ModelLandscape, files: PathLike | Iterable[PathLike]) -> TrainedMinima:
    """Load minima from ``.pt``/``.pth`` state dicts and ``.safetensors`` files.

    PyTorch files are read with ``torch.load(weights_only=True, map_location="cpu")``:
    a file holding arbitrary pickled objects is refused, never executed. A state dict
    may be wrapped as ``{"state_dict": ...}`` or ``{"model_state": ...}`` (also
    ``"model_state_dict"``, ``"model"``) and may carry the ``module.`` prefix of
    ``DataParallel``. Buffers in the file are checked for shape but not used (they are
    recomputed at every point); frozen parameters come from the landscape's model.

    Parameters
    ----------
    landscape : ModelLandscape
        The architecture every file must match.
    files : path or iterable of paths
        One minimum per file, named by the file stem (the full path when stems repeat).

    Returns
    -------
    TrainedMinima
        Points, exact losses and metrics.

    Raises
    ------
    FileNotFoundError
        Naming a missing file.
    ValueError
        Naming the file and the missing, unexpected or mis-shaped key, or a file that
        is not a plain tensor checkpoint.
    """
    if not isinstance(landscape, ModelLandscape):
        raise InputTypeError(f"load_minima needs a ModelLandscape, got {type(landscape).__name__}")
    paths = [Path(files)] if isinstance(files, (str, os.PathLike)) else [Path(f) for f in files]
    if not paths:
        raise InputError("files must name at least one checkpoint")
    names = _names_for(paths)
    points = [landscape.flatten(_read_checkpoint(p), source=str(p)) for p in paths]
    if len(paths) == 1:
        warnings.warn(f"one checkpoint ({paths[0]}) gives one minimum: its barcode is trivial "
                      f"(one infinite bar, TO-score 0); pass two or more", TopolossWarning, stacklevel=2)
    measured = [_measure(landscape, point, name) for point, name in zip(points, names)]
    return _record(points, [m[0] for m in measured], names, 0, [m[1] for m in measured])


def save_minimum(landscape: ModelLandscape, point: Any, path: PathLike) -> Path:
    """Write the full state dict at ``point`` atomically (a killed run leaves no half file).

    ``.safetensors`` (recommended) or, for a ``.pt``/``.pth`` suffix, ``torch.save``.
    Buffers hold the statistics recomputed at ``point``, so the file loads into a plain
    model with ``load_state_dict`` and evaluates correctly.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    state = {k: v.detach().cpu().contiguous() for k, v in landscape.unflatten(point).items()}
    if path.suffix in (".pt", ".pth"):
        buffer = io.BytesIO()
        torch.save(state, buffer)
        data = buffer.getvalue()
    else:
        from safetensors.torch import save

        data = save(state, metadata={"format": "pt", "producer": "topoloss"})
    atomic_write_bytes(path, data)
    return path


def save_checkpoints(landscape: ModelLandscape, minima: Minima, directory: PathLike) -> list[Path]:
    """Save every minimum as ``directory/<name>.safetensors`` (see :func:`save_minimum`)."""
    folder = Path(directory)
    names = [str(n) for n in minima.names]
    bad = [n for n in names if not n or os.sep in n or "/" in n or n in (".", "..")]
    if bad:
        raise InputError(f"minimum name {bad[0]!r} cannot be a file name")
    return [save_minimum(landscape, p, folder / f"{n}.safetensors")
            for n, p in zip(names, minima.points)]

