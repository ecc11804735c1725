"""The report of a run directory: every figure plus a one-page summary (Markdown, HTML)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from topoloss._html_page import markdown_page
from topoloss._io import atomic_write_bytes, atomic_write_text
from topoloss.engine.bar_checks import BarCheck, check_bars
from topoloss.engine.store import Run
from topoloss.topology.score import barcode_summary

__all__ = ["CAPTIONS", "COLUMNS", "FIGURES", "make_report", "save_figure"]

#: Figure files of a report, in the order the summary shows them.
FIGURES = ("barcode", "diagram", "disconnectivity", "profiles", "plane", "convergence")

#: What each figure shows: its caption in ``summary.md`` and ``summary.html``.
CAPTIONS = {
    "barcode": "Loss barcode: one vertical bar per minimum, from its loss (birth) up to the saddle at which "
               "its basin merges into that of a lower minimum (death). Dashed bars ending in a triangle never "
               "merge (one per connected component). The TO-score is half the longest finite bar (outlined).",
    "diagram": "Persistence diagram: each minimum as a point (birth = its loss, death = the saddle loss). Points "
               "far above the diagonal are deep, isolated basins; infinite bars sit on the dashed top line.",
    "disconnectivity": "Disconnectivity graph: minima at the bottom, joined where their basins merge, at the "
                       "height of the saddle.",
    "profiles": "Loss along the paths against the curve parameter t. Top left: the optimized paths alone, on "
                "their own scale (dot: the barrier, the highest loss on the path). Right: the straight segments "
                "between the same minima (dashed), usually much higher, with the optimized paths for scale. "
                "On a network, the other panels show the test loss and the training and test accuracy along "
                "the optimized paths, measured at the same t (dot: the value at the barrier point).",
    "plane": "The loss on the plane through the three lowest minima, with the optimized paths between them "
             "projected onto it.",
    "convergence": "How the barcode settled: each bar's death (coloured steps, left axis) and the TO-score (black "
                   "dashes, right axis) after each path, in the order the paths finished. A death appears once its "
                   "minimum is joined to a lower one; a star marks the path after which the bar was certified for "
                   "good (no pair left out could lower it, SPEC §11).",
}

#: What each column of the summary's tables means.
COLUMNS = {
    "Bars": "**minimum**: the minimum's name; **loss (birth)**: its loss, where its bar starts; "
            "**saddle (death)**: the barrier at which its basin merges into a lower one (∞: never, the "
            "lowest minimum of its component); **length**: death − birth, the depth of its basin; "
            "**merges into**: the lowest minimum of the component it joins; **open pairs**: pairs left "
            "out that could still lower its death (0: no further path can change the bar; SPEC §11), "
            "† when its killing path fell back to the straight segment; **status**: *certified* (proved "
            "final), *estimate (rule)* (final only if the pairs left out behave like those evaluated, "
            "which replays found wrong at times; docs/spec.md, bar checks) or *open*. With test data: **test acc. "
            "(minimum)**, the minimum's test accuracy; **test acc. (saddle)**, the test accuracy at the "
            "barrier point of the path that kills the bar (— where none was measured).",
    "Minima": "The metrics recorded for each trained minimum (e.g. training and test loss and accuracy).",
    "Paths": "**pair**: the two minima joined; **barrier**: the highest loss on the optimized path; "
             "**linear barrier**: the highest loss on the straight segment between them; **t at max**: "
             "where along the path (0 to 1) the barrier is; with test data, **test loss / test acc. at "
             "max**: the test loss and accuracy there. Every path's profile (t, loss and each metric) is "
             "in `paths/U--V.csv` next to this page.",
}


def save_figure(fig: Any, path: Path) -> None:
    """Save a figure as PNG atomically and close it."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def make_report(run: Run, *, landscape: Any | None = None, plane: bool = True) -> list[Path]:
    """Draw every figure of a finished run and write ``summary.md`` / ``summary.html``.

    Parameters
    ----------
    run : Run
        A run whose paths, graph and barcode are stored (after :func:`~topoloss.engine.pipeline.run_pipeline`).
    landscape : Landscape, optional
        Used for the plane through three minima; built from the config if omitted, unless
        the config names code to import (``module:attr``): a report never imports code,
        so the plane is then left out, with a note in the summary.
    plane : bool
        Draw the plane through the three lowest minima (costs a grid of evaluations).

    Returns
    -------
    list of pathlib.Path
        The files written, in ``RUN/report/``.

    Raises
    ------
    FileNotFoundError
        The run has no barcode yet (nothing finished).
    """
    from matplotlib.figure import Figure

    from topoloss.plot import (
        plane_slice,
        plot_barcode,
        plot_convergence,
        plot_diagram,
        plot_disconnectivity,
        plot_plane,
    )

    barcode = run.load_barcode()
    if barcode is None:
        raise FileNotFoundError(f"{run.dir} has no barcode.json yet: run `topoloss connect` first")
    paths, corrupt = run.finished_paths()
    minima = run.load_minima()
    out = run.layout.report
    written: list[Path] = []
    notes: list[str] = []

    def figure(name: str, draw: Any, size: tuple[float, float] = (6, 4)) -> None:
        fig = Figure(figsize=size)  # no pyplot: works under any backend, leaves no figure open
        draw(fig.subplots())
        save_figure(fig, out / f"{name}.png")
        written.append(out / f"{name}.png")

    figure("barcode", lambda ax: plot_barcode(barcode, ax=ax, labels=True))
    figure("diagram", lambda ax: plot_diagram(barcode, ax=ax))
    figure("disconnectivity", lambda ax: plot_disconnectivity(barcode, ax=ax))
    if paths:
        _profiles_figure(paths, out / "profiles.png")
        written.append(out / "profiles.png")
        written += _profile_csvs(run, paths, out / "paths")
    if plane and minima is not None and len(minima) >= 3 and landscape is None:
        landscape = _stored_landscape(run, notes)
    if plane and minima is not None and len(minima) >= 3 and landscape is not None:
        order = sorted(range(len(minima)), key=lambda i: minima.losses[i])[:3]
        names = [minima.names[i] for i in order]
        sl = plane_slice(landscape, minima.points[order], names=names, resolution=17)
        on_plane = [p for p in paths if p.u in names and p.v in names]
        figure("plane", lambda ax: plot_plane(sl, paths=on_plane, ax=ax), (5.5, 4.5))

    history, progress = _progress(run)
    if history:
        figure("convergence", lambda ax: plot_convergence(history, ax=ax), (7, 4.2))
        if progress.get("stop_detail"):
            notes.append(str(progress["stop_detail"]))
    summary = barcode_summary(barcode)
    graph = run.load_graph()
    straight = run.load_straight_bounds()
    if graph is not None and straight is not None and straight.shape != (len(graph), len(graph)):
        straight = None  # not this graph's: the estimate falls back to the graph alone
    checks = {} if graph is None else {c.name: c for c in check_bars(
        graph, barcode, [p.pair for p in paths if p.fallback is not None], straight=straight)}
    md = _markdown(run, summary, minima, paths, corrupt, [p.name for p in written], notes, checks)
    atomic_write_text(out / "summary.md", md)
    atomic_write_text(out / "summary.html", _html(md, run, out))
    return written + [out / "summary.md", out / "summary.html"]


