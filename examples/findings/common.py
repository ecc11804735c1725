"""Shared code of the finding scripts: run repeated studies per group, summarize, plot, save.

Every finding compares *groups* (an architecture, a training schedule, ...). A group is
measured ``repeats`` times; repeat ``r`` trains ``n_minima`` minima from the seeds
``r * n_minima, ..., (r + 1) * n_minima - 1`` (the same seeds in every group: a paired
design), connects pairs with the engine (:func:`topoloss.engine.pipeline.run_pipeline`),
and keeps the barcode and the numbers derived from it. :func:`summarize_groups` turns the
repeats into means, bootstrap confidence intervals and permutation tests against the
first group (:mod:`topoloss.stats`); :func:`save` writes everything as JSON.

This module is imported by the scripts next to it (``python examples/findings/NAME.py``
puts this folder first on ``sys.path``); it is not part of the ``topoloss`` package.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from topoloss.config import StudyConfig
from topoloss.engine.factories import make_landscape
from topoloss.engine.pipeline import Analysis, run_pipeline
from topoloss.landscapes.base import Landscape
from topoloss.minima.train import train_minima
from topoloss.paths.record import PathRecord
from topoloss.stats import summarize

__all__ = [
    "METRICS",
    "Group",
    "barcode_numbers",
    "figure",
    "measure_repeat",
    "parser",
    "print_table",
    "run_finding",
    "run_groups",
    "save",
    "summarize_groups",
]

#: per-repeat numbers -> their meaning (the keys of each repeat's dict)
METRICS: dict[str, str] = {
    "to_score": "TO-score",
    "bar_top": "mean bar top (saddle loss)",
    "bar_length": "mean bar length",
    "max_bar": "longest bar",
    "excess": "mean barrier above the higher endpoint",
    "linear_excess": "same, straight segment",
    "kept_fraction": "barrier kept by the path / straight segment's",
    "train_loss": "mean training loss of the minima",
    "test_accuracy": "mean test accuracy of the minima",
}


@dataclass(frozen=True)
class Group:
    """One group of a finding: a label, its study config and (optionally) its landscape.

    ``landscape`` builds the landscape; by default it is made from ``config`` (model and
    data specs) by :func:`topoloss.engine.factories.make_landscape`. ``minima`` optionally
    replaces plain training: it gets the landscape, the config and the repeat's seeds
    and returns the trained minima (finding 3 trains to a target loss that way).
    """

    label: str
    config: StudyConfig
    landscape: Callable[[], Landscape] | None = None
    minima: Callable[[Landscape, StudyConfig, list[int]], Any] | None = None


def parser(description: str, *, repeats: tuple[int, int], minima: tuple[int, int]) -> argparse.ArgumentParser:
    """The options every finding script shares; defaults are ``(quick, full)`` pairs."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--out", required=True, help="folder for the JSON numbers and the PNG figure")
    p.add_argument("--quick", action="store_true", help="tiny runs that check the computation (seconds)")
    p.add_argument("--repeats", type=int, default=None,
                   help=f"independent repeats per group (default {repeats[0]} quick, {repeats[1]} full)")
    p.add_argument("--minima", type=int, default=None,
                   help=f"minima per repeat (default {minima[0]} quick, {minima[1]} full)")
    p.set_defaults(_defaults={"repeats": repeats, "minima": minima})
    return p


def resolve(args: argparse.Namespace, key: str) -> int:
    """The value of ``--repeats``/``--minima``, or its quick/full default."""
    value = getattr(args, key)
    return int(value) if value is not None else args._defaults[key][0 if args.quick else 1]


def barcode_numbers(analysis: Analysis) -> dict[str, float]:
    """TO-score and the summaries of the finite bars of one analysis, plus the mean excess
    of the optimized paths' barriers (and of the straight segments') over the higher
    endpoint loss, and the mean ratio of the two (``kept_fraction``: 0 when optimization
    removed the barrier, 1 when the path is no lower than the straight segment)."""
    fin = analysis.barcode.finite()
    lengths = fin[:, 1] - fin[:, 0] if len(fin) else np.zeros(0)
    losses = dict(zip(analysis.minima.names, np.asarray(analysis.minima.losses, float)))
    excess = [p.barrier - max(losses[p.u], losses[p.v]) for p in analysis.paths]
    linear = [p.linear_barrier - max(losses[p.u], losses[p.v]) for p in analysis.paths
              if p.linear_barrier is not None]
    kept = [e / lin for e, lin in zip(excess, linear) if lin > 0]
    return {
        "to_score": float(analysis.to_score),
        "bar_top": float(fin[:, 1].mean()) if len(fin) else math.nan,
        "bar_length": float(lengths.mean()) if len(fin) else 0.0,
        "max_bar": float(lengths.max()) if len(fin) else 0.0,
        "excess": float(np.mean(excess)) if excess else math.nan,
        "linear_excess": float(np.mean(linear)) if linear else math.nan,
        "kept_fraction": float(np.mean(kept)) if kept else math.nan,
    }


