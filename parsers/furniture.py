"""Page furniture: running heads and feet, page numbers, download and publisher stamps.

A line is furniture when it sits in the top or bottom band of the page and something says it
is not body text. Across pages, repetition says so (``running_lines``). On a single page (a
one-page excerpt, a scanned book page) geometry, typography and wording have to: a band line
that matches a furniture pattern ("Downloaded from", "Vol. 12, No. 3, pp. 45-67", "(c) 2021",
a DOI or URL, "Revision B", a page number), or one that is short, set smaller than (or in a
different face from) the body, and isolated from the body flow. Body text is protected: a
line set in the body size and face that continues into the next line (a paragraph's first
line at the top of a page), a heading (bigger or bold) and an equation line (math fonts or
symbols) are never furniture by typography alone.

Removed lines are returned with their reason; the parser keeps them as ``furniture``
elements, so the decision can be audited and a builder can choose.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from parsers.layout import Block, Line, PageLayout
from parsers.text import is_page_number, math_share, shape

TOP_BAND = 0.09  # share of the page height
BOTTOM_BAND = 0.91
# A wider band for lines that are clearly detached from the body (scans have wide margins).
TOP_BAND_WIDE = 0.14
BOTTOM_BAND_WIDE = 0.88

_PAGE_OF = re.compile(
    r"^\s*(?:page|p\.|pg\.?|seite|s\.)?\s*[-\u2013\u2014(\[]?\s*(?:\d{1,4}|[ivxlcdm]{1,7})\s*"
    r"[-\u2013\u2014)\]]?\s*(?:(?:of|/|von)\s*\d{1,4})?\s*$",
    re.IGNORECASE,
)
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("download notice", re.compile(
        r"\bdownload(?:ed)?\s+(?:from|by|on|date|\d{1,2}\s+\w{3,9}\.?\s+\d{4})\b|"
        r"\bdownload date\b|\bredistribution subject to\b", re.I)),
    ("publisher line", re.compile(
        r"\b(?:published|publ\.)\s+(?:by|online|in)\b|\bpublishing\b.*\b(?:ltd|inc|gmbh|llc)\b|"
        r"\ball rights reserved\b|\bprinted in\b|\bpreprint submitted to\b|\baccepted manuscript\b|"
        r"\bprotected by copyright\b|\blicen[cs]ed under\b|\breprints? and permissions\b", re.I)),
    ("copyright", re.compile(r"\u00a9|\bc\u20dd|\(c\)\s*\d{4}|\bcopyright\b", re.I)),
    ("venue line", re.compile(
        r"^\s*(?:in\s+)?proceedings of\b|^\s*to appear in\b|\bpages\s+\d+\s*[-\u2013]\s*\d+\b|"
        r"\bconference on\b.*\b(?:19|20)\d\d\b", re.I)),
    ("journal volume/issue/page", re.compile(
        r"\b(?:vol(?:ume)?\.?\s*\d+|no\.\s*\d+|issue\s*\d+|pp?\.\s*\d+\s*[-\u2013]\s*\d+)|"
        r"\b\d{1,4}\s*\(\d{4}\)\s*\d{1,5}(?:\s*[-\u2013]\s*\d{1,5})?\b|"
        r"\b\d{1,4}[a-z]?,\s*\d{1,6}(?:\s*[-\u2013]\s*\d{1,6})?\s*\((?:19|20)\d\d\)|"
        r"\b(?:19|20)\d\d\s*[,;:]\s*\d{1,4}\s*(?:\(\d{1,3}\))?\s*[,:]\s*\d{1,5}", re.I)),
    ("URL or DOI", re.compile(
        r"\bdoi\s*[:.]?\s*10\.\d{3,}|\b10\.\d{4,9}/\S+|https?://|\bwww\.\S+", re.I)),
    ("revision or part number", re.compile(
        r"\b(?:[Rr]ev(?:ision)?\.?\s*(?:\d[\w.]*|[A-Z]\b)|P/N\s*[\w-]+|"
        r"[Pp]art\s+(?:[Nn]o\.?|[Nn]umber)\s*[\w-]+)")),
    ("date stamp", re.compile(
        r"^\s*(?:received|accepted|revised|available online|last modified|printed)\b"
        r".{0,40}\d{4}", re.I)),
)  # fmt: skip
# A footnote starts with its marker set close to the text ("1https://...", "*Equal
# contribution"): it is content, even in the bottom band.
_FOOTNOTE = re.compile(r"^(?:[*\u2020\u2021\u00a7\u00b6]|\d{1,2}(?=[A-Za-z]))\s*\S")
_CHAPTER_HEAD = re.compile(r"^(?:chapter|section|part|appendix)\s+[\dIVXLC]+\b", re.I)
_NUMBERED_HEAD = re.compile(r"^(\d{1,4}\s+\S.{0,110}|.{1,110}\S\s+\d{1,4})$")


@dataclass(frozen=True)
class Furniture:
    line: Line
    reason: str


def running_lines(layouts: list[PageLayout], margin: float = TOP_BAND) -> set[str]:
    """Shapes of lines in the top/bottom margin that repeat on many pages: running heads."""
    if len(layouts) < 3:
        return set()
    seen: Counter[str] = Counter()
    for lay in layouts:
        shapes = set()
        for block in lay.blocks:
            for ln in block.lines:
                if ln.y1 < lay.height * margin or ln.y0 > lay.height * (1 - margin):
                    shapes.add(shape(ln.text))
        seen.update(shapes)
    need = max(3, int(0.4 * len(layouts)))
    return {s for s, n in seen.items() if n >= need and s.strip("# ")}


def pattern_reason(text: str) -> str | None:
    """The furniture pattern a margin line matches, if any."""
    if (_PAGE_OF.match(text) and any(c.isdigit() for c in text)) or is_page_number(text):
        return "page number"
    for reason, pattern in _PATTERNS:
        if pattern.search(text):
            return reason
    return None


def _is_mathy(line: Line) -> bool:
    return line.math_font_share > 0.3 or math_share(line.text) > 0.2


@dataclass(frozen=True)
class _Page:
    """What the line rules need to know about one page."""

    lay: PageLayout
    running: set[str]
    body_x: tuple[float, float]
    body_size: float
    body_font: str | None
    top: float  # the margin bands: above ``top`` and below ``bottom``
    bottom: float
    top_wide: float
    bottom_wide: float
    body_spans: list[tuple[float, float, int]]  # (y0, y1, block id) of lines off the band

    def gap_to_body(self, line: Line, own: Block) -> float:
        """Vertical distance from the line to the nearest text of the body: lines of other
        blocks that are not in the margin band themselves (inf when there is none)."""
        own_id, y0, y1 = id(own), line.y0, line.y1
        best = float("inf")
        for other_y0, other_y1, block_id in self.body_spans:
            if block_id != own_id:
                gap = other_y0 - y1 if other_y0 >= y1 else y0 - other_y1
                best = min(best, gap)
        return max(best, 0.0)


def _gap_below(block: Block, lay: PageLayout) -> float:
    """Distance from the block's bottom to the next text below it (inf when none)."""
    bottom = block.bbox[3]
    gaps = [
        ln.y0 - bottom
        for other in lay.blocks
        if other is not block
        for ln in other.lines
        if ln.y0 >= bottom - 1
    ]
    return max(min(gaps), 0.0) if gaps else float("inf")


