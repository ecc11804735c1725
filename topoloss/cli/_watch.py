"""``topoloss watch``: follow the progress record of a run another process is writing.

A reader only: it takes no lock and writes nothing into the run directory. It reads
``RUN/progress.json`` and ``RUN/progress-history.jsonl`` (see
:mod:`topoloss.engine.progress`; both are written so that a reader never sees a partial
record) whenever their modification time changes, polling every ``--interval`` seconds.
On a terminal it redraws in place; otherwise (a pipe, a job log) it prints a plain
snapshot each time the record changes. ``--once`` prints one snapshot and exits. It
ends by itself when the record says the run is finished or stopped.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

from topoloss._layout import RunLayout

__all__ = ["register", "render"]

#: Clear the screen and move the cursor home (ANSI).
_CLEAR = "\x1b[H\x1b[2J"
_SPARK = "▁▂▃▄▅▆▇█"


def _num(x: Any) -> str:
    if x is None:
        return "∞"
    return f"{float(x):.6g}"


def _duration(seconds: Any) -> str:
    if seconds is None or not math.isfinite(float(seconds)):
        return "?"
    s = int(round(float(seconds)))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s" if m else f"{s}s"


def _spark(values: list[float]) -> str:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return ""
    lo, hi = min(finite), max(finite)
    out = ""
    for v in values:
        if not math.isfinite(v):
            out += "·"
        else:
            out += _SPARK[0 if hi == lo else int((v - lo) / (hi - lo) * (len(_SPARK) - 1))]
    return out


def render(snapshot: dict[str, Any], history: list[dict[str, Any]] | None = None, *, run: str = "",
           recent: int = 10, max_bars: int = 40, now: float | None = None) -> str:
    """The text of one snapshot (``progress.json``) with the TO-score's recent movement (history lines)."""
    history = history or []
    status = snapshot.get("status", "?")
    updated = snapshot.get("updated")
    age = "" if updated is None else f", updated {_duration((now or time.time()) - float(updated))} ago"
    lines = [f"topoloss watch {run}: {status}{age if status == 'running' else ''}"]
    done, planned = snapshot.get("paths_done", 0), snapshot.get("paths_planned")
    eta = snapshot.get("eta_seconds")
    plan = snapshot.get("plan_size")
    lines.append(f"paths {done} of {planned if planned is not None else '?'} done"
                 + (f" (the plan has {plan})" if plan is not None and plan != planned else "") + " "
                 f"({snapshot.get('paths_computed', 0)} computed, {snapshot.get('paths_reused', 0)} reused); "
                 f"elapsed {_duration(snapshot.get('elapsed_seconds'))}"
                 + (f"; ETA {_duration(eta)}" if status == "running" else ""))
    scores = [math.inf if h.get("to_score") is None else float(h["to_score"]) for h in history][-recent:]
    move = ""
    if len(scores) >= 2 and math.isfinite(scores[0]) and math.isfinite(scores[-1]):
        move = f"  ({scores[-1] - scores[0]:+.4g} over the last {len(scores) - 1} paths {_spark(scores)})"
    elif scores:
        move = f"  ({_spark(scores)})"
    lines.append(f"TO-score {_num(snapshot.get('to_score'))}{move}")
    bars = snapshot.get("bars", [])
    lines.append(f"bars: {snapshot.get('certified', 0)} of {len(bars)} certified"
                 + ("" if snapshot.get("connected") else "; graph not connected yet"))
    width = max([len(str(b.get("minimum"))) for b in bars] + [7])
    lines.append(f"  {'minimum':<{width}}  {'birth':>12}  {'death':>12}  status")
    order = sorted(bars, key=lambda b: (b.get("birth") is None, b.get("birth") or 0.0))
    for b in order[:max_bars]:
        state = "certified" if b.get("certified") else f"open ({b.get('open_pairs', '?')} pairs could lower it)"
        if b.get("fallback"):
            state += ", killed by a straight-segment fallback"
        lines.append(f"  {str(b.get('minimum')):<{width}}  {_num(b.get('birth')):>12}  {_num(b.get('death')):>12}"
                     f"  {state}")
    if len(order) > max_bars:
        lines.append(f"  ... and {len(order) - max_bars} more bars")
    pending = snapshot.get("pending") or []
    if pending and status == "running":
        first = pending[0]
        lines.append(f"next: {len(pending)} pair(s) running or queued, e.g. {first.get('u')}–{first.get('v')}: "
                     f"{first.get('reason') or 'no reason given'}")
    if snapshot.get("stop_detail"):
        lines.append(str(snapshot["stop_detail"]))
    return "\n".join(lines)


def _read(run: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The snapshot and the history lines; a torn last history line is left out."""
    import json

    from topoloss.engine.progress import HISTORY_FILE, read_progress
    from topoloss.errors import CorruptResult, InputError

    try:
        snapshot = read_progress(run)
    except CorruptResult as exc:  # a file the user pointed us at: bad input, not a failed computation
        raise InputError(str(exc)) from None
    history: list[dict[str, Any]] = []
    try:
        lines = (run / HISTORY_FILE).read_text().splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        try:
            history.append(json.loads(line))
        except ValueError:
            break
    return snapshot, history


def _stamp(run: Path) -> tuple[float, ...]:
    from topoloss.engine.progress import HISTORY_FILE, PROGRESS_FILE

    out = []
    for name in (PROGRESS_FILE, HISTORY_FILE):
        try:
            out.append((run / name).stat().st_mtime_ns)
        except OSError:
            out.append(-1)
    return tuple(out)


def _watch(args: argparse.Namespace) -> int:
    from topoloss.engine.progress import PROGRESS_FILE
    from topoloss.errors import InputError

    run = Path(args.run)
    if not run.is_dir():
        raise FileNotFoundError(f"{run}: no such run directory")
    if args.interval <= 0 or not math.isfinite(args.interval):
        raise InputError(f"--interval {args.interval}; expected a positive number of seconds")
    if args.once:
        snapshot, history = _read(run)
        print(render(snapshot, history, run=str(run)))
        return 0
    tty = sys.stdout.isatty()
    seen: tuple[float, ...] | None = None
    waiting = False
    try:
        while True:
            stamp = _stamp(run)
            if stamp != seen:
                if stamp[0] == -1 and RunLayout(run).config.exists():
                    if not waiting:  # a run whose paths have not started yet
                        print(f"topoloss watch {run}: waiting for {PROGRESS_FILE}", flush=True)
                        waiting = True
                    time.sleep(args.interval)
                    continue
                seen = stamp
                snapshot, history = _read(run)
                text = render(snapshot, history, run=str(run))
                print((_CLEAR + text) if tty else text + "\n", flush=True)
                if snapshot.get("status") in ("finished", "stopped"):
                    return 0
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("watch", help="follow a run's progress: bars, TO-score, paths done, ETA",
                       description="Show the progress record of a run directory (progress.json, written by "
                                   "the engine after each path) and refresh it when it changes: each bar "
                                   "with its death and whether it is certified, the TO-score with its recent "
                                   "movement, paths done of planned, the ETA. A reader only: it takes no lock "
                                   "and writes nothing into the run. Ends when the run is finished or stopped.")
    p.add_argument("run", metavar="RUN_DIR", help="the run directory")
    p.add_argument("--once", action="store_true", help="print one plain snapshot and exit")
    p.add_argument("--interval", metavar="SECONDS", type=float, default=1.0,
                   help="how often to look for a change (default 1)")
    p.set_defaults(func=_watch)