def _path_row(p: PathRecord, profiles: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"u": p.u, "v": p.v, "barrier": p.barrier, "linear_barrier": p.linear_barrier,
                           "seconds_optimize": p.seconds_optimize, "seconds_evaluate": p.seconds_evaluate,
                           "fallback": p.fallback}
    if profiles:  # the loss along the path and along the straight segment
        row.update(t=p.t.tolist(), losses=p.losses.tolist(),
                   linear_t=None if p.linear_t is None else p.linear_t.tolist(),
                   linear_losses=None if p.linear_losses is None else p.linear_losses.tolist())
    return row


def measure_repeat(group: Group, seeds: Sequence[int], path_seed: int, *, profiles: bool = False) -> dict[str, Any]:
    """One repeat of one group: train the minima of ``seeds``, connect, summarize (with
    ``profiles``, also the loss profiles along each path and its straight segment)."""
    t0 = time.perf_counter()
    config = group.config.replace(seed=path_seed).with_options(seeds=tuple(seeds))
    land = group.landscape() if group.landscape is not None else make_landscape(config)
    if group.minima is not None:
        minima = group.minima(land, config, list(seeds))
    else:
        minima = train_minima(land, config=config.minima, progress=False)
    analysis = run_pipeline(land, config, minima=minima, progress=False)
    metrics = list(getattr(analysis.minima, "metrics", ()))
    accuracy = [m["test_accuracy"] for m in metrics if "test_accuracy" in m]
    row: dict[str, Any] = {
        "seeds": list(seeds),
        "path_seed": path_seed,
        "dim": land.dim,
        **barcode_numbers(analysis),
        "train_loss": float(np.mean(analysis.minima.losses)),
        "test_accuracy": float(np.mean(accuracy)) if accuracy else math.nan,
        "minima": {"names": list(analysis.minima.names),
                   "losses": [float(x) for x in analysis.minima.losses],
                   "converged": [bool(x) for x in analysis.minima.converged],
                   "metrics": metrics},
        "paths": [_path_row(p, profiles) for p in analysis.paths],
        "barcode": analysis.barcode.to_dict(),
    }
    row["seconds"] = time.perf_counter() - t0
    return row


