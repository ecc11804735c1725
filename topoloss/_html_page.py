"""Markdown to one self-contained HTML page: the subset the run report's ``summary.md`` uses.

:func:`markdown_page` turns the page into HTML with its PNG figures embedded (base64),
so ``summary.html`` needs no folder beside it; :func:`inline_html` does the inline
markup. No topoloss imports: :mod:`topoloss.report` calls it.
"""

from __future__ import annotations

import html
from pathlib import Path

__all__ = ["inline_html", "markdown_page"]


def inline_html(text: str) -> str:
    """Markdown inline markup to HTML: `code`, **bold**, *italic*; everything else escaped."""
    import re

    out = html.escape(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"(?<![*\w])\*([^*]+)\*(?![*\w])", r"<em>\1</em>", out)


def _image(folder: Path | None, src: str) -> str:
    """An ``<img>`` with the PNG embedded as base64 (the page needs no folder beside it)."""
    import base64

    alt = html.escape(src)
    if folder is None or not (folder / src).is_file():
        return f'<p class="missing">figure {alt} is missing</p>'
    data = base64.b64encode((folder / src).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{alt}">'


def markdown_page(md: str, *, title: str, folder: Path | None = None) -> str:
    """Markdown ``md`` as one self-contained HTML page titled ``title``: figures (``![f](f.png)``
    lines, read from ``folder``) embedded, the ``*caption*`` line after each under it.

    The Markdown is the subset ``summary.md`` uses: ``#``/``##`` headings, ``- `` items,
    ``|`` tables (the first row is the header), figures, and plain lines as notes; inline
    markup as :func:`inline_html`.
    """
    body: list[str] = []
    in_table = False
    lines = md.splitlines()
    k = 0
    while k < len(lines):
        line = lines[k]
        k += 1
        if line.startswith("|"):
            cells = [inline_html(c.strip()) for c in line.strip("|").split("|")]
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
            body.append(f"<h1>{inline_html(line[2:])}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{inline_html(line[3:])}</h2>")
        elif line.startswith("- "):
            body.append(f"<p>{inline_html(line[2:])}</p>")
        elif line.startswith("!["):
            src = line[line.index("(") + 1 : -1]
            caption = ""
            while k < len(lines) and not lines[k].strip():
                k += 1
            if k < len(lines) and lines[k].startswith("*") and not lines[k].startswith("**"):
                caption = lines[k].strip().strip("*")
                k += 1
            body.append(f"<figure>{_image(folder, src)}<figcaption>{inline_html(caption)}</figcaption></figure>")
        elif line.strip():
            body.append(f'<p class="note">{inline_html(line)}</p>')
    if in_table:
        body.append("</table>")
    style = ("body{font-family:sans-serif;max-width:1100px;margin:auto;padding:0 1em}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}"
             "code{background:#f2f2f2;padding:0 3px;border-radius:3px}"
             "p.note{color:#444;font-size:0.92em;max-width:900px}"
             "figure{margin:1.2em 0}figure img{max-width:100%}"
             "figcaption{color:#333;font-size:0.92em;max-width:900px}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
