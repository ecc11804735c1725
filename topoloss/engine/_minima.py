"""Minima trained one seed at a time into a run directory, for
:func:`~topoloss.engine.pipeline.prepare_minima`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from topoloss.config import StudyConfig
from topoloss.engine.provenance import minimum_fingerprint
from topoloss.engine.store import Run
from topoloss.errors import CorruptResult
from topoloss.landscapes.base import Landscape
from topoloss.minima.find import Minima

__all__ = ["concat_minima", "train_into"]


def concat_minima(parts: Sequence[Minima]) -> Minima:
    """One record of several (all of the same type) in the given order."""
    from topoloss.minima.train import TrainedMinima

    fields = (
        torch.cat([p.points for p in parts]),
        np.concatenate([p.losses for p in parts]),
        tuple(n for p in parts for n in p.names),
        np.concatenate([p.n_steps for p in parts]),
        np.concatenate([p.converged for p in parts]),
        np.concatenate([p.on_boundary for p in parts]),
    )
    trained = [p for p in parts if isinstance(p, TrainedMinima)]
    if len(trained) == len(parts):
        return TrainedMinima(*fields, tuple(m for p in trained for m in p.metrics))
    return Minima(*fields)


def train_into(store: Run | None, landscape: Landscape, config: StudyConfig, progress: bool,
                say: Callable[[str], None]) -> Minima:
    """One minimum per seed; with a store each is saved as it finishes (with the
    fingerprint of its training options) and only the missing seeds, or those stored
    with other options, are trained on a resume."""
    from topoloss.minima.train import train_minima

    spec = config.minima
    if store is None:
        return train_minima(landscape, config=spec, progress=progress)
    names = [f"seed{s}" for s in spec.seeds]
    expected = {name: minimum_fingerprint(config, s) for s, name in zip(spec.seeds, names)}
    done = store.minimum_parts(provenance=expected)
    other = set(store.minimum_parts()) - set(done)
    for name in sorted(other & set(names), key=str):
        say(f"minimum {name} in {store.layout.minimum_parts} was made with other options: training it again")
    todo = [s for s, name in zip(spec.seeds, names) if name not in done]
    if todo:
        def save(minimum: Minima) -> None:
            store.save_minimum_part(minimum, provenance=expected[str(minimum.names[0])])

        train_minima(landscape, config=spec, seeds=tuple(todo), progress=progress, on_minimum=save)
        done = store.minimum_parts(provenance=expected)
    missing = [n for n in names if n not in done]
    if missing:
        raise CorruptResult(f"minima {missing} could not be read back from {store.layout.minimum_parts}; run the "
                            f"command again to train them again, or start afresh with --new")
    return concat_minima([done[n] for n in names])