def run_groups(groups: Sequence[Group], *, repeats: int, n_minima: int, profiles: bool = False,
               log: Callable[[str], None] = print) -> dict[str, list[dict[str, Any]]]:
    """Every group measured ``repeats`` times (repeat ``r``: seeds ``r n .. (r+1) n - 1``,
    path seed ``r``)."""
    torch.set_num_threads(1)
    table: dict[str, list[dict[str, Any]]] = {}
    for group in groups:
        t0 = time.perf_counter()
        table[group.label] = [
            measure_repeat(group, range(r * n_minima, (r + 1) * n_minima), r, profiles=profiles)
            for r in range(repeats)
        ]
        log(f"  {group.label}: {repeats} repeats x {n_minima} minima, {time.perf_counter() - t0:.1f} s")
    return table


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def summarize_groups(table: Mapping[str, Sequence[Mapping[str, Any]]],
                     keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Per metric: each group's mean, std, 95% bootstrap interval and the two-sided
    permutation test against the first group (:func:`topoloss.stats.summarize`)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for key in keys:
        values = {label: [float(r[key]) for r in rows] for label, rows in table.items()}
        if any(not np.isfinite(v).all() for v in values.values()):
            out[key] = [{"label": label, "n": len(v), "values": [_num(x) for x in v], "finite": False}
                        for label, v in values.items()]
            continue
        out[key] = [
            {"label": s.label, "n": s.n, "mean": s.mean, "std": _num(s.std), "ci_low": _num(s.ci.low),
             "ci_high": _num(s.ci.high), "confidence": s.ci.confidence,
             "vs_first_diff": None if s.vs_first is None else s.vs_first.statistic,
             "vs_first_p": None if s.vs_first is None else s.vs_first.pvalue,
             "vs_first_exact": None if s.vs_first is None else s.vs_first.exact}
            for s in summarize(values, seed=0)
        ]
    return out


def print_table(stats: Mapping[str, Sequence[Mapping[str, Any]]], log: Callable[[str], None] = print) -> None:
    """One block per metric: group, mean [95% CI], p-value against the first group."""
    for key, rows in stats.items():
        log(f"{METRICS.get(key, key)} ({key}):")
        for r in rows:
            if not r.get("finite", True):
                log(f"    {r['label']:<22} values {r['values']} (not all finite)")
                continue
            ci = "" if r["ci_low"] is None else f" [{r['ci_low']:.4g}, {r['ci_high']:.4g}]"
            p = "" if r["vs_first_p"] is None else f"  diff {r['vs_first_diff']:+.4g}, p = {r['vs_first_p']:.3g}"
            log(f"    {r['label']:<22} mean {r['mean']:.4g}{ci}{p}")


def figure(table: Mapping[str, Sequence[Mapping[str, Any]]], stats: Mapping[str, Sequence[Mapping[str, Any]]],
           keys: Sequence[str], path: Path, title: str) -> Path:
    """One panel per metric: every repeat as a grey dot, the mean with its 95% bootstrap
    interval as error bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(table)
    fig, axes = plt.subplots(1, len(keys), figsize=(3.6 * len(keys) + 0.6, 3.6), squeeze=False)
    for ax, key in zip(axes[0], keys):
        x = np.arange(len(labels))
        for xi, label in zip(x, labels):
            ax.scatter(np.full(len(table[label]), xi), [r[key] for r in table[label]], s=10, color="0.55", zorder=2)
        rows = {r["label"]: r for r in stats[key]}
        means = np.array([rows[lab].get("mean", np.nan) for lab in labels], dtype=float)
        low = np.array([np.nan if rows[lab].get("ci_low") is None else rows[lab]["ci_low"] for lab in labels])
        high = np.array([np.nan if rows[lab].get("ci_high") is None else rows[lab]["ci_high"] for lab in labels])
        err = np.vstack([np.nan_to_num(means - low), np.nan_to_num(high - means)])
        ax.errorbar(x, means, yerr=err, fmt="o", color="C0", capsize=4, zorder=3)
        ax.set_xticks(x, labels, rotation=30 if len(labels) > 3 else 0, ha="right" if len(labels) > 3 else "center",
                      fontsize=8)
        ax.set_title(METRICS.get(key, key), fontsize=9)
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def save(out: Path, name: str, payload: Mapping[str, Any], started: float) -> Path:
    """Write ``payload`` as ``out/name.json`` with the command, wall time and machine load."""
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "wall_seconds": time.perf_counter() - started,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        **payload,
    }
    path = out / f"{name}.json"
    path.write_text(json.dumps(_clean(record), indent=1, allow_nan=False))
    return path


def _clean(value: Any) -> Any:
    """JSON-ready: numpy scalars as Python numbers, non-finite floats as ``None``."""
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def run_finding(args: argparse.Namespace, chosen: Sequence[Group], *, finding: int, name: str,
                keys: Sequence[str], plot_keys: Sequence[str], title: str,
                extra: Callable[[dict[str, list[dict[str, Any]]]], dict[str, Any]] | None = None,
                profiles: bool = False) -> Path:
    """The common body of a finding script: run the groups, summarize, print, plot, save.

    ``extra`` may add entries to the JSON payload from the table of repeats.
    """
    started = time.perf_counter()
    repeats, n_minima = resolve(args, "repeats"), resolve(args, "minima")
    print(f"finding {finding}: {len(chosen)} groups x {repeats} repeats x {n_minima} minima")
    table = run_groups(chosen, repeats=repeats, n_minima=n_minima, profiles=profiles)
    stats = summarize_groups(table, keys)
    print_table(stats)
    out = Path(args.out)
    fig = figure(table, stats, plot_keys, out / f"{name}.png",
                 f"{title}, {repeats} repeats x {n_minima} minima (mean, 95% bootstrap CI)")
    payload = {"finding": finding, "quick": bool(args.quick), "repeats": repeats, "n_minima": n_minima,
               "configs": {g.label: g.config.to_dict() for g in chosen}, "groups": table, "stats": stats}
    if extra is not None:
        payload.update(extra(table))
    path = save(out, name, payload, started)
    print(f"numbers: {path}\nfigure: {fig}")
    return path
