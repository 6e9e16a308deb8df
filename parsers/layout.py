"""Page layout from PyMuPDF's text dict: lines with their fonts, blocks, and reading order.

Nothing here knows about element kinds; ``parsers.pymupdf`` classifies the blocks this module
puts in order.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pymupdf

from parsers.base import BBox
from parsers.text import ARXIV_STAMP, normalize

# dict extraction without images (they are read separately) and with ligatures expanded.
TEXT_FLAGS = (
    pymupdf.TEXT_PRESERVE_WHITESPACE
    | pymupdf.TEXT_MEDIABOX_CLIP
    | pymupdf.TEXT_CID_FOR_UNKNOWN_UNICODE
)
_BOLD = 16
_MATH_FONTS = ("cmmi", "cmsy", "cmex", "msbm", "msam", "math", "symbol", "stix", "eufm", "rsfs")


@dataclass
class Line:
    text: str
    bbox: BBox
    size: float  # the size most of the line's characters have
    bold: bool
    math_font_share: float
    font: str = ""  # the face most of the line's characters are set in
    bold_lead: str = ""  # a bold run that starts a line which then goes on in another weight

    @property
    def x0(self) -> float:
        return self.bbox[0]

    @property
    def x1(self) -> float:
        return self.bbox[2]

    @property
    def y0(self) -> float:
        return self.bbox[1]

    @property
    def y1(self) -> float:
        return self.bbox[3]


@dataclass
class Block:
    lines: list[Line]
    column: str = "full"  # full | left | right

    @property
    def bbox(self) -> BBox:
        lines = self.lines
        if len(lines) == 1:
            return lines[0].bbox
        return (
            min(ln.bbox[0] for ln in lines),
            min(ln.bbox[1] for ln in lines),
            max(ln.bbox[2] for ln in lines),
            max(ln.bbox[3] for ln in lines),
        )

    @property
    def size(self) -> float:
        sizes: Counter[float] = Counter()
        for ln in self.lines:
            sizes[ln.size] += len(ln.text)
        return sizes.most_common(1)[0][0]

    @property
    def bold(self) -> bool:
        return all(ln.bold for ln in self.lines)

    @property
    def chars(self) -> int:
        return sum(len(ln.text) for ln in self.lines)


@dataclass
class PageLayout:
    number: int
    width: float
    height: float
    blocks: list[Block] = field(default_factory=list)
    image_boxes: list[BBox] = field(default_factory=list)
    image_cover: float = 0.0  # share of the page area covered by images
    chars: int = 0


def _line(raw: dict[str, Any]) -> Line | None:
    spans = raw["spans"]
    text = normalize("".join([s["text"] for s in spans])).strip()
    if not text:
        return None
    weights: dict[float, int] = {}
    fonts: dict[str, int] = {}
    bold_chars = math_chars = total = 0
    lead: list[str] = []
    leading = True  # still inside the bold run the line starts with
    for s in spans:
        n = len(s["text"])
        if not n:
            continue
        total += n
        size = round(s["size"], 1)
        weights[size] = weights.get(size, 0) + n
        fonts[s["font"]] = fonts.get(s["font"], 0) + n
        font = _font_kind(s["font"])
        bold_span = bool(s["flags"] & _BOLD or font & 1)
        if leading and (bold_span or not s["text"].strip()):
            lead.append(s["text"])
        elif s["text"].strip():
            leading = False
        if bold_span:
            bold_chars += n
        if font & 2:
            math_chars += n
    return Line(
        text=text,
        bbox=raw["bbox"],
        size=max(weights, key=weights.__getitem__) if weights else 0.0,
        bold=bold_chars >= 0.6 * total,
        math_font_share=math_chars / total if total else 0.0,
        font=max(fonts, key=fonts.__getitem__) if fonts else "",
        bold_lead=normalize("".join(lead)).strip() if not leading else "",
    )


@lru_cache(maxsize=4096)
def _font_kind(font: str) -> int:
    """Bit 1: a bold face; bit 2: a math font."""
    name = font.lower()
    bold = "bold" in name or name.endswith(("-bx", "-b", ".b")) or "cmbx" in name
    math = any(m in name for m in _MATH_FONTS)
    return int(bold) | (int(math) << 1)


def read_page(page: pymupdf.Page) -> PageLayout:
    """Lines grouped into blocks, horizontal text only (rotated margin stamps are dropped)."""
    rect = page.rect
    layout = PageLayout(number=page.number or 0, width=rect.width, height=rect.height)
    info = page.get_text("dict", flags=TEXT_FLAGS)
    area = max(rect.width * rect.height, 1.0)
    cover = 0.0
    for raw_block in info["blocks"]:
        if raw_block.get("type") != 0:
            continue
        lines: list[Line] = []
        for raw in raw_block["lines"]:
            dx, dy = raw["dir"]
            if abs(dy) > 0.05 or dx < 0:  # vertical or upside-down text: stamps, axis labels
                continue
            line = _line(raw)
            if line is None or ARXIV_STAMP.fullmatch(line.text):
                continue
            lines.append(line)
        if lines:
            layout.blocks.extend(_split_on_style(lines))
    layout.blocks = _join_same_baseline(layout.blocks)
    for img in page.get_image_info() if page.get_images() else ():
        box = pymupdf.Rect(img["bbox"]) & rect
        if box.is_empty:
            continue
        layout.image_boxes.append((box.x0, box.y0, box.x1, box.y1))
        cover += box.width * box.height
    layout.image_cover = min(cover / area, 1.0)
    layout.chars = sum(b.chars for b in layout.blocks)
    return layout


def _split_on_style(lines: list[Line]) -> list[Block]:
    """PyMuPDF sometimes puts a heading and its paragraph in one block: split where the
    font size or weight changes, or where a line starts far below the previous one."""
    blocks = [Block([lines[0]])]
    for prev, line in itertools.pairwise(lines):
        if abs(line.y1 - prev.y1) < 2 and line.x0 >= prev.x1 - 1:  # one visual line, two spans
            blocks[-1].lines.append(line)
            continue
        gap = line.y0 - prev.y1
        same_style = abs(line.size - prev.size) < 0.6 and line.bold == prev.bold
        if same_style and gap < max(prev.size, line.size) * 0.9 and line.y0 >= prev.y0 - 1:
            blocks[-1].lines.append(line)
        else:
            blocks.append(Block([line]))
    return blocks


def _join_same_baseline(blocks: list[Block]) -> list[Block]:
    """A bold run-in label ("Table 1.", "Proof.") often lands in a block of its own that ends
    where the next block starts on the same baseline: put them back together."""
    out: list[Block] = []
    for block in blocks:
        if out:
            last, first = out[-1].lines[-1], block.lines[0]
            if abs(first.y1 - last.y1) < 2 and 0 <= first.x0 - last.x1 < 2 * max(first.size, 1):
                out[-1].lines.extend(block.lines)
                continue
        out.append(block)
    return out


def body_x_range(lay: PageLayout, body_size: float) -> tuple[float, float]:
    """The horizontal extent of body text on a page (from lines set in the body size)."""
    xs = [
        (ln.x0, ln.x1)
        for b in lay.blocks
        for ln in b.lines
        if abs(ln.size - body_size) < 1.0 and len(ln.text) > 25
    ]
    if not xs:
        return (0.0, lay.width)
    return (min(x for x, _ in xs), max(x for _, x in xs))


def order_blocks(lay: PageLayout, body_x: tuple[float, float]) -> list[Block]:
    """Reading order for one- and two-column pages.

    Blocks wider than about 60% of the text width (titles, abstracts in one-column front
    matter, wide figures and tables) cut the page into bands; inside a band the left column is
    read top to bottom before the right one.
    """
    left, right = body_x
    width = max(right - left, 1.0)
    mid = left + width / 2
    bands: list[list[Block]] = []
    current: list[Block] = []
    for block in sorted(lay.blocks, key=lambda b: (b.bbox[1], b.bbox[0])):
        x0, _, x1, _ = block.bbox
        if x1 - x0 > 0.6 * width or (x0 < mid - 0.05 * width and x1 > mid + 0.05 * width):
            block.column = "full"
            if current:
                bands.append(current)
                current = []
            bands.append([block])
        else:
            block.column = "left" if (x0 + x1) / 2 < mid else "right"
            current.append(block)
    if current:
        bands.append(current)
    ordered: list[Block] = []
    for band in bands:
        ordered.extend(b for b in band if b.column in ("full", "left"))
        ordered.extend(b for b in band if b.column == "right")
    return ordered
