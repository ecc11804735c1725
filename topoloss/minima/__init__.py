"""Minima: the record, the search on analytic landscapes, training (and its options) and checkpoints."""

from topoloss.minima.find import Minima, as_minima, find_minima
from topoloss.minima.options import TrainingOptions
from topoloss.minima.train import (
    TrainedMinima,
    learning_rate,
    load_minima,
    save_checkpoints,
    save_minimum,
    train_minima,
)

__all__ = [
    "Minima",
    "TrainedMinima",
    "TrainingOptions",
    "as_minima",
    "find_minima",
    "learning_rate",
    "load_minima",
    "save_checkpoints",
    "save_minimum",
    "train_minima",
]
