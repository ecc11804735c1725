"""The report of a run directory: every figure plus a one-page summary (Markdown, HTML)."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from topoloss._io import atomic_write_bytes, atomic_write_text
from topoloss.engine.store import Run
from topoloss.topology.score import barcode_summary

__all__ = ["FIGURES", "make_report", "save_figure"]

#: Figure files of a report, in the order the summary shows them.
FIGURES = ("barcode", "diagram", "disconnectivity", "profiles", "plane")


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
        plot_diagram,
        plot_disconnectivity,
        plot_plane,
        plot_profiles,
    )

    barcode = run.load_barcode()
    if barcode is None:
        raise FileNotFoundError(f"{run.dir} has no barcode.json yet: run `topoloss connect` first")
    paths, corrupt = run.finished_paths()
    minima = run.load_minima()
    out = run.dir / "report"
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
        figure("profiles", lambda ax: plot_profiles(paths, ax=ax))
    if plane and minima is not None and len(minima) >= 3 and landscape is None:
        landscape = _stored_landscape(run, notes)
    if plane and minima is not None and len(minima) >= 3 and landscape is not None:
        order = sorted(range(len(minima)), key=lambda i: minima.losses[i])[:3]
        names = [minima.names[i] for i in order]
        sl = plane_slice(landscape, minima.points[order], names=names, resolution=17)
        on_plane = [p for p in paths if p.u in names and p.v in names]
        figure("plane", lambda ax: plot_plane(sl, paths=on_plane, ax=ax), (5.5, 4.5))

    summary = barcode_summary(barcode)
    md = _markdown(run, summary, minima, paths, corrupt, [p.name for p in written], notes)
    atomic_write_text(out / "summary.md", md)
    atomic_write_text(out / "summary.html", _html(md, run))
    return written + [out / "summary.md", out / "summary.html"]


def _stored_landscape(run: Run, notes: list[str]) -> Any:
    """The landscape the run's config names, or ``None`` (with a note) when building it would
    import code: a run directory never makes topoloss run code by itself."""
    from topoloss.config import StudyConfig
    from topoloss.engine.specs import make_landscape, user_code

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


def _markdown(run: Run, summary: dict, minima: Any, paths: list, corrupt: list, figures: list[str],
              notes: Sequence[str] = ()) -> str:
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
        "| minimum | loss (birth) | saddle (death) | length | merges into |",
        "|---|---|---|---|---|",
    ]
    for b in sorted(summary["bars"], key=lambda b: b["birth"]):
        length = None if b["death"] is None else b["death"] - b["birth"]
        lines.append(
            f"| {b['minimum']} | {_fmt(b['birth'])} | {_fmt(b['death'])} | {_fmt(length)} | "
            f"{_fmt(b['merges_into']) if b['merges_into'] is not None else '—'} |"
        )
    metrics = getattr(minima, "metrics", None)
    if metrics:
        lines += ["", "## Minima", "", "| minimum | " + " | ".join(metrics[0]) + " |",
                  "|---|" + "---|" * len(metrics[0])]
        for name, m in zip(minima.names, metrics):
            lines.append(f"| {name} | " + " | ".join(_fmt(float(v)) for v in m.values()) + " |")
    if paths:
        lines += ["", "## Paths", "", "| pair | barrier | linear barrier | t at max |", "|---|---|---|---|"]
        for p in paths:
            lines.append(f"| {p.u}–{p.v} | {_fmt(p.barrier)} | {_fmt(p.linear_barrier)} | {p.t_max:.3f} |")
    lines += ["", "## Figures", ""] + [f"![{f}]({f})" for f in figures]
    return "\n".join(lines) + "\n"


def _html(md: str, run: Run) -> str:
    body: list[str] = []
    in_table = False
    for line in md.splitlines():
        if line.startswith("|"):
            cells = [html.escape(c.strip()) for c in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-"):
                continue
            if not in_table:
                body.append("<table>")
                in_table = True
                body.append("<tr>" + "".join(f"<th>{c}</th>" for c in cells) + "</tr>")
            else:
                body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        if line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("- "):
            body.append(f"<p>{html.escape(line[2:]).replace('**', '')}</p>")
        elif line.startswith("!["):
            src = line[line.index("(") + 1 : -1]
            body.append(f'<img src="{html.escape(src)}" alt="{html.escape(src)}" style="max-width:48%">')
    if in_table:
        body.append("</table>")
    style = "body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}" \
            "td,th{border:1px solid #ccc;padding:2px 8px}"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>topoloss report {html.escape(run.dir.name)}"
            f"</title><style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