def _progress(run: Run) -> tuple[Any, dict[str, Any]]:
    """The run's progress history and last snapshot (empty for runs made before progress records)."""
    from topoloss.engine.progress import read_history, read_progress
    from topoloss.errors import CorruptResult

    try:
        return read_history(run.dir), read_progress(run.dir)
    except (FileNotFoundError, ValueError, CorruptResult):  # no record, or an unreadable one: the report goes without
        return (), {}


#: Metric panels of the profiles figure and where they go in its 2 x 3 grid (the train loss is
#: at (0, 0), the straight segments fill the right column).
_METRIC_PANELS = {"test_loss": (0, 1), "train_accuracy": (1, 0), "test_accuracy": (1, 1)}


def _profiles_figure(paths: Sequence[Any], file: Path) -> None:
    """The loss profiles; with metrics, also panels of the test loss and the accuracies."""
    from matplotlib.figure import Figure

    from topoloss.plot import plot_path_metrics, plot_profiles

    measured = {name for p in paths for name in p.metrics}
    if not measured & set(_METRIC_PANELS):
        fig = Figure(figsize=(11, 4))
        left, right = fig.subplots(1, 2)
        plot_profiles(paths, ax=left, linear=False, title="optimized paths")
        plot_profiles(paths, ax=right, legend=False, title="straight segments (dashed) and optimized")
        save_figure(fig, file)
        return
    fig = Figure(figsize=(14, 7.5))
    grid = fig.add_gridspec(2, 3)
    plot_profiles(paths, ax=fig.add_subplot(grid[0, 0]), linear=False, title="train loss, optimized paths")
    for name, (row, col) in _METRIC_PANELS.items():
        ax = fig.add_subplot(grid[row, col])
        if name in measured:
            plot_path_metrics(paths, name, ax=ax, legend=False,
                              title=name.replace("_", " ") + ", optimized paths")
        else:
            ax.set_axis_off()
            ax.text(0.5, 0.5, f"no {name.replace('_', ' ')}\n(the landscape has no test data)",
                    ha="center", va="center", color="0.4", transform=ax.transAxes)
    plot_profiles(paths, ax=fig.add_subplot(grid[:, 2]), legend=False,
                  title="straight segments (dashed) and optimized")
    save_figure(fig, file)


