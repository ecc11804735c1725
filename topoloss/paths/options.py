"""The options of path optimization: what paths/ reads from a configuration, and the
resolved settings it runs with.

:mod:`topoloss.paths` does not import :mod:`topoloss.config`. Its functions take any
object with the attributes of :class:`PathSettings` (how to optimize) and
:class:`EvaluationSettings` (how to measure); :class:`topoloss.config.PathConfig` and
:class:`topoloss.config.EvaluationConfig` are such objects. :func:`resolve_options` turns
path settings into :class:`PathOptions`, the concrete optimizer settings on one
landscape (automatic values filled).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from topoloss.landscapes.base import Landscape
from topoloss.minima.find import Minima
from topoloss.paths.curves import Curve

__all__ = ["DEFAULT_STEPS", "EvaluationSettings", "PathOptions", "PathSettings", "resolve_options", "steps_for"]

#: Optimizer steps of a path when neither ``epochs`` nor ``steps`` is given.
DEFAULT_STEPS = 400
#: Full-batch landscapes with at most this many coordinates optimize pairs together.
_GROUP_MAX_DIM = 4096


class PathSettings(Protocol):
    """How each pair is optimized (:class:`topoloss.config.PathConfig` is one).

    ``None`` means automatic for ``epochs``/``steps``, ``lr``, ``t_batch`` and ``group``
    (:func:`resolve_options`).
    """

    @property
    def curve(self) -> Curve: ...
    @property
    def epochs(self) -> int | None: ...
    @property
    def steps(self) -> int | None: ...
    @property
    def lr(self) -> float | None: ...
    @property
    def optimizer(self) -> str: ...
    @property
    def momentum(self) -> float: ...
    @property
    def schedule(self) -> str: ...
    @property
    def t_batch(self) -> int | None: ...
    @property
    def weight_decay(self) -> float: ...
    @property
    def jitter(self) -> float: ...
    @property
    def group(self) -> int | None: ...


class EvaluationSettings(Protocol):
    """How each path's barrier is measured (:class:`topoloss.config.EvaluationConfig` is one)."""

    @property
    def n_eval(self) -> int: ...
    @property
    def refine(self) -> int: ...
    @property
    def linear(self) -> bool: ...
    @property
    def screen(self) -> int: ...


@dataclass(frozen=True)
class PathOptions:
    """The concrete optimizer settings of the paths of one call (:func:`resolve_options`).

    Attributes
    ----------
    steps : int
        Optimizer steps per path.
    lr : float
        Initial learning rate.
    optimizer : str
        ``"adam"`` or ``"sgd"``.
    momentum : float
        SGD momentum.
    schedule : str
        ``"cosine"`` or ``"constant"``.
    t_batch : int
        Curve parameters per step.
    weight_decay, jitter : float
        L2 penalty on the curve's points; noise of the initial bends.
    group : int
        Pairs optimized together.
    """

    steps: int
    lr: float
    optimizer: str
    momentum: float
    schedule: str
    t_batch: int
    weight_decay: float
    jitter: float
    group: int


def steps_for(paths: PathSettings, batches_per_epoch: int) -> int:
    """Optimizer steps of one path on a landscape with ``batches_per_epoch``."""
    if paths.steps is not None:
        return paths.steps
    epochs = paths.epochs if paths.epochs is not None else max(1, math.ceil(DEFAULT_STEPS / batches_per_epoch))
    return epochs * batches_per_epoch


def _default_lr(minima: Minima, optimizer: str) -> float:
    """Adam: a hundredth of the median per-coordinate distance between minima."""
    if optimizer != "adam" or len(minima) < 2:
        return 0.01 if optimizer != "adam" else 1e-3
    d = minima.distances()
    med = float(np.median(d[np.triu_indices(len(minima), k=1)]))
    return 0.01 * med / math.sqrt(minima.dim) if med > 0 else 1e-3



def resolve_options(landscape: Landscape, minima: Minima, paths: PathSettings, n_pairs: int) -> PathOptions:
    """The concrete optimizer settings of ``paths`` on this landscape (automatic values filled)."""
    per_epoch = int(landscape.batches_per_epoch)
    full_batch = per_epoch == 1
    t_batch = paths.t_batch if paths.t_batch is not None else (16 if full_batch else 1)
    lr = paths.lr if paths.lr is not None else _default_lr(minima, paths.optimizer)
    group = paths.group
    if group is None:
        group = max(1, n_pairs) if full_batch and landscape.dim <= _GROUP_MAX_DIM else 1
    return PathOptions(steps_for(paths, per_epoch), float(lr), paths.optimizer, float(paths.momentum),
                       paths.schedule, t_batch, float(paths.weight_decay), float(paths.jitter), group)

