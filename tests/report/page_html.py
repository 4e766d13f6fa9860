"""Reading the report pages back with ``html.parser``: tables by section, images, frames."""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser

from PIL import Image


class PageParser(HTMLParser):
    """Collects, per ``<section id=...>``, its tables (rows of cell texts) and images (attrs)."""

    def __init__(self) -> None:
        super().__init__()
        self.section = ""
        self.tables: dict[str, list[list[list[str]]]] = {}
        self.images: dict[str, list[dict[str, str | None]]] = {}
        self.svgs: dict[str, list[list[tuple[str, dict[str, str | None]]]]] = {}
        self.cell: list[str] | None = None
        self.in_svg = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.section = a["id"] or ""
        elif tag == "table":
            self.tables.setdefault(self.section, []).append([])
        elif tag == "tr":
            self.tables[self.section][-1].append([])
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "img":
            self.images.setdefault(self.section, []).append(a)
        elif tag == "svg":
            self.in_svg = True
            self.svgs.setdefault(self.section, []).append([])
        if self.in_svg and tag != "svg":
            self.svgs[self.section][-1].append((tag, a))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.tables[self.section][-1][-1].append("".join(self.cell).strip())
            self.cell = None
        elif tag == "svg":
            self.in_svg = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        if self.in_svg and data.strip():
            self.svgs[self.section][-1].append(("#text", {"text": data.strip()}))


def parse_page(text: str) -> PageParser:
    parser = PageParser()
    parser.feed(text)
    return parser


def decode_image(src: str) -> Image.Image:
    """The image of a ``data:image/...;base64,`` URI (fails for anything else)."""
    head, _, payload = src.partition(",")
    assert head in ("data:image/png;base64", "data:image/gif;base64"), head[:40]
    image = Image.open(io.BytesIO(base64.b64decode(payload, validate=True)))
    image.load()
    return image
