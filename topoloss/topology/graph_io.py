"""Reading and writing landscape graphs in files.

Formats, chosen by the file's suffix unless ``format`` is given:

==========  ========  =====  ====================================================
format      suffix    write  content
==========  ========  =====  ====================================================
``json``    .json     yes    :meth:`LandscapeGraph.to_json` (lossless)
``csv``     .csv .txt no     ``n`` rows ``loss, barrier_1, ..., barrier_n``
``npz``     .npz      no     arrays ``losses`` (n,), ``barriers`` (n, n), ``names``;
                             or sparse: ``edges`` (E, 2) indices, ``barriers`` (E,)
``graphml`` .graphml  yes    GraphML through networkx (scalar attributes only)
``gexf``    .gexf     yes    GEXF through networkx (scalar attributes only)
==========  ========  =====  ====================================================

CSV, NPZ and JSON are read into arrays (:meth:`LandscapeGraph.from_barriers`,
:meth:`~LandscapeGraph.from_edges`; JSON edges holding only their barrier are turned
into tuples while parsing): no Python object per edge is kept.

A directory is read as a run directory: its ``graph.json``. The CSV table is parsed in
:mod:`topoloss.topology.graph_csv`.

**Missing paths and repeats.** A missing path must be explicit: an empty cell or ``inf``
in CSV, ``inf`` in NPZ, ``null`` or ``Infinity`` (or no edge) in JSON. Anything else that
is not a number (a text cell, NaN, ``-inf``) is an error naming the file, row and
column. A minimum listed twice is an error. A pair of minima listed more than once keeps
the **lowest** barrier (every listing is kept as a path record), as
:meth:`LandscapeGraph.add_path` does.

GraphML and GEXF hold only scalar attributes, and node ids as strings. On writing,
numpy scalars become plain numbers, lists and dicts (a minimum's ``point``, an edge's
``paths`` records) become their JSON text, and ``None`` values are left out; on
reading, that text stays text, so path records come back as one record per edge
holding the lowest barrier. Node ids that all read as integers (``"0"``, ``"12"``,
``"-3"``) come back as ``int``, so the usual integer names survive a round trip; the
``label`` (GEXF, when it equals the id) and edge ``id`` attributes a GEXF reader adds
are dropped. For a lossless copy use JSON.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from xml.etree import ElementTree

import numpy as np

from topoloss._validate import plain
from topoloss.errors import InputError
from topoloss.topology.graph_convert import PLAIN_EDGE_KEYS, add_nodes, add_plain_edges, is_missing
from topoloss.topology.graph_csv import read_csv_table as _read_csv  # the name read_graph calls

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

    from topoloss.topology.graph import LandscapeGraph

__all__ = ["GRAPH_FORMATS", "GraphFormat", "read_graph", "read_json_source", "write_graph", "write_json"]

GraphFormat = Literal["json", "csv", "npz", "graphml", "gexf"]

#: Suffix (lower case) -> format.
GRAPH_FORMATS: dict[str, GraphFormat] = {
    ".json": "json",
    ".csv": "csv",
    ".txt": "csv",
    ".npz": "npz",
    ".graphml": "graphml",
    ".gexf": "gexf",
}
_WRITABLE = ("json", "graphml", "gexf")
_INT = re.compile(r"-?(0|[1-9][0-9]*)")


def _format_of(p: Path, fmt: str | None, allowed: tuple[str, ...]) -> str:
    if fmt is None:
        suffix = p.suffix.lower()
        found = GRAPH_FORMATS.get(suffix)
        if found is None or found not in allowed:
            known = ", ".join(s for s, f in GRAPH_FORMATS.items() if f in allowed)
            raise InputError(f"{p}: unknown graph format {suffix!r}; expected {known}")
        return found
    if fmt not in allowed:
        raise InputError(f"format={fmt!r}; expected one of {', '.join(map(repr, allowed))}")
    return fmt


def read_graph(path: str | os.PathLike[str], *, format: str | None = None) -> LandscapeGraph:
    """Read a landscape graph from a file or a run directory.

    See :meth:`LandscapeGraph.read`, which calls this.
    """
    from topoloss.topology.graph import LandscapeGraph

    p = Path(path)
    if p.is_dir():  # a run directory: its graph file, where the store's layout puts it
        from topoloss._layout import RunLayout

        if not RunLayout(p).graph.is_file():
            raise InputError(f"{p} is a directory that holds no {RunLayout.GRAPH} (give a graph file, or a run "
                             f"directory after `topoloss connect`)")
        p = RunLayout(p).graph
    fmt = _format_of(p, format, tuple(dict.fromkeys(GRAPH_FORMATS.values())))
    if not p.exists():
        raise InputError(f"graph file not found: {p}")
    if not p.is_file():
        raise InputError(f"{p}: not a regular file (a FIFO, socket or device cannot be read as a graph)")
    try:
        if fmt == "json":
            return _read_json(p, LandscapeGraph)
        if fmt == "csv":
            table = _read_csv(p)
            return LandscapeGraph.from_barriers(table[:, 0], table[:, 1:])
        if fmt == "npz":
            return _read_npz(p, LandscapeGraph)
        return _read_xml(p, fmt, LandscapeGraph)
    except ValueError as exc:  # also InputError: a value the graph rejects; name the file
        if str(p) in str(exc):
            raise
        raise InputError(f"{p}: {exc}") from None


def write_json(graph: LandscapeGraph, path: str | os.PathLike[str] | None) -> str:
    """``graph`` as JSON text, also written atomically to ``path`` if given; see
    :meth:`LandscapeGraph.to_json`."""
    text = json.dumps(graph.to_dict(), indent=1)
    if path is not None:
        from topoloss._io import atomic_write_text

        atomic_write_text(path, text)
    return text


def read_json_source(source: str | os.PathLike[str], cls: type[LandscapeGraph]) -> LandscapeGraph:
    """A graph from a JSON file path or a JSON string; see :meth:`LandscapeGraph.from_json`."""
    text = str(source)
    if not text.lstrip().startswith("{"):
        p = Path(source)
        if not p.exists():
            raise FileNotFoundError(f"graph file not found: {p}")
        text = p.read_text()
    g = _read_plain_json(text, cls)
    if g is not None:
        return g
    try:
        data = json.loads(text)
    except RecursionError:
        raise InputError(f"graph {str(source)[:80]!r} is nested too deeply to be a graph") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON in graph {str(source)[:80]!r}: {exc}") from None
    return cls.from_dict(data)


def _read_json(p: Path, cls: type[LandscapeGraph]) -> LandscapeGraph:
    try:
        text = p.read_text()
        g = _read_plain_json(text, cls)
        if g is not None:
            return g
        data = json.loads(text)
    except RecursionError:
        raise InputError(f"{p}: JSON nested too deeply to be a graph") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"invalid JSON in graph {str(p)!r}: {exc}") from None
    return cls.from_dict(data)


class _NotPlain(Exception):
    """A JSON graph with an edge that is not plain: read it the general way."""


def _read_plain_json(text: str, cls: type[LandscapeGraph]) -> LandscapeGraph | None:
    """The graph of JSON ``text`` if all its edges are plain, else ``None``.

    Plain edges (see :func:`topoloss.topology.graph_convert.plain_edge`) become tuples as
    the parser meets them, so a million edges hold no dict each; the arrays are built
    from the tuples. Any other content, or any value :meth:`LandscapeGraph.from_dict`
    would reject, returns ``None`` and the caller reads the text the general way, which
    also gives the error message.
    """
    made = [0, 0, 0]  # records made, records inside an edge, edges made

    def hook(obj: dict[str, Any]) -> Any:
        if len(obj) == 1 and "barrier" in obj:
            made[0] += 1
            return (obj["barrier"],)
        if obj.keys() in PLAIN_EDGE_KEYS:
            w = obj["barrier"]
            if not (is_missing(w) or type(w) in (float, int)):
                raise _NotPlain
            paths = obj.get("paths")
            if paths is not None:
                if not (type(paths) is list and len(paths) == 1 and type(paths[0]) is tuple
                        and type(paths[0][0]) in (float, int) and paths[0][0] == w):
                    raise _NotPlain
                made[1] += 1
            made[2] += 1
            return obj["source"], obj["target"], w, paths is not None
        return obj

    try:
        data = json.loads(text, object_hook=hook)
    except (_NotPlain, ValueError, RecursionError):
        return None
    if type(data) is not dict or type(data.get("nodes")) is not list:
        return None
    edges = data.get("edges" if "edges" in data else "links", [])
    if type(edges) is not list or made[0] != made[1] or made[2] != len(edges):
        return None  # a record or an edge-like object somewhere else: read it the general way
    g = cls()
    add_nodes(g, data["nodes"])
    return g if add_plain_edges(g, edges) else None


def _read_npz(p: Path, cls: type[LandscapeGraph]) -> LandscapeGraph:
    try:
        with np.load(p, allow_pickle=False) as data:
            missing = [k for k in ("losses", "barriers") if k not in data]
            if missing:
                raise InputError(f"{p}: NPZ file lacks array(s) {missing}; found {list(data)}")
            names = [str(x) for x in data["names"]] if "names" in data else None
            losses, barriers = data["losses"], data["barriers"]
            edges = data.get("edges")
    except InputError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:  # not a zip, truncated, ...
        raise InputError(f"{p}: unreadable NPZ file: {str(exc) or type(exc).__name__}") from None
    for key, arr in (("losses", losses), ("barriers", barriers)):
        if np.asarray(arr).dtype.kind not in "iuf":  # complex, bool, strings, objects: refuse, never cast
            raise InputError(f"{p}: array {key!r} has dtype {np.asarray(arr).dtype}; expected real numbers "
                             f"(integer or floating)")
    b = np.asarray(barriers, dtype=float)
    bad = np.isnan(b) | np.isneginf(b)
    if bad.any():
        at = ", ".join(str(int(x)) for x in np.argwhere(bad)[0])
        raise InputError(f"{p}: barriers[{at}] is {float(b[bad][0])}; a missing path is inf")
    if edges is not None:  # a sparse graph: edges (E, 2) and barriers (E,)
        return cls.from_edges(losses, edges, b, names=names)
    return cls.from_barriers(losses, b, names=names)


def _read_xml(p: Path, fmt: str, cls: type[LandscapeGraph]) -> LandscapeGraph:
    import networkx as nx

    try:
        g = nx.read_graphml(p) if fmt == "graphml" else nx.read_gexf(p)
    except (ElementTree.ParseError, nx.NetworkXError, KeyError, ValueError, TypeError) as exc:
        raise InputError(f"{p}: unreadable {fmt.upper()} file: {exc}") from None
    _check_xml_nodes(p)
    if g.is_multigraph():  # a pair listed twice: the lowest barrier wins, every listing is a record
        g = _collapse(g)
    if g.is_directed():  # GEXF's default edge type is directed; the file says how it was written
        g = g.to_undirected()
    if fmt == "gexf":
        for name, data in g.nodes(data=True):
            if str(data.get("label")) == str(name):
                del data["label"]
        for _, _, data in g.edges(data=True):
            data.pop("id", None)
    if g.number_of_nodes() and all(isinstance(n, str) and _INT.fullmatch(n) for n in g):
        g = nx.relabel_nodes(g, {n: int(n) for n in g}, copy=True)
    return cls.from_networkx(g)


def _check_xml_nodes(p: Path) -> None:
    """A node id listed twice in a GraphML/GEXF file is an error (networkx would merge them)."""
    seen: set[str] = set()
    for _, elem in ElementTree.iterparse(p):
        if elem.tag.rsplit("}", 1)[-1] == "node" and "id" in elem.attrib:
            name = elem.attrib["id"]
            if name in seen:
                raise InputError(f"{p}: node {name!r} is listed twice")
            seen.add(name)
        elem.clear()


def _collapse(g: nx.MultiGraph) -> nx.Graph:
    """One edge per pair: the barrier is the lowest listed, each listing becomes a path record."""
    import networkx as nx

    out = nx.DiGraph() if g.is_directed() else nx.Graph()
    out.add_nodes_from(g.nodes(data=True))
    for u, v, data in g.edges(data=True):
        rec = {k: val for k, val in data.items() if k not in ("id", "key")}
        if out.has_edge(u, v):
            out.edges[u, v]["paths"].append(rec)
        else:
            out.add_edge(u, v, paths=[rec])
    for u, v, data in out.edges(data=True):
        for rec in data["paths"]:
            if "barrier" not in rec:
                raise InputError(f"edge ({u!r}, {v!r}) has no 'barrier' attribute")
        data["barrier"] = min(float(rec["barrier"]) for rec in data["paths"])
    return out


def _scalar_attrs(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        value = plain(value)
        if value is None:
            continue
        if isinstance(value, (list, dict)):
            value = json.dumps(value)
        out[str(key)] = value
    return out


def write_graph(
    graph: LandscapeGraph, path: str | os.PathLike[str], *, format: str | None = None
) -> None:
    """Write ``graph`` to ``path`` (atomically); see :meth:`LandscapeGraph.write`."""
    from topoloss._io import atomic_write_text

    p = Path(path)
    fmt = _format_of(p, format, _WRITABLE)
    if fmt == "json":
        graph.to_json(p)
        return
    import networkx as nx

    src = graph.to_networkx()
    out = nx.Graph()
    for name, data in src.nodes(data=True):
        out.add_node(name, **_scalar_attrs(data))
    for u, v, data in src.edges(data=True):
        out.add_edge(u, v, **_scalar_attrs(data))
    lines = nx.generate_graphml(out) if fmt == "graphml" else nx.generate_gexf(out)
    atomic_write_text(p, "\n".join(lines) + "\n")