def _in_paragraph(line: Line, block: Block, body_x: tuple[float, float], body_size: float) -> bool:
    """The line belongs to body text: a block of two or more lines in the body size with a
    line that spans most of the text width (a paragraph that starts at the top of the page)."""
    if len(block.lines) < 2 or not body_size * 0.92 <= line.size <= body_size * 1.12:
        return False
    width = max(body_x[1] - body_x[0], 1.0)
    return any(ln.x1 - ln.x0 >= 0.6 * width for ln in block.lines)


def classify(
    lay: PageLayout,
    running: set[str],
    body_x: tuple[float, float],
    body_size: float,
    body_font: str | None = None,
) -> list[Furniture]:
    """Remove the furniture lines from ``lay`` (in place) and return them with their reason.

    The bands are measured from the page's edges, or from the edges of its text when that
    sits well inside the page (a scanned book page on a larger sheet)."""
    height = lay.height
    ys = [(ln.y0, ln.y1) for b in lay.blocks for ln in b.lines if len(ln.text) >= 4]
    text_top = min((y0 for y0, _ in ys), default=0.0)
    text_bottom = max((y1 for _, y1 in ys), default=height)
    top = max(height * TOP_BAND, text_top + height * 0.04)
    bottom = min(height * BOTTOM_BAND, text_bottom - height * 0.04)
    top_wide = max(height * TOP_BAND_WIDE, text_top + height * 0.07)
    bottom_wide = min(height * BOTTOM_BAND_WIDE, text_bottom - height * 0.07)
    spans = [
        (ln.y0, ln.y1, id(b))
        for b in lay.blocks
        for ln in b.lines
        if ln.y1 >= top and ln.y0 <= bottom
    ]
    page = _Page(
        lay, running, body_x, body_size, body_font, top, bottom, top_wide, bottom_wide, spans
    )
    first_y = min((b.bbox[1] for b in lay.blocks), default=0.0)
    found: list[Furniture] = []
    kept: list[Block] = []
    for block in lay.blocks:
        _x0, y0, _x1, y1 = block.bbox
        joined = " ".join(ln.text for ln in block.lines)
        topmost = y0 <= first_y + 1 and y1 <= top_wide and block.size <= body_size * 1.1
        if (
            topmost
            and not block.bold
            and len(block.lines) <= 2
            and _NUMBERED_HEAD.match(joined)
            and not any(_is_mathy(ln) for ln in block.lines)
            # "2 Experimental Setup" at the top of a scan is a heading followed by its text;
            # a running head stands apart from the body
            and _gap_below(block, lay) > body_size * (2.0 if joined[:1].isdigit() else 1.2)
        ):
            found.extend(Furniture(ln, "running head with page number") for ln in block.lines)
            continue
        lines = []
        for ln in block.lines:
            reason = _line_reason(ln, block, page)
            if reason is None:
                lines.append(ln)
            else:
                found.append(Furniture(ln, reason))
        if lines:
            block.lines = lines
            kept.append(block)
    lay.blocks = kept
    return found


