"""Progress bars that suit where they are shown: :func:`progress_bar`.

On a terminal (or in a Jupyter kernel) it is a :mod:`tqdm` bar as before. When stderr is
not a terminal (a job log, a file, a pipe) nothing is redrawn: no cursor codes and no
partial lines, only plain, occasional lines:

- ``kind="outer"`` (the bar over paths): one line per finished item with the count, the
  elapsed time and the ETA, at most one a second (and always the last one);
- ``kind="task"`` (one seed's training): one line when it ends, with its postfix;
- ``kind="inner"`` (the steps of the current pair, its evaluation): nothing.

``TQDM_DISABLE=1`` in the environment silences both forms.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Literal

__all__ = ["PlainProgress", "interactive", "progress_bar"]

Kind = Literal["outer", "task", "inner"]


def interactive(stream: Any = None) -> bool:
    """Whether ``stream`` (default ``sys.stderr``) redraws bars: a terminal, or a Jupyter kernel."""
    stream = sys.stderr if stream is None else stream
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _disabled_by_env() -> bool:
    return os.environ.get("TQDM_DISABLE", "").strip().lower() in ("1", "true", "yes", "on")


class PlainProgress:
    """A tqdm-compatible bar that writes plain lines to stderr (see the module docstring).

    It offers what topoloss uses of tqdm: ``update``, ``set_postfix``, ``close`` and the
    context manager.
    """

    def __init__(self, *, total: int | None, desc: str, unit: str, kind: Kind, min_interval: float = 1.0) -> None:
        self.total, self.desc, self.unit, self.kind = total, desc, unit, kind
        self.n = 0
        self.postfix = ""
        self.min_interval = min_interval
        self._start = self._last = time.monotonic()
        self._shown = -1
        self._closed = False

    def _line(self, text: str) -> None:
        print(f"{self.desc}: {text}", file=sys.stderr, flush=True)

    def _times(self) -> str:
        from tqdm import tqdm

        elapsed = time.monotonic() - self._start
        text = f"{tqdm.format_interval(elapsed)} elapsed"
        if self.total and 0 < self.n < self.total:
            text += f", ETA {tqdm.format_interval(elapsed / self.n * (self.total - self.n))}"
        return text

    def update(self, n: int = 1) -> None:
        """Count ``n`` more finished items; an outer bar prints a line (at most one a second)."""
        self.n += n
        if self.kind != "outer":
            return
        now = time.monotonic()
        if now - self._last >= self.min_interval or (self.total is not None and self.n >= self.total):
            self._last = now
            self._shown = self.n
            of = f"/{self.total}" if self.total is not None else ""
            self._line(f"{self.n}{of} {self.unit}s, {self._times()}")

    def set_postfix(self, ordered_dict: Any = None, refresh: bool = True, **kwargs: Any) -> None:
        """Keep ``key=value`` pairs for the line a task bar prints when it ends."""
        items = {**(dict(ordered_dict) if ordered_dict else {}), **kwargs}
        self.postfix = ", ".join(f"{k}={v}" for k, v in items.items())

    def close(self) -> None:
        """End the bar: a task bar prints its one line; an outer bar its last count, if not shown."""
        if self._closed:
            return
        self._closed = True
        if self.kind == "task":
            extra = f" ({self.postfix})" if self.postfix else ""
            self._line(f"{self.n} {self.unit}s in {self._times().replace(' elapsed', '')}{extra}")
        elif self.kind == "outer" and self.n and self._shown != self.n:
            of = f"/{self.total}" if self.total is not None else ""
            self._line(f"{self.n}{of} {self.unit}s, {self._times()}")

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress_bar(
    *, total: int | None, desc: str, unit: str = "it", disable: bool = False, kind: Kind = "outer",
    leave: bool | None = None,
) -> Any:
    """A progress bar: tqdm on a terminal, plain lines (or nothing) elsewhere.

    Parameters
    ----------
    total : int or None
        The number of items.
    desc, unit : str
        As for tqdm.
    disable : bool
        No bar at all (a disabled tqdm, which accepts every call).
    kind : {"outer", "task", "inner"}
        What the bar counts, which decides its plain form (see the module docstring).
    leave : bool, optional
        As for tqdm (default: ``True`` for an outer bar, else ``False``).

    Returns
    -------
    tqdm or PlainProgress
        Both support ``update``, ``set_postfix``, ``close`` and ``with``.

    Examples
    --------
    >>> with progress_bar(total=3, desc="paths", disable=True) as bar:
    ...     bar.update(1)
    """
    from tqdm.auto import tqdm

    leave = (kind == "outer") if leave is None else leave
    if disable or _disabled_by_env() or interactive():
        return tqdm(total=total, desc=desc, unit=unit, leave=leave, disable=disable)
    if kind == "inner":
        return tqdm(total=total, desc=desc, unit=unit, disable=True)
    return PlainProgress(total=total, desc=desc, unit=unit, kind=kind)
