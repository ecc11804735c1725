"""The loss barcode: 0-dimensional persistence of a landscape graph (SPEC §4).

Persistence is computed by GUDHI on the sublevel filtration of the graph (vertex
``m`` enters at ``L(m)``, edge ``(a, b)`` at ``B(a, b)``). This module only converts
the result into a :class:`Barcode` with one bar per minimum, the saddle that kills it
and the minimum it merges into.

Tie-breaking rule
-----------------
Minima are ordered by ``(loss, insertion index)``: of two minima with equal loss the
one added to the graph first is the *elder* and survives a merge. This is also the
order GUDHI uses for vertices of equal filtration value. When several edges of the
same height could kill a bar, the killing edge reported is one of them (the death
value does not depend on the choice).
"""

from __future__ import annotations

import math
import os
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from topoloss.errors import InputError
from topoloss.topology.essential import (
    DEFAULT_ESSENTIAL,
    NOT_GIVEN,
    Essential,
    NotGiven,
    essential_policy,
    keep_unless_given,
)

__all__ = ["DEFAULT_ESSENTIAL", "Bar", "Barcode", "Essential", "essential_policy"]  # the policies: re-exported

_RECORD_COLUMNS = ("minimum", "birth", "death", "length", "essential", "saddle_u", "saddle_v", "merges_into")


