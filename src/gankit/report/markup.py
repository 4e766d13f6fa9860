"""Small HTML builders over ``html.escape``: tables, embedded images, the page shell.

Every text that comes from a run (config values, metric names, file names) goes through
``esc``; images become ``data:`` URIs so a page needs no file beside it and no network.
"""

from __future__ import annotations

import base64
import html
from typing import Iterable, Sequence

IMAGE_TYPES = {".png": "image/png", ".gif": "image/gif"}

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
.lead { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
img.pixels { image-rendering: pixelated; } img { max-width: 100%; } figure img, .frames img { max-width: 460px; }
figure { display: inline-block; margin: 0.5em 1em 0.5em 0; vertical-align: top; }
figcaption { font-size: 0.85em; color: #555; }
.slider { display: flex; align-items: center; gap: 1em; margin: 0.5em 0; }
.slider input { width: 24em; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.4em; vertical-align: middle; }
code { background: #f5f5f5; padding: 0 0.2em; }
"""

# the slider of sample grids: shows the grid whose index the range input holds, hides the others
SCRIPT = """
document.querySelectorAll('.slider').forEach(function (box) {
  var range = box.querySelector('input[type=range]');
  var label = box.querySelector('.step');
  var frames = document.querySelectorAll('#' + box.dataset.frames + ' img');
  function show() {
    frames.forEach(function (img, i) { img.hidden = i !== Number(range.value); });
    label.textContent = 'step ' + frames[Number(range.value)].dataset.step;
  }
  range.addEventListener('input', show);
  show();
});
"""


def esc(value: object) -> str:
    """``str(value)`` escaped for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def data_uri(data: bytes, mime: str) -> str:
    """``data:<mime>;base64,...`` (RFC 2397): the bytes embedded in the page."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def img(uri: str, alt: str, css_class: str = "", attrs: str = "") -> str:
    cls = f' class="{css_class}"' if css_class else ""
    return f'<img src="{uri}" alt="{esc(alt)}"{cls}{attrs}>'


def figure(uri: str, caption: str, css_class: str = "") -> str:
    return f"<figure>{img(uri, caption, css_class)}<figcaption>{esc(caption)}</figcaption></figure>"


def table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[bool] = ()) -> str:
    """A table; ``header`` is escaped here, the cells arrive as HTML (escape text with ``esc``).
    Columns flagged in ``numeric`` are right-aligned."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{cell}</td>' if i < len(numeric) and numeric[i] else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def section(title: str, body: str, anchor: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{body}</section>'


def document(title: str, lead: str, sections: Sequence[str]) -> str:
    """The whole page: inline CSS, the sections, the slider script; an empty ``data:`` icon
    so the browser asks for no favicon."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="icon" href="data:,"><title>{esc(title)}</title><style>{STYLE}</style></head>\n'
        f'<body><h1>{esc(title)}</h1><p class="lead">{lead}</p>\n'
        + "\n".join(sections)
        + f"\n<script>{SCRIPT}</script></body></html>\n"
    )
