"""Provenance of stored results: what made a path file or a minimum.

Every result a run directory stores carries a fingerprint of the options and inputs that
made it, and the engine reuses a stored result only when its fingerprint equals the one
the current configuration would produce. The fingerprints are computed here, and only
here.

A **path** depends on the curve, every ``[paths]`` option except ``pairs`` and
``group`` (each pair is seeded on its own, so which pairs run, and how many at once, do
not change a pair's result), every ``[evaluation]`` option, the root ``seed``, the pair's
position among the minima (its random stream is seeded by ``(seed, i, j)``), and its two
endpoints (names and a hash of their points). The executor is not part of it either.
An option added later (:data:`~topoloss.config.ADDED_LATER`) is left out at its old value,
so paths stored before it existed keep their fingerprints. A path evaluated densely
(``[evaluation] screen = 0``) is reusable under any ``screen``
(:func:`reusable_path_fingerprints`); a screened one only under its own ``screen``.

A **trained minimum** depends on the model, the data, the batch size, the training
options of ``[minima]`` and its own seed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable
from typing import Any

import torch

from topoloss.config import ADDED_LATER, StudyConfig

__all__ = ["PATH_OPTIONS_IGNORED", "minima_fingerprint", "minima_inputs", "minimum_fingerprint", "minimum_inputs",
           "path_fingerprint", "path_inputs", "points_sha256", "reusable_path_fingerprints"]

#: ``[paths]`` options that never change a pair's result.
PATH_OPTIONS_IGNORED = ("pairs", "group")


def points_sha256(points: torch.Tensor) -> str:
    """SHA-256 of a tensor's values (float64, C order, CPU) and shape."""
    x = points.detach().to("cpu", torch.float64).contiguous()
    h = hashlib.sha256(json.dumps(list(x.shape)).encode())
    h.update(x.numpy().tobytes())
    return h.hexdigest()


def _digest(what: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()


def _without_added_defaults(section: str, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` of a section without the options added later that hold their old value."""
    return {k: v for k, v in values.items()
            if not ((section, k) in ADDED_LATER and v == ADDED_LATER[(section, k)])}


def path_inputs(
    config: StudyConfig, i: int, j: int, u: Hashable, v: Hashable, a: torch.Tensor, b: torch.Tensor
) -> dict[str, Any]:
    """The options and inputs a path between minima ``i`` (``u`` at ``a``) and ``j`` depends on."""
    paths = {k: v for k, v in config.paths.to_dict().items() if k not in PATH_OPTIONS_IGNORED}
    return {
        "paths": paths,
        "evaluation": _without_added_defaults("evaluation", config.evaluation.to_dict()),
        "seed": config.seed,
        "pair": [int(i), int(j)],
        "u": [str(u), points_sha256(a)],
        "v": [str(v), points_sha256(b)],
    }


def path_fingerprint(
    config: StudyConfig, i: int, j: int, u: Hashable, v: Hashable, a: torch.Tensor, b: torch.Tensor
) -> str:
    """The fingerprint (hex SHA-256) of a path made under ``config`` between minima ``i`` and ``j``.

    Parameters
    ----------
    config : StudyConfig
        The study's configuration.
    i, j : int
        Positions of the endpoints among the minima (the pair's random stream depends on them).
    u, v : hashable
        Their names.
    a, b : Tensor of shape (P,)
        Their points.

    Examples
    --------
    >>> import torch
    >>> from topoloss.config import StudyConfig
    >>> a, b = torch.zeros(2), torch.ones(2)
    >>> f = path_fingerprint(StudyConfig(), 0, 1, "m0", "m1", a, b)
    >>> f == path_fingerprint(StudyConfig().with_options(pairs="mst", group=4), 0, 1, "m0", "m1", a, b)
    True
    >>> f == path_fingerprint(StudyConfig().with_options(steps=10), 0, 1, "m0", "m1", a, b)
    False
    """
    return _digest(path_inputs(config, i, j, u, v, a, b))


def reusable_path_fingerprints(
    config: StudyConfig, i: int, j: int, u: Hashable, v: Hashable, a: torch.Tensor, b: torch.Tensor
) -> tuple[str, ...]:
    """Fingerprints of stored paths that ``config`` may reuse for this pair: its own
    (:func:`path_fingerprint`), and with ``screen > 0`` also that of the same path
    evaluated densely (``screen = 0``: every point on the full data, at least as exact).

    Examples
    --------
    >>> import torch
    >>> from topoloss.config import StudyConfig
    >>> a, b = torch.zeros(2), torch.ones(2)
    >>> dense = path_fingerprint(StudyConfig().with_options(screen=0), 0, 1, "m0", "m1", a, b)
    >>> dense in reusable_path_fingerprints(StudyConfig().with_options(screen=512), 0, 1, "m0", "m1", a, b)
    True
    >>> screened = path_fingerprint(StudyConfig().with_options(screen=512), 0, 1, "m0", "m1", a, b)
    >>> screened in reusable_path_fingerprints(StudyConfig().with_options(screen=0), 0, 1, "m0", "m1", a, b)
    False
    """
    own = path_fingerprint(config, i, j, u, v, a, b)
    if config.evaluation.screen == 0:
        return (own,)
    dense = config.replace(evaluation=config.evaluation.replace(screen=0))
    return (own, path_fingerprint(dense, i, j, u, v, a, b))


def minimum_inputs(config: StudyConfig, seed: int) -> dict[str, Any]:
    """The options and inputs a minimum trained with ``seed`` depends on."""
    return {
        "model": config.model,
        "data": config.data,
        "batch_size": config.batch_size,
        "training": config.minima.training_options(),
        "seed": int(seed),
    }


def minimum_fingerprint(config: StudyConfig, seed: int) -> str:
    """The fingerprint (hex SHA-256) of the minimum trained under ``config`` from ``seed``."""
    return _digest(minimum_inputs(config, seed))


def minima_inputs(config: StudyConfig) -> dict[str, Any]:
    """The options the minima of a study depend on: the landscape (or model, data and batch
    size), the ``[minima]`` section, and on an analytic landscape the root ``seed``."""
    minima = _without_added_defaults("minima", config.minima.to_dict())  # older runs' fingerprints stay
    out: dict[str, Any] = {"minima": minima}
    if config.landscape is not None:
        out.update(landscape=config.landscape, seed=config.seed)
    else:
        out.update(model=config.model, data=config.data, batch_size=config.batch_size)
    return out


def minima_fingerprint(config: StudyConfig) -> str:
    """The fingerprint (hex SHA-256) of the minima a study under ``config`` makes."""
    return _digest(minima_inputs(config))