@dataclass(frozen=True)
class Bar:
    """The bar of one minimum.

    Attributes
    ----------
    name : hashable
        The minimum.
    birth : float
        Its loss ``L(m)``.
    death : float
        The level at which it merges with an elder minimum (``inf`` if never).
    saddle : tuple or None
        The edge ``(u, v)`` of the graph whose barrier kills the bar; ``None`` for an
        infinite bar.
    merges_into : hashable or None
        The eldest minimum of the component this minimum joins at ``death``.
    """

    name: Hashable
    birth: float
    death: float
    saddle: tuple[Hashable, Hashable] | None
    merges_into: Hashable | None

    @property
    def length(self) -> float:
        """``death - birth`` (``inf`` for an essential bar)."""
        return self.death - self.birth


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Barcode:
    """A loss barcode: one bar ``[birth, death]`` per minimum.

    Attributes
    ----------
    names : tuple
        Minima, in the graph's node order; row ``i`` of ``intervals`` is ``names[i]``.
    intervals : ndarray of shape (n, 2)
        ``[birth, death]`` per minimum; ``death`` is ``inf`` for essential bars (one per
        connected component). Read-only.
    saddles : tuple
        Per minimum, the killing edge ``(u, v)`` or ``None``.
    merges_into : tuple
        Per minimum, the minimum it merges into, or ``None``.
    """

    names: tuple[Hashable, ...]
    intervals: np.ndarray
    saddles: tuple[tuple[Hashable, Hashable] | None, ...]
    merges_into: tuple[Hashable | None, ...]
    _index: dict[Hashable, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        iv = _readonly(self.intervals).reshape(-1, 2)
        n = iv.shape[0]
        if not (len(self.names) == len(self.saddles) == len(self.merges_into) == n):
            raise InputError(
                f"Barcode fields disagree in length: {len(self.names)} names, {n} "
                f"intervals, {len(self.saddles)} saddles, {len(self.merges_into)} merges"
            )
        if np.isnan(iv).any():
            raise InputError("Barcode intervals contain NaN")
        if (iv[:, 1] < iv[:, 0]).any():
            i = int(np.argmax(iv[:, 1] < iv[:, 0]))
            raise InputError(f"bar of {self.names[i]!r} dies at {iv[i, 1]} before birth {iv[i, 0]}")
        object.__setattr__(self, "names", tuple(self.names))
        object.__setattr__(self, "intervals", iv)
        object.__setattr__(self, "saddles", tuple(self.saddles))
        object.__setattr__(self, "merges_into", tuple(self.merges_into))
        object.__setattr__(self, "_index", {name: i for i, name in enumerate(self.names)})

    # ------------------------------------------------------------------ access
    def __len__(self) -> int:
        return len(self.names)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Barcode):
            return NotImplemented
        return (
            self.names == other.names
            and np.array_equal(self.intervals, other.intervals)
            and self.saddles == other.saddles
            and self.merges_into == other.merges_into
        )

    __hash__ = None  # type: ignore[assignment]

    def bar(self, name: Hashable) -> Bar:
        """The :class:`Bar` of minimum ``name``."""
        try:
            i = self._index[name]
        except KeyError:
            raise InputError(f"unknown minimum {name!r}") from None
        b, d = self.intervals[i]
        return Bar(name, float(b), float(d), self.saddles[i], self.merges_into[i])

    def bars(self) -> list[Bar]:
        """All bars in node order."""
        return [self.bar(name) for name in self.names]

    def finite(self) -> np.ndarray:
        """The finite bars as a ``(k, 2)`` array (rows in node order)."""
        return self.intervals[np.isfinite(self.intervals[:, 1])]

    def essential(self) -> np.ndarray:
        """Births of the infinite bars (one per connected component)."""
        return self.intervals[~np.isfinite(self.intervals[:, 1]), 0]

    @property
    def n_components(self) -> int:
        """Number of connected components (infinite bars)."""
        return int((~np.isfinite(self.intervals[:, 1])).sum())

    @property
    def lengths(self) -> np.ndarray:
        """``death - birth`` per minimum."""
        return self.intervals[:, 1] - self.intervals[:, 0]

    def sorted(self) -> Barcode:
        """A copy with bars sorted by birth, then death (the order the paper plots)."""
        order = np.lexsort((self.intervals[:, 1], self.intervals[:, 0]))
        return Barcode(
            tuple(self.names[i] for i in order),
            self.intervals[order],
            tuple(self.saddles[i] for i in order),
            tuple(self.merges_into[i] for i in order),
        )

    def drop_short(self, threshold: float) -> Barcode:
        """A copy without finite bars of length ``<= threshold`` (infinite bars stay)."""
        keep = ~(self.lengths <= threshold)
        idx = np.flatnonzero(keep)
        return Barcode(
            tuple(self.names[i] for i in idx),
            self.intervals[idx],
            tuple(self.saddles[i] for i in idx),
            tuple(self.merges_into[i] for i in idx),
        )

    # ------------------------------------------------------------------ formats
    def to_diagram(self, essential: Essential | NotGiven = NOT_GIVEN) -> np.ndarray:
        """The bars as an ``(n, 2)`` float array ``[birth, death]``, rows in node order.

        Parameters
        ----------
        essential : {"keep", "drop", "max"} or float, optional
            What to do with the essential (infinite) bars, which most vectorizations
            reject (``gudhi.representations``, persim's images). Not given: ``"keep"``
            with a FutureWarning; the default will become ``"drop"``
            (:data:`DEFAULT_ESSENTIAL`, the default of :mod:`topoloss.tda`'s conversions):

            - ``"keep"``: death ``inf`` (:func:`gudhi.bottleneck_distance`,
              ``gudhi.wasserstein.wasserstein_distance(..., keep_essential_parts=True)``);
            - ``"drop"``: remove those rows;
            - ``"max"``: death = the largest finite death (the birth when no bar is
              finite), so the bar stays but has a finite length;
            - a float ``cap``: death = ``max(cap, birth)``.

        Returns
        -------
        ndarray of shape (k, 2)
            A new array (``k = n`` except for ``"drop"``).

        Examples
        --------
        >>> from topoloss import LandscapeGraph, loss_barcode
        >>> bc = loss_barcode(LandscapeGraph.from_barriers([0.0, 1.0], [[0, 3], [3, 0]]))
        >>> bc.to_diagram("keep").tolist(), bc.to_diagram("drop").tolist()
        ([[0.0, inf], [1.0, 3.0]], [[1.0, 3.0]])
        >>> bc.to_diagram("max").tolist(), bc.to_diagram(10).tolist()
        ([[0.0, 3.0], [1.0, 3.0]], [[0.0, 10.0], [1.0, 3.0]])
        """
        return essential_policy(self.intervals, keep_unless_given(essential, "Barcode.to_diagram()"))

    def to_persistence(self, essential: Essential | NotGiven = NOT_GIVEN) -> list[tuple[int, tuple[float, float]]]:
        """GUDHI's persistence list ``[(0, (birth, death)), ...]`` under an ``essential`` policy
        (see :meth:`to_diagram`; not given: ``"keep"`` with a FutureWarning, as there).
        :meth:`to_gudhi` keeps the essential bars without a warning."""
        policy = keep_unless_given(essential, "Barcode.to_persistence()")
        return [(0, (float(b), float(d))) for b, d in self.to_diagram(policy)]

    def to_giotto(self, essential: Essential = DEFAULT_ESSENTIAL) -> np.ndarray:
        """giotto-tda's format: a ``(1, k, 3)`` array of ``[birth, death, homology dimension]``.

        giotto-tda's diagrams have no infinite points, so the default policy drops the
        essential bars (``"keep"`` is refused). For several barcodes, padded to one
        shape, use :func:`topoloss.tda.to_giotto`.

        Raises
        ------
        InputError
            ``essential="keep"``.
        """
        if isinstance(essential, str) and essential == "keep":
            raise InputError("giotto-tda diagrams cannot hold infinite deaths: use essential='drop', 'max' or a cap")
        d = self.to_diagram(essential)
        return np.concatenate([d, np.zeros((d.shape[0], 1))], axis=1)[None]

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per bar: ``minimum``, ``birth``, ``death`` (``inf`` kept), ``length``,
        ``essential``, ``saddle_u``, ``saddle_v``, ``merges_into`` (``None`` where absent)."""
        rows = []
        for bar in self.bars():
            rows.append({
                "minimum": bar.name,
                "birth": bar.birth,
                "death": bar.death,
                "length": bar.length,
                "essential": not math.isfinite(bar.death),
                "saddle_u": None if bar.saddle is None else bar.saddle[0],
                "saddle_v": None if bar.saddle is None else bar.saddle[1],
                "merges_into": bar.merges_into,
            })
        return rows

    def to_frame(self) -> Any:
        """The bars as a :class:`pandas.DataFrame` (columns of :meth:`to_records`; ``inf``
        deaths kept).

        Raises
        ------
        ImportError
            pandas is not installed (it is optional: ``pip install pandas``).
        """
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("Barcode.to_frame needs pandas: pip install pandas") from exc
        return pd.DataFrame.from_records(self.to_records(), columns=list(_RECORD_COLUMNS))

    def to_csv(self, path: str | os.PathLike[str] | None = None) -> str:
        """The bars as CSV text (columns of :meth:`to_records`; ``inf`` written as ``inf``,
        an absent saddle as an empty field), readable by R's ``read.csv`` and
        ``pandas.read_csv``. Written to ``path`` too when given.

        Examples
        --------
        >>> from topoloss import LandscapeGraph, loss_barcode
        >>> bc = loss_barcode(LandscapeGraph.from_barriers([0.0, 1.0], [[0, 3], [3, 0]]))
        >>> print(bc.to_csv().strip())
        minimum,birth,death,length,essential,saddle_u,saddle_v,merges_into
        0,0.0,inf,inf,True,,,
        1,1.0,3.0,2.0,False,1,0,0
        """
        import csv
        import io

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(_RECORD_COLUMNS)
        for row in self.to_records():
            w.writerow(["" if row[c] is None else repr(row[c]) if isinstance(row[c], float) else row[c]
                        for c in _RECORD_COLUMNS])
        text = buf.getvalue()
        if path is not None:
            from topoloss._io import atomic_write_text

            atomic_write_text(path, text)
        return text

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """:meth:`to_dict` as JSON text (``null`` for ``inf``); written to ``path`` too when given."""
        import json

        text = json.dumps(self.to_dict(), indent=1, default=str)
        if path is not None:
            from topoloss._io import atomic_write_text

            atomic_write_text(path, text)
        return text

    def to_gudhi(self) -> list[tuple[int, tuple[float, float]]]:
        """GUDHI's persistence list: ``[(0, (birth, death)), ...]`` (``inf`` kept; see
        :meth:`to_persistence` for the other policies)."""
        return self.to_persistence("keep")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``intervals`` as ``[birth, death]`` with ``None`` for ``inf``."""

        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {
            "intervals": [[num(b), num(d)] for b, d in self.intervals],
            "bars": [
                {
                    "minimum": bar.name,
                    "birth": num(bar.birth),
                    "death": num(bar.death),
                    "saddle": list(bar.saddle) if bar.saddle is not None else None,
                    "merges_into": bar.merges_into,
                }
                for bar in self.bars()
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Barcode:
        """Inverse of :meth:`to_dict`."""
        bars = data["bars"]
        return cls(
            tuple(b["minimum"] for b in bars),
            np.array(
                [[b["birth"], math.inf if b["death"] is None else b["death"]] for b in bars],
                dtype=float,
            ).reshape(-1, 2),
            tuple(tuple(b["saddle"]) if b["saddle"] is not None else None for b in bars),
            tuple(b["merges_into"] for b in bars),
        )

    def __str__(self) -> str:
        lines = [f"loss barcode: {len(self)} bars, {self.n_components} component(s)"]
        for bar in sorted(self.bars(), key=lambda b: (b.birth, b.death)):
            saddle = "" if bar.saddle is None else f"  saddle {bar.saddle[0]!r}-{bar.saddle[1]!r}"
            into = "" if bar.merges_into is None else f" -> {bar.merges_into!r}"
            lines.append(f"  {bar.name!r}: [{bar.birth:.6g}, {bar.death:.6g}]{saddle}{into}")
        return "\n".join(lines)