def _line_reason(ln: Line, block: Block, page: _Page) -> str | None:
    """Why one line is furniture, or None when it is body text."""
    left, right = body_x = page.body_x
    body_size, body_font = page.body_size, page.body_font
    in_margin = ln.y1 < page.top or ln.y0 > page.bottom
    in_wide = ln.y1 < page.top_wide or ln.y0 > page.bottom_wide
    if in_margin and shape(ln.text) in page.running:
        return "repeated on many pages"
    outside_body = ln.x1 < left + 2 or ln.x0 > right - 2
    if outside_body and is_page_number(ln.text):
        return "line number"
    if not in_wide or len(ln.text) > 240:
        return None
    heading_like = ln.bold or ln.size > body_size * 1.12
    if _is_mathy(ln) and not is_page_number(ln.text):
        return None
    if _FOOTNOTE.match(ln.text) and ln.x0 >= left - 2:
        return None
    if _in_paragraph(ln, block, body_x, body_size):
        return None  # e.g. a paragraph's first line at the top of the page
    gap = page.gap_to_body(ln, block)
    isolated = gap > max(ln.size, body_size) * 0.9
    reason = pattern_reason(ln.text)
    if reason is not None and (in_margin or (isolated and not heading_like)):
        return reason
    if heading_like:
        if in_margin and isolated and _CHAPTER_HEAD.match(ln.text) and ln.size <= body_size:
            return "chapter head"
        return None
    smaller = ln.size < body_size * 0.92
    other_face = body_font is not None and ln.font != body_font and not ln.bold
    short = len(ln.text) <= 100
    if short and isolated and (in_margin or gap > body_size * 2) and (smaller or other_face):
        return "small isolated margin line" if smaller else "margin line in another face"
    if short and isolated and in_margin and _CHAPTER_HEAD.match(ln.text):
        return "chapter head"
    return None
