"""The options of :func:`~topoloss.minima.train_minima`: defaults, validation, schedules.

:class:`TrainingOptions` holds every training keyword with its default and its
validation rule, and :func:`learning_rate` is what its ``schedule`` means. The study
configuration (:class:`topoloss.config.MinimaConfig`) takes its defaults from
:data:`TRAINING_DEFAULTS` and builds a :class:`TrainingOptions` with
``MinimaConfig.training()``; ``train_minima(config=...)`` accepts either, through the
:class:`TrainingConfig` protocol, so this layer never imports the configuration.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from topoloss._schedules import cosine_decay
from topoloss._validate import check_choice, check_int, check_number, check_optional_number
from topoloss.errors import InputError

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "TRAINING_DEFAULTS",
    "TrainingConfig",
    "TrainingOptions",
    "check_seeds",
    "learning_rate",
]

Optimizer = Literal["sgd", "adam"]
Schedule = Literal["constant", "annealing", "cyclical", "cosine"]
#: The training optimizers (``optimizer=``).
OPTIMIZERS: tuple[str, ...] = ("adam", "sgd")
#: The learning-rate schedules of training (``schedule=``, see :func:`learning_rate`).
SCHEDULES: tuple[str, ...] = ("constant", "annealing", "cyclical", "cosine")


def check_seeds(seeds: Any) -> tuple[int, ...]:
    """``seeds`` as a tuple of distinct non-negative integers, at least one.

    >>> check_seeds([0, 2])
    (0, 2)
    >>> check_seeds([1, 1])
    Traceback (most recent call last):
    ...
    topoloss.errors.InputError: seeds=[1, 1]; expected distinct seeds, at least one
    """
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise InputError(f"seeds={seeds!r}; expected a list of integers")
    seeds = tuple(check_int(s, "seeds", low=0) for s in seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise InputError(f"seeds={list(seeds)}; expected distinct seeds, at least one")
    return seeds


@dataclass(frozen=True)
class TrainingOptions:
    """The options of :func:`~topoloss.minima.train_minima`, validated when built.

    Attributes
    ----------
    seeds : tuple of int
        One minimum per seed, named ``f"seed{seed}"``.
    epochs : int
        Passes over the training set (the cap when ``target_loss`` is given).
    optimizer : {"sgd", "adam"}
        ``"sgd"`` with ``momentum`` (the paper's setting) or ``"adam"``.
    lr : float, optional
        Base learning rate; default 0.05 for SGD, 1e-3 for Adam (:attr:`base_lr`).
    momentum : float
        SGD momentum.
    weight_decay : float
        L2 penalty of the optimizer (not part of the landscape's loss).
    schedule : {"constant", "annealing", "cyclical", "cosine"}
        See :func:`learning_rate`; updated every step.
    lr_end : float, optional
        Smallest learning rate of the schedule; default ``lr / 100``.
    cycles : int
        Cycles of the ``cyclical`` schedule.
    target_loss : float, optional
        Stop a seed after the first epoch whose exact full training loss is at most this.

    Raises
    ------
    InputError
        Naming the first bad option.

    Examples
    --------
    >>> TrainingOptions(optimizer="adam").base_lr
    0.001
    >>> TrainingOptions(epochs=0)
    Traceback (most recent call last):
    ...
    topoloss.errors.InputError: epochs=0; expected an integer >= 1
    """

    seeds: tuple[int, ...] = (0, 1, 2, 3)
    epochs: int = 20
    optimizer: Optimizer = "sgd"
    lr: float | None = None
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: Schedule = "constant"
    lr_end: float | None = None
    cycles: int = 4
    target_loss: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "seeds", check_seeds(self.seeds))
        check_int(self.epochs, "epochs", low=1)
        check_choice(self.optimizer, "optimizer", OPTIMIZERS)
        check_optional_number(self.lr, "lr", low=0, strict=True)
        check_number(self.momentum, "momentum", low=0, high=1)
        check_number(self.weight_decay, "weight_decay", low=0)
        check_choice(self.schedule, "schedule", SCHEDULES)
        check_optional_number(self.lr_end, "lr_end", low=0, strict=True)
        check_int(self.cycles, "cycles", low=1)
        check_optional_number(self.target_loss, "target_loss", low=0)

    @property
    def base_lr(self) -> float:
        """``lr``, or its default for the optimizer (0.05 for SGD, 1e-3 for Adam)."""
        return (0.05 if self.optimizer == "sgd" else 1e-3) if self.lr is None else float(self.lr)

    def replace(self, **changes: Any) -> TrainingOptions:
        """A copy with ``changes``, validated again."""
        return dataclasses.replace(self, **changes)

    def training(self) -> TrainingOptions:
        """These options (so that :class:`TrainingOptions` is a :class:`TrainingConfig`)."""
        return self


#: The defaults of every training option (``MinimaConfig`` reads them from here).
TRAINING_DEFAULTS = TrainingOptions()


class TrainingConfig(Protocol):
    """What ``train_minima(config=...)`` accepts: a configuration holding the training options.

    :class:`TrainingOptions` and :class:`topoloss.config.MinimaConfig` both meet it.
    ``replace`` returns a validated copy with some options changed, and ``training``
    returns the :class:`TrainingOptions` it holds.
    """

    def replace(self, **changes: Any) -> TrainingConfig:
        """A validated copy with ``changes``."""
        ...

    def training(self) -> TrainingOptions:
        """The training options."""
        ...


def learning_rate(
    schedule: Schedule, progress: float, *, lr: float, lr_end: float | None = None, cycles: int = 4
) -> float:
    """Learning rate at a fraction ``progress ∈ [0, 1]`` of training.

    Parameters
    ----------
    schedule : {"constant", "annealing", "cyclical", "cosine"}
        ``constant``: ``lr`` throughout (the paper's "type A" minima).
        ``annealing``: ``lr`` for the first half, linear decay to ``lr_end`` until 90 %,
        then ``lr_end`` (the schedule of mode-connectivity work; "type B" minima).
        ``cyclical``: ``cycles`` triangular cycles from ``lr_end`` up to ``lr`` and back.
        ``cosine``: cosine decay from ``lr`` to ``lr_end``.
    progress : float
        Fraction of the training steps done.
    lr : float
        Base (largest) learning rate.
    lr_end : float, optional
        Smallest learning rate; default ``lr / 100``.
    cycles : int, default=4
        Number of cycles of the ``cyclical`` schedule.

    Returns
    -------
    float
        The learning rate.

    Raises
    ------
    InputError
        For an unknown ``schedule``.

    Examples
    --------
    >>> learning_rate("annealing", 0.25, lr=0.1), learning_rate("cosine", 1.0, lr=0.1, lr_end=0.001)
    (0.1, 0.001)
    """
    low = lr / 100 if lr_end is None else lr_end
    u = min(max(float(progress), 0.0), 1.0)
    if schedule == "constant":
        return lr
    if schedule == "annealing":
        if u <= 0.5:
            return lr
        return lr + (low - lr) * min((u - 0.5) / 0.4, 1.0)
    if schedule == "cyclical":
        phase = (u * cycles) % 1.0 if u < 1.0 else 1.0
        return low + (lr - low) * (1.0 - abs(2.0 * phase - 1.0))
    if schedule == "cosine":
        return cosine_decay(lr, low, u)
    raise InputError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