def _profile_csvs(run: Run, paths: Sequence[Any], folder: Path) -> list[Path]:
    """``folder/U--V.csv`` per path: ``t``, ``loss`` and one column per metric (``PathRecord.to_csv``)."""
    files = []
    for p in paths:
        file = folder / (run.path_file(p.u, p.v).stem + ".csv")
        p.to_csv(file)
        files.append(file)
    return files


def _stored_landscape(run: Run, notes: list[str]) -> Any:
    """The landscape the run's config names, or ``None`` (with a note) when building it would
    import code: a run directory never makes topoloss run code by itself."""
    from topoloss.config import StudyConfig
    from topoloss.engine.factories import make_landscape, user_code

    config = StudyConfig.from_dict(run.config)
    code = user_code(config)
    if code:
        notes.append(f"plane figure left out: the run's config names code to import ({', '.join(code)}), "
                     "and a report never imports code; pass the landscape to `make_report` to draw it")
        return None
    return make_landscape(config)


def _fmt(x: Any) -> str:
    if x is None:
        return "∞"
    if isinstance(x, float):
        return f"{x:.4g}" if math.isfinite(x) else "∞"
    return str(x)


def _curve_spec(curve: Any) -> str:
    """A stored curve (a ``to_dict`` table) as its spec string; ``?`` if it cannot be read."""
    from topoloss.paths.curves import make_curve

    try:
        return make_curve(curve).spec()
    except (TypeError, ValueError):
        return "?"


def _acc(x: float | None) -> str:
    """An accuracy for the tables; ``—`` where none was measured."""
    return "—" if x is None or not math.isfinite(x) else f"{x:.4f}"


def _test_accuracies(bars: Sequence[Mapping[str, Any]], minima: Any,
                     paths: Sequence[Any]) -> tuple[dict[Any, float], dict[Any, float]]:
    """Per bar: the test accuracy of its minimum (its training metrics, else where a path
    starts or ends at it) and at its saddle (the barrier point of the lowest stored path of
    the killing pair, as on the graph's edge)."""
    at_minimum: dict[Any, float] = {}
    for name, m in zip(getattr(minima, "names", ()), getattr(minima, "metrics", None) or ()):
        if "test_accuracy" in m:
            at_minimum[name] = float(m["test_accuracy"])
    best: dict[frozenset[Any], Any] = {}
    for p in paths:
        acc = p.metrics.get("test_accuracy")
        if acc is not None:
            at_minimum.setdefault(p.u, float(acc[0]))
            at_minimum.setdefault(p.v, float(acc[-1]))
        key = frozenset((p.u, p.v))
        if key not in best or p.barrier < best[key].barrier:
            best[key] = p
    at_saddle: dict[Any, float] = {}
    for b in bars:
        path = best.get(frozenset(b["saddle"])) if b.get("saddle") else None
        if path is not None:
            at_saddle[b["minimum"]] = path.barrier_metrics().get("test_accuracy", math.nan)
    return at_minimum, at_saddle


