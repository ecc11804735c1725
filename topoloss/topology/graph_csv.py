"""The CSV format of a landscape graph: ``n`` rows ``loss, barrier_1, ..., barrier_n``.

Row ``i`` holds the loss of minimum ``i`` and then row ``i`` of the barrier matrix; ``#``
starts a comment. A missing path is an empty cell or ``inf``; anything else that is not a
finite number (a text cell, NaN, ``-inf``) is an error naming the file, line and column.
:func:`read_csv_table` reads the table, which :func:`topoloss.topology.graph_io.read_graph`
hands to :meth:`LandscapeGraph.from_barriers`: numpy's parser when every cell is a
number (:func:`read_csv_fast`), cell by cell for the message otherwise
(:func:`read_csv_cells`).
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from topoloss.errors import InputError

__all__ = ["MISSING_CELLS", "read_csv_cells", "read_csv_fast", "read_csv_table"]


def _csv_rows(p: Path) -> Iterator[tuple[int, list[str]]]:
    with open(p, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            line = line.split("#", 1)[0].strip()
            if line:
                yield lineno, line.split(",")


MISSING_CELLS = ("inf", "+inf", "infinity", "+infinity")


def _cell(p: Path, lineno: int, col: int, cell: str) -> float:
    """One CSV cell: a finite number, or ``inf`` for an explicit missing path."""
    cell = cell.strip()
    if col == 1:  # the loss
        what = "the loss"
    elif not cell or cell.lower() in MISSING_CELLS:
        return math.inf
    else:
        what = "a barrier"
    try:
        value = float(cell) if cell else math.nan
    except ValueError:
        raise InputError(f"{p}: line {lineno}, column {col}: {cell!r} is not a number") from None
    if not math.isfinite(value):
        missing = "" if col == 1 else "; a missing path is an empty cell or inf"
        raise InputError(f"{p}: line {lineno}, column {col}: {cell!r} is not allowed as {what} "
                         f"(expected a finite number{missing})")
    return value


_EMPTY_CELL = re.compile(r"(?<=,)[ \t]*(?=,|$)")


def read_csv_fast(p: Path) -> np.ndarray | None:
    """The table of a CSV file whose cells all read as :func:`_cell` reads them, without
    a Python call per cell; ``None`` for anything else (the caller reads it cell by cell,
    which names the bad cell). Without an ``inf`` or empty cell numpy's parser reads it;
    otherwise each ``inf`` cell's text is checked."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an empty file
            table = np.loadtxt(p, delimiter=",", comments="#", ndmin=2, encoding="utf-8")
    except (ValueError, UnicodeDecodeError):
        pass
    else:
        if table.size and np.isfinite(table).all():
            return table
    rows: list[list[str]] = []
    try:
        with open(p, encoding="utf-8") as fh:
            for line in fh:
                line = line.split("#", 1)[0].strip()
                if line:
                    rows.append(_EMPTY_CELL.sub("inf", line).split(","))
        width = len(rows[0]) if rows else 0
        if any(len(row) != width for row in rows):
            return None
        flat = np.fromiter(map(float, itertools.chain.from_iterable(rows)), dtype=float, count=len(rows) * width)
    except (ValueError, UnicodeDecodeError):
        return None
    table = flat.reshape(len(rows), width)
    if not table.size or not np.isfinite(table[:, :1]).all() or np.isnan(table).any() or np.isneginf(table).any():
        return None
    for i, j in np.argwhere(np.isposinf(table)).tolist():  # inf only as a missing path, spelt so
        if rows[i][j].strip().lower() not in MISSING_CELLS:
            return None
    return table


def read_csv_table(p: Path) -> np.ndarray:
    """``n`` rows of ``n + 1`` cells; ``#`` starts a comment; an empty or ``inf`` barrier is missing."""
    table = read_csv_fast(p)
    if table is not None and table.shape[1] == table.shape[0] + 1:
        return table
    return read_csv_cells(p)


def read_csv_cells(p: Path) -> np.ndarray:
    """:func:`read_csv_table` cell by cell, each through :func:`_cell`: names a bad cell."""
    rows: list[list[float]] = []
    try:
        for lineno, cells in _csv_rows(p):
            row = [_cell(p, lineno, col, cell) for col, cell in enumerate(cells, start=1)]
            if rows and len(row) != len(rows[0]):
                raise InputError(
                    f"{p}: line {lineno} has {len(row)} columns, the first row {len(rows[0])}"
                )
            rows.append(row)
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: not a text file: {exc}") from None
    table = np.array(rows, dtype=float).reshape(len(rows), -1)
    if table.shape[1] != table.shape[0] + 1:
        raise InputError(
            f"{p}: expected n rows of n+1 columns (loss, then the barrier row), "
            f"got shape {table.shape}"
        )
    return table