def _markdown(run: Run, summary: dict, minima: Any, paths: list, corrupt: list, figures: list[str],
              notes: Sequence[str] = (), checks: Mapping[Any, BarCheck] | None = None) -> str:
    checks = checks or {}
    cfg = run.config
    what = (f"landscape: `{cfg['landscape']}`" if cfg.get("landscape")
            else f"model: `{cfg.get('model', '?')}`, data: `{cfg.get('data', '?')}`")
    paths_cfg = cfg.get("paths", {})
    lines = [
        f"# topoloss report: `{run.dir.name}`",
        "",
        f"- {what}",
        f"- curve: `{_curve_spec(paths_cfg.get('curve'))}`, pairs: `{paths_cfg.get('pairs', '?')}`",
        f"- minima: {len(summary['bars'])}, paths: {len(paths)}"
        + (f" ({len(corrupt)} unreadable path file(s))" if corrupt else ""),
        f"- **TO-score** (bottleneck): {_fmt(summary.get('to_score'))}; "
        f"1-Wasserstein: {_fmt(summary.get('to_score_wasserstein1'))}; "
        f"connected: {summary.get('connected')}",
        *[f"- note: {n}" for n in notes],
        "",
        "## Bars",
        "",
        COLUMNS["Bars"],
        "",
    ]
    at_minimum, at_saddle = _test_accuracies(summary["bars"], minima, paths)
    accuracy = any(math.isfinite(x) for x in [*at_minimum.values(), *at_saddle.values()])
    extra = " test acc. (minimum) | test acc. (saddle) |" if accuracy else ""
    lines += [f"| minimum | loss (birth) | saddle (death) | length | merges into | open pairs | status |{extra}",
              "|---|---|---|---|---|---|---|" + ("---|---|" if accuracy else "")]
    for b in sorted(summary["bars"], key=lambda b: b["birth"]):
        length = None if b["death"] is None else b["death"] - b["birth"]
        check = checks.get(b["minimum"])
        acc = (f" {_acc(at_minimum.get(b['minimum']))} | {_acc(at_saddle.get(b['minimum']))} |"
               if accuracy else "")
        lines.append(
            f"| {b['minimum']} | {_fmt(b['birth'])} | {_fmt(b['death'])} | {_fmt(length)} | "
            f"{_fmt(b['merges_into']) if b['merges_into'] is not None else '—'} | "
            + ("— | —" if check is None else f"{check.open_pairs}{' †' if check.fallback else ''} | {check.label()}")
            + f" |{acc}"
        )
    metrics = getattr(minima, "metrics", None)
    if metrics:
        lines += ["", "## Minima", "", COLUMNS["Minima"], "", "| minimum | " + " | ".join(metrics[0]) + " |",
                  "|---|" + "---|" * len(metrics[0])]
        for name, m in zip(minima.names, metrics):
            lines.append(f"| {name} | " + " | ".join(_fmt(float(v)) for v in m.values()) + " |")
    if paths:
        tested = any("test_loss" in p.metrics for p in paths)
        lines += ["", "## Paths", "", COLUMNS["Paths"], "",
                  "| pair | barrier | linear barrier | t at max |" + (" test loss at max | test acc. at max |"
                                                                    if tested else ""),
                  "|---|---|---|---|" + ("---|---|" if tested else "")]
        for p in paths:
            at = p.barrier_metrics()
            loss = at.get("test_loss", math.nan)
            test = (f" {'—' if math.isnan(loss) else _fmt(loss)} | {_acc(at.get('test_accuracy'))} |"
                    if tested else "")
            lines.append(f"| {p.u}–{p.v} | {_fmt(p.barrier)} | {_fmt(p.linear_barrier)} | {p.t_max:.3f} |{test}")
    lines += ["", "## Figures", ""]
    for f in figures:
        lines += [f"![{f}]({f})", "", f"*{CAPTIONS.get(Path(f).stem, f)}*", ""]
    return "\n".join(lines) + "\n"


def _html(md: str, run: Run, folder: Path | None = None) -> str:
    """``summary.md`` as one self-contained HTML page: figures embedded, captions under them."""
    return markdown_page(md, title=f"topoloss report {run.dir.name}", folder=folder)
