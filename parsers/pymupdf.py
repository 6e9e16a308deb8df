"""The structured CPU parser: PyMuPDF's text dict -> titled, sectioned, cleaned elements.

Layout and reading order come from ``parsers.layout``; this module classifies blocks (title,
headings by size/weight/numbering, captions, lists, equations, footnotes, references), finds
tables on candidate pages only and within a time budget, optionally crops figures to PNG, and
flags pages without a text layer as ``needs_ocr``.

A damaged file (a truncated download with ``%%EOF`` appended, a broken cross-reference table)
is often repaired by MuPDF as it opens, and then parses without an error while whole pages
are gone. Such a parse records ``repaired`` with MuPDF's complaints, and every page that lost
content in the repair (no text left, or content streams that no longer load) is ``failed``
with the reason; ``parsers.quality.assess`` then keeps the document from being ``ok``.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pymupdf

from parsers.base import BBox, Document, Element, Page, ParseError, Provenance, TooManyPagesError
from parsers.envelope import file_envelope_problem
from parsers.furniture import Furniture, classify, running_lines
from parsers.layout import Block, Line, PageLayout, body_x_range, order_blocks, read_page
from parsers.ocr import (
    GARBAGE_WORD_SHARE,
    OcrError,
    OcrOptions,
    layer_is_garbage,
    ocr_page,
    unavailable,
    word_share,
)
from parsers.text import join_lines, math_share, strip_stamp

PARSER_VERSION = "1.1"
# A page with less text than this that is mostly pictures gets the words in its pictures read.
SPARSE_TEXT_CHARS = 100
# A text-less page drawn with this many path segments is text set as outlines (a poster).
OUTLINED_TEXT_PATHS = 300
# find_tables() prints an advert for pymupdf-layout once per process; not for our logs.
if hasattr(pymupdf, "no_recommend_layout"):
    pymupdf.no_recommend_layout()
# MuPDF's complaints about broken files are collected (mupdf_warnings) rather than printed.
pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)
_FATAL_MUPDF = ("limit error", "stack overflow", "out of memory")
# What MuPDF says while reading a page whose content did not survive a repair.
_CONTENT_LOSS = (
    "content stream", "not a stream", "non-page object", "cannot find object", "premature end",
    "unknown keyword", "syntax error", "cannot load object",
)  # fmt: skip
LOST_IN_REPAIR = "lost content when MuPDF repaired the damaged file"

_NUMBERED = re.compile(
    r"^(?P<num>(?:\d{1,2}(?:\.\d{1,2}){0,3}|[IVX]{1,5}|[A-H](?:\.\d{1,2})*))\.?\s+(?P<rest>\S.*)$"
)
_NAMED = re.compile(
    r"^(abstract|introduction|related work|background|conclusions?|discussion|"
    r"acknowledge?ments?|references|bibliography|appendix|appendices|method(s|ology)?|"
    r"experiments?|results|evaluation|limitations|future work)\b[.:]?\s*$",
    re.IGNORECASE,
)
# "Figure 3: ...", "Table 1. ...", "Fig. 2 | ..." -- not "Table 1 reports ..." in running text.
_CAPTION = re.compile(
    r"^(fig\.?|figure|table|tab\.|algorithm|listing)\s*[A-Z]?\d+(\.\d+)?\s*[.:|]", re.IGNORECASE
)
_TABLE_CAPTION = re.compile(r"^(table|tab\.)\s*[A-Z]?\d+", re.IGNORECASE)
_MIN_EDGE = 3.0  # points: find_tables() ignores shorter edges (edge_min_length)
# bullet, white bullet, small square, bullet operator, middle dot, triangle, hyphen bullet
BULLETS = "\u2022\u25e6\u25aa\u2219\u00b7\u2023\u2043"
_BULLET = re.compile(rf"^(?:[{BULLETS}\u2013\-*]|\(?\d{{1,2}}[.)]|\([a-z]\))\s+")
_REF_START = re.compile(r"^\s*(\[\d{1,4}\]|\d{1,3}\.\s)")
_ABSTRACT_INLINE = re.compile(r"^(abstract)\s*[.:\u2014\u2013-]\s*(?=\S)", re.IGNORECASE)


@dataclass(frozen=True)
class PyMuPDFOptions:
    tables: bool = True
    table_budget_s: float = 1.0  # per document, for find_tables()
    table_max_drawings: int = 3000  # pages with more vector drawings are skipped
    figures_dir: Path | None = None  # crop figures to PNG here when set
    figure_dpi: int = 150
    min_chars_text_layer: int = 30
    max_image_mb: int = 512  # an image bigger than this decoded is a decompression bomb
    ocr: OcrOptions = field(default_factory=OcrOptions)


def _heading_level(text: str) -> int | None:
    """1 for "3 Method"/"III. METHOD", 2 for "3.1 ...", ... None when not numbered."""
    m = _NUMBERED.match(text)
    if not m:
        return None
    num = m.group("num")
    if len(m.group("rest")) > 120 or not m.group("rest")[:1].isalpha():
        return None
    return num.count(".") + 1


class PyMuPDFParser:
    """Fast structured parsing with PyMuPDF (``pymupdf<2``). Thread-compatible, not shared."""

    name = "pymupdf"
    version = f"{PARSER_VERSION}+pymupdf{pymupdf.VersionBind}"

    def __init__(self, options: PyMuPDFOptions | None = None) -> None:
        self.options = options or PyMuPDFOptions()

    def parse(self, path: Path, *, max_pages: int | None = None) -> Document:
        start = time.perf_counter()
        doc = open_pdf(path, max_pages=max_pages)
        said = [pymupdf.TOOLS.mupdf_warnings(reset=True)]  # opening (and repairing) the file
        with doc:
            repaired = bool(doc.is_repaired)
            pages = self.parse_pages(doc, range(doc.page_count))
            said.append(pymupdf.TOOLS.mupdf_warnings(reset=True))
            if repaired:
                mark_repair_losses(doc, pages)
        out = Document(
            pages=pages,
            provenance=Provenance(
                parser=self.name,
                parser_version=self.version,
                duration_s=time.perf_counter() - start,
            ),
            metadata={"page_count": len(pages), "repaired": repaired},
        )
        complaints = "\n".join(s for s in said if s)
        fatal = [ln for ln in complaints.splitlines() if any(f in ln for f in _FATAL_MUPDF)]
        if fatal:
            out.status, out.reason = "failed", f"MuPDF hit a limit: {fatal[0]}"[:300]
            for page in pages:
                page.elements = []
        elif pages and all(p.status == "needs_ocr" for p in pages):
            why = {p.reason.partition("; ")[2] for p in pages if p.reason}
            out.status, out.reason = "needs_ocr", "no page has a text layer"
            if why:
                out.reason += f" ({'; '.join(sorted(why))})"
        if complaints:
            out.metadata["mupdf_warnings"] = complaints[:1000]
        return out

    def parse_pages(self, doc: pymupdf.Document, numbers: range | list[int]) -> list[Page]:
        for n in numbers:
            self.check_images(doc, n)
        layouts = [read_page(doc[n]) for n in numbers]
        ocr = self._ocr_pages(doc, layouts)
        body = _body_size(layouts)
        body_font = _body_font(layouts)
        running = running_lines(layouts)
        state = _State(body_size=body, table_budget=self.options.table_budget_s)
        pages: list[Page] = []
        for lay in layouts:
            body_x = body_x_range(lay, body)
            furniture = classify(lay, running, body_x, body, body_font)
            page = Page(number=lay.number, width=lay.width, height=lay.height)
            mode, done = ocr.get(lay.number, (None, None))
            if isinstance(done, dict):
                page.ocr = done
                if done["low_confidence"]:
                    page.reason = done["why"]
            elif mode == "page":
                page.status = "needs_ocr"
                page.reason = f"no text layer (image-only page); {done or 'not OCRed'}"
            tables = self._tables(doc, lay, state) if self.options.tables else []
            # a block inside a table's box is one of its cells, unless it is the caption (a
            # caption and its table framed together in one figure-like box)
            blocks = [
                b
                for b in order_blocks(lay, body_x)
                if not _inside_any(b.bbox, tables) or _CAPTION.match(b.lines[0].text)
            ]
            keyed: list[tuple[float, Element]] = []
            for i, block in enumerate(blocks):
                keyed.extend((i, el) for el in self._block_elements(block, lay, state))
            boxes = [b.bbox for b in blocks]
            extras = [el for _, el in tables] + self._figures(doc, lay, scanned=bool(page.ocr))
            keyed.extend((_slot(el.bbox, boxes) + 0.5, el) for el in extras)
            keyed.extend(_furniture_element(f, lay, len(blocks)) for f in furniture)
            keyed.sort(key=lambda pair: pair[0])
            page.elements = [el for _, el in keyed]
            pages.append(page)
        return pages

    def _ocr_mode(self, doc: pymupdf.Document, lay: PageLayout) -> str | None:
        """``page`` when the page has no usable text layer: (almost) no text over an image, text
        drawn as vector outlines, or a garbage layer; ``images`` when a page of little text
        is mostly pictures (a poster, a slide: the text in the graphics is read and added);
        None when the text layer is the page's text."""
        text = " ".join(ln.text for b in lay.blocks for ln in b.lines)
        if lay.chars < self.options.min_chars_text_layer:
            if lay.image_cover > 0.3:
                return "page"
            paths = sum(len(d["items"]) for d in doc[lay.number].get_cdrawings())
            if paths >= OUTLINED_TEXT_PATHS:
                return "page"
        if layer_is_garbage(text, lay.image_cover):
            return "page"
        if lay.chars < SPARSE_TEXT_CHARS and lay.image_cover > 0.3:
            return "images"
        return None

    def _ocr_pages(
        self, doc: pymupdf.Document, layouts: list[PageLayout]
    ) -> dict[int, tuple[str, dict[str, Any] | str]]:
        """OCR the pages that need it, in place in ``layouts``; per page number, the mode and
        what the OCR gave (a dict for ``Page.ocr``) or why it did not run (a str)."""
        opts = self.options.ocr
        wanted = [(i, m) for i, lay in enumerate(layouts) if (m := self._ocr_mode(doc, lay))]
        if not wanted:
            return {}
        why_not = unavailable(opts)
        if why_not is not None:
            return {layouts[i].number: (mode, why_not) for i, mode in wanted}
        out: dict[int, tuple[str, dict[str, Any] | str]] = {}
        budget = opts.budget_s
        for i, mode in wanted:
            lay = layouts[i]
            if budget <= 0:
                spent = f"the OCR budget of {opts.budget_s:g} s per document is spent"
                out[lay.number] = (mode, spent)
                continue
            start = time.perf_counter()
            try:
                result = ocr_page(doc[lay.number], opts)
            except OcrError as exc:
                out[lay.number] = (mode, f"OCR failed: {exc}")
                continue
            finally:
                budget -= time.perf_counter() - start
            read = _ocr_layout(result.pdf, lay)
            if mode == "images":
                read = _add_unseen(lay, read)
            layouts[i] = read
            text = " ".join(ln.text for b in read.blocks for ln in b.lines)
            share = word_share(text)
            low = result.confidence < opts.min_confidence or share < GARBAGE_WORD_SHARE
            why = (
                f"OCR text is not reliable (mean word confidence {result.confidence:.0f} < "
                f"{opts.min_confidence:g}, or word share {share:.2f} < {GARBAGE_WORD_SHARE})"
            )
            out[lay.number] = (mode, {
                "mode": mode,
                "engine": result.engine,
                "languages": opts.languages,
                "dpi": result.dpi,
                "confidence": round(result.confidence, 1),
                "words": result.words,
                "word_share": round(share, 3),
                "seconds": round(time.perf_counter() - start, 3),
                "low_confidence": low,
                "why": why if low else None,
            })  # fmt: skip
        return out

    def check_images(self, doc: pymupdf.Document, number: int) -> None:
        """Refuse decompression bombs before anything decodes them."""
        for img in doc.get_page_images(number):
            width, height, bpc = img[2], img[3], img[4] or 8
            decoded = width * height * 4 * max(bpc, 8) / 8
            if decoded > self.options.max_image_mb * 1024 * 1024:
                raise ParseError(
                    f"image of {width}x{height} px on page {number + 1} would decode to "
                    f"{decoded / 2**20:,.0f} MB, over the {self.options.max_image_mb} MB limit"
                )

    # -- classification -------------------------------------------------------------------

    def _block_elements(self, block: Block, lay: PageLayout, state: _State) -> list[Element]:
        run_in = _run_in_heading(block)
        if run_in is not None and not state.in_references:
            head, after, level = run_in
            hashes = "#" * min(level + 1, 6)
            el = Element("heading", lay.number, head.bbox, head.text, f"{hashes} {head.text}")
            el.level = level
            return [el, *self._block_elements(after, lay, state)]
        page_no, bbox, body = lay.number, block.bbox, state.body_size
        lines = [strip_stamp(ln.text) for ln in block.lines]
        lines = [ln for ln in lines if ln]
        if not lines:
            return []
        text = join_lines(lines)
        size = block.size
        short = len(text) < 160 and len(block.lines) <= 3
        title = state.title
        if (
            title is not None
            and page_no == 0
            and abs(size - state.title_size) < 0.6
            and 0 <= bbox[1] - title.bbox[3] < size * 1.2
            and len(title.text) + len(text) < 300
        ):  # a title set over two blocks: extend the first
            title.text = f"{title.text} {text}"
            title.markdown = f"# {title.text}"
            title.bbox = _union(title.bbox, bbox)
            return []
        first_big = title is None and page_no == 0 and size >= body * 1.25 and short
        if first_big and bbox[1] < lay.height * 0.5 and len(text) > 3:
            state.title = Element("title", page_no, bbox, text, f"# {text}", level=0)
            state.title_size = size
            return [state.title]
        m = _ABSTRACT_INLINE.match(text)
        if m and not state.in_references:
            rest = text[m.end() :]
            return [
                Element("heading", page_no, bbox, "Abstract", "## Abstract", level=1),
                Element("paragraph", page_no, bbox, rest),
            ]
        heading = self._heading(text, block, body, short)
        if heading is not None:
            level = heading
            state.in_references = bool(
                re.match(r"^(\d+\.?\s*)?(references|bibliography)\b", text, re.I)
            )
            hashes = "#" * min(level + 1, 6)
            return [Element("heading", page_no, bbox, text, f"{hashes} {text}", level=level)]
        if _CAPTION.match(text):
            return [Element("caption", page_no, bbox, text)]
        if state.in_references:
            return [
                Element("reference", page_no, bbox, ref, f"* {ref}")
                for ref in _split_references(block)
            ]
        if size < body * 0.88 and bbox[1] > lay.height * 0.72 and len(text) > 3:
            return [Element("footnote", page_no, bbox, text)]
        if all(_BULLET.match(ln) for ln in lines[:1]) and len(lines) >= 1 and _BULLET.match(text):
            items = _list_items(block)
            if len(items) > 1 or text[:1] in BULLETS:
                md = "\n".join(f"* {_BULLET.sub('', it)}" for it in items)
                return [Element("list", page_no, bbox, "\n".join(items), md)]
        math_font = sum(ln.math_font_share * len(ln.text) for ln in block.lines) / max(
            block.chars, 1
        )
        if (
            len(text) < 300
            and (math_font > 0.3 or math_share(text) > 0.2)
            and block.column in ("full", "left", "right")
        ) and (text[-1:] not in ".?!" or math_share(text) > 0.25):
            return [Element("equation", page_no, bbox, text, f"\\[{text}\\]")]
        return [Element("paragraph", page_no, bbox, text)]

    def _heading(self, text: str, block: Block, body: float, short: bool) -> int | None:
        if not short or len(text) > 120 or text.endswith((",", ";")):
            return None
        bigger = block.size >= body * 1.12
        named = bool(_NAMED.match(text))
        numbered = _heading_level(text)
        styled = bigger or block.bold
        if named and (styled or len(text) < 40):
            return numbered or 1
        if numbered is not None and styled and len(text.split()) <= 14:
            return numbered
        if bigger and block.bold and len(text.split()) <= 12 and not text.endswith("."):
            return 1
        return None

    # -- tables and figures ---------------------------------------------------------------

    def _tables(
        self, doc: pymupdf.Document, lay: PageLayout, state: _State
    ) -> list[tuple[BBox, Element]]:
        """``find_tables()`` only on pages with a table caption, within the document budget."""
        has_caption = any(
            _TABLE_CAPTION.match(" ".join(ln.text for ln in b.lines[:2])) for b in lay.blocks
        )
        if not has_caption or state.table_budget <= 0:
            return []
        page = doc[lay.number]
        drawings = page.get_cdrawings()
        if len(drawings) < 2 or len(drawings) > self.options.table_max_drawings:
            return []  # no rules to find a table by, or too many to afford
        if _vertical_rules(drawings) < 2:
            return []  # the "lines" strategy builds cells from vertical rules (booktabs has none)
        start = time.perf_counter()
        found: list[tuple[BBox, Element]] = []
        try:
            for region in _rule_regions(drawings, lay):
                # clipped: find_tables() reads the characters of its clip only, which is
                # most of its cost on a full page
                for table in page.find_tables(clip=region, strategy="lines").tables:
                    rows, boxes = table.extract(), [row.bbox for row in table.rows]
                    for end in (0, -1):  # a caption framed in as the first or last row
                        cells = [c for c in rows[end] if c] if rows else []
                        if len(rows) > 2 and len(cells) == 1 and _CAPTION.match(cells[0]):
                            del rows[end], boxes[end]
                    if len(rows) < 2 or max((len(r) for r in rows), default=0) < 2:
                        continue
                    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
                    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
                    bbox: BBox = (x0, y0, x1, y1)
                    md = _markdown_table(rows)
                    text = "\n".join(" | ".join(c or "" for c in row) for row in rows)
                    found.append((bbox, Element("table", lay.number, bbox, text, md)))
        finally:
            state.table_budget -= time.perf_counter() - start
        return found

    def _figures(
        self, doc: pymupdf.Document, lay: PageLayout, *, scanned: bool = False
    ) -> list[Element]:
        out: list[Element] = []
        area = lay.width * lay.height
        for i, box in enumerate(lay.image_boxes):
            w, h = box[2] - box[0], box[3] - box[1]
            if w * h < 0.01 * area or lay.image_cover > 0.9:  # icons, or a scanned page
                continue
            if scanned and w * h > 0.3 * area:  # the scan itself
                continue
            md = ""
            if self.options.figures_dir is not None:
                name = f"page{lay.number + 1:03d}-fig{i + 1}.png"
                target = self.options.figures_dir / name
                target.parent.mkdir(parents=True, exist_ok=True)
                doc[lay.number].get_pixmap(
                    clip=pymupdf.Rect(box), dpi=self.options.figure_dpi
                ).save(target)
                md = f"![figure]({name})"
            out.append(Element("figure", lay.number, box, "", md or "<!-- figure -->"))
        return out


def _rule_regions(drawings: list[dict[str, Any]], lay: PageLayout) -> list[pymupdf.Rect]:
    """Where the page's ruled tables can be: clusters of vector drawings (rules and boxes
    that touch or nearly touch) with at least two vertical and two horizontal edges, a little
    enlarged so a table's outer rules and its first and last rows are inside."""
    pad = 4.0
    boxes: list[list[float]] = []
    for drawing in drawings:
        x0, y0, x1, y1 = drawing["rect"]
        if (x1 - x0) > 0.95 * lay.width and (y1 - y0) > 0.95 * lay.height:
            continue  # a page frame or background
        boxes.append([x0 - pad, y0 - pad, x1 + pad, y1 + pad, _vertical_rules([drawing])])
    boxes.sort(key=lambda b: b[1])
    clusters: list[list[float]] = []
    for box in boxes:
        for c in clusters:
            if box[0] <= c[2] and box[2] >= c[0] and box[1] <= c[3] and box[3] >= c[1]:
                c[0], c[1] = min(c[0], box[0]), min(c[1], box[1])
                c[2], c[3] = max(c[2], box[2]), max(c[3], box[3])
                c[4] += box[4]
                break
        else:
            clusters.append(list(box))
    page = pymupdf.Rect(0, 0, lay.width, lay.height)
    out = []
    for x0, y0, x1, y1, verticals in clusters:
        rect = pymupdf.Rect(x0 - pad, y0 - pad, x1 + pad, y1 + pad) & page
        if verticals >= 2 and rect.height > 3 * pad and rect.width > 3 * pad:
            out.append(rect)
    return out


_RUN_IN = re.compile(
    r"^(?:(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+)?(?P<title>[A-Z][^.:]{1,80})[.:]$"
)
_NOT_RUN_IN = re.compile(
    r"^(proof|theorem|lemma|definition|remark|corollary|proposition|example|claim|assumption|"
    r"note|notes|conjecture|fact|observation|step|case|problem|exercise|solution|abstract|"
    r"keywords|key words|index terms)\b",
    re.IGNORECASE,
)


def _run_in_heading(block: Block) -> tuple[Line, Block, int] | None:
    """A bold lead-in that starts a paragraph ("1. Introduction. In the last ...", "World
    Models. Recent work ..."): a section heading set run-in. Returns the heading line, the
    paragraph that follows, and the level (numbered: from the number; not numbered: a
    paragraph heading, level 3). Theorem-like and proof labels, and captions, stay part of
    their paragraph."""
    first = block.lines[0]
    if first.bold_lead and first.text.startswith(first.bold_lead):  # one line, two weights
        rest_text = first.text[len(first.bold_lead) :].strip()
        head = replace(first, text=first.bold_lead, bold=True, bold_lead="")
        rest = [replace(first, text=rest_text, bold=False, bold_lead=""), *block.lines[1:]]
    elif len(block.lines) >= 2 and first.bold and not block.lines[1].bold:
        nxt = block.lines[1]
        if abs(first.y1 - nxt.y1) > 2 or nxt.x0 < first.x1 - 1:
            return None
        head, rest = first, block.lines[1:]
    else:
        return None
    m = _RUN_IN.match(head.text)
    if m is None or len(head.text.split()) > 10 or _CAPTION.match(head.text):
        return None
    if _NOT_RUN_IN.match(m.group("title")) or not rest[0].text:
        return None
    num = m.group("num")
    return head, Block(rest, block.column), (num.count(".") + 1 if num else 3)


def _vertical_rules(drawings: list[dict[str, Any]]) -> int:
    """Vertical edges long enough for ``find_tables(strategy="lines")`` (its minimum is 3 pt):
    vertical line segments, narrow rectangles, and the two sides of boxes and quads."""
    count = 0
    for drawing in drawings:
        for item in drawing["items"]:
            kind = item[0]
            if kind == "l":
                (x0, y0), (x1, y1) = item[1], item[2]
                count += abs(x0 - x1) < 1 and abs(y0 - y1) >= _MIN_EDGE
            elif kind == "re":
                x0, y0, x1, y1 = item[1]
                if abs(y1 - y0) >= _MIN_EDGE:
                    count += 1 if abs(x1 - x0) < _MIN_EDGE else 2
            elif kind == "qu":
                count += 2
    return count


@dataclass
class _State:
    body_size: float
    table_budget: float
    title: Element | None = None
    title_size: float = 0.0
    in_references: bool = False


def open_pdf(path: Path, *, max_pages: int | None = None) -> pymupdf.Document:
    """Open a PDF, with named errors for the ways that fails."""
    try:
        problem = file_envelope_problem(path)
    except OSError as exc:
        raise ParseError(f"cannot read the file: {exc.strerror or exc}") from None
    if problem is not None:
        raise ParseError(problem)
    pymupdf.TOOLS.reset_mupdf_warnings()
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as exc:  # noqa: BLE001 - MuPDF raises several types for a bad file
        raise ParseError(f"not a readable PDF: {exc}"[:300]) from None
    if doc.needs_pass:
        doc.close()
        raise ParseError("encrypted PDF (needs a password)")
    if doc.page_count == 0:
        doc.close()
        raise ParseError("PDF has no pages")
    if max_pages is not None and doc.page_count > max_pages:
        count = doc.page_count
        doc.close()
        raise TooManyPagesError(f"{count} pages, over the limit of {max_pages}")
    return doc


def mark_repair_losses(doc: pymupdf.Document, pages: list[Page]) -> None:
    """In a file MuPDF had to repair, mark ``failed`` (and empty) each page that lost content:
    one with no text left (and no scanned image to OCR), or one whose content MuPDF cannot
    fully load when it reads the page again (its complaints, collected per page, name what is
    missing)."""
    for page in pages:
        pymupdf.TOOLS.reset_mupdf_warnings()
        doc[page.number].get_text("text")
        said = pymupdf.TOOLS.mupdf_warnings(reset=True).splitlines()
        losses = list(dict.fromkeys(ln for ln in said if any(k in ln for k in _CONTENT_LOSS)))
        has_text = any(el.text.strip() for el in page.elements)
        if page.status == "needs_ocr" and not losses:
            continue  # an image-only page: nothing was lost, OCR still applies
        if has_text and not losses:
            continue
        what = "no text left" if not has_text else "part of its content is missing"
        more = f" and {len(losses) - 1} more" if len(losses) > 1 else ""
        detail = f" (MuPDF: {losses[0][:120]}{more})" if losses else ""
        page.status, page.reason = "failed", f"{LOST_IN_REPAIR}: {what}{detail}"
        page.elements = []  # never half a page


def _body_size(layouts: list[PageLayout]) -> float:
    sizes: Counter[float] = Counter()
    for lay in layouts:
        for block in lay.blocks:
            for ln in block.lines:
                sizes[round(ln.size)] += len(ln.text)
    return float(sizes.most_common(1)[0][0]) if sizes else 10.0


def _ocr_layout(pdf: bytes, original: PageLayout) -> PageLayout:
    """The layout of Tesseract's text-only PDF, in the original page's coordinates, with the
    original's image boxes (the scan is still what the page shows).

    Tesseract sets each word in a size of its own height: the pieces of one visual line are
    joined into one line with the median of their sizes, and a line within 15% of the page's
    median size gets exactly that size, so that only clearly bigger or smaller lines (a
    heading, a running head) stand out from the body."""
    with pymupdf.open(stream=pdf, filetype="pdf") as ocr_doc:
        lay = read_page(ocr_doc[0])
    sx = original.width / max(lay.width, 1e-6)
    sy = original.height / max(lay.height, 1e-6)
    sizes = sorted(ln.size * sy for b in lay.blocks for ln in b.lines)
    median = sizes[len(sizes) // 2] if sizes else 10.0
    for block in lay.blocks:
        merged: list[tuple[Line, list[float]]] = []
        for ln in block.lines:
            x0, y0, x1, y1 = ln.bbox
            box = (x0 * sx, y0 * sy, x1 * sx, y1 * sy)
            if merged and abs(merged[-1][0].bbox[3] - box[3]) < median * 0.5:
                prev, piece_sizes = merged[-1]
                px0, py0, px1, py1 = prev.bbox
                prev.text = f"{prev.text} {ln.text}"
                prev.bbox = (min(px0, box[0]), min(py0, box[1]), max(px1, box[2]), max(py1, box[3]))
                piece_sizes.append(ln.size * sy)
                continue
            merged.append(
                (Line(ln.text, box, 0.0, False, ln.math_font_share, "ocr"), [ln.size * sy])
            )
        for line, piece_sizes in merged:
            size = sorted(piece_sizes)[len(piece_sizes) // 2]
            line.size = median if abs(size - median) <= 0.15 * median else round(size, 1)
        block.lines = [line for line, _ in merged]
    lay.blocks = _join_ocr_lines(lay.blocks, median)
    lay.number, lay.width, lay.height = original.number, original.width, original.height
    lay.image_boxes, lay.image_cover = original.image_boxes, original.image_cover
    lay.chars = sum(b.chars for b in lay.blocks)
    return lay


def _add_unseen(original: PageLayout, read: PageLayout) -> PageLayout:
    """The original page with the OCR'd blocks that no text of its layer overlaps (the words
    inside its pictures) added: the text layer stays as it was."""
    boxes = [pymupdf.Rect(ln.bbox) for b in original.blocks for ln in b.lines]
    extra = [
        b for b in read.blocks if not any(pymupdf.Rect(b.bbox).intersects(box) for box in boxes)
    ]
    original.blocks = [*original.blocks, *extra]
    original.chars = sum(b.chars for b in original.blocks)
    return original


def _join_ocr_lines(blocks: list[Block], size: float) -> list[Block]:
    """Tesseract's PDF puts most lines in a block of their own: join a line to the block
    above when it follows at line spacing and overlaps it horizontally."""
    out: list[Block] = []
    for block in sorted(blocks, key=lambda b: b.bbox[1]):
        if out:
            above = out[-1].bbox
            x0, y0, x1, _ = block.bbox
            overlap = min(above[2], x1) - max(above[0], x0)
            if 0 <= y0 - above[3] < size * 0.8 and overlap > 0.5 * min(
                x1 - x0, above[2] - above[0]
            ):
                out[-1].lines.extend(block.lines)
                continue
        out.append(block)
    return out


def _body_font(layouts: list[PageLayout]) -> str | None:
    fonts: Counter[str] = Counter()
    for lay in layouts:
        for block in lay.blocks:
            for ln in block.lines:
                fonts[ln.font] += len(ln.text)
    return fonts.most_common(1)[0][0] if fonts else None


def _furniture_element(item: Furniture, lay: PageLayout, blocks: int) -> tuple[float, Element]:
    """A removed line, kept as a ``furniture`` element (before the body when it sat at the
    top of the page, after it otherwise) with the reason it was removed."""
    line = item.line
    slot = -1.0 if line.y1 < lay.height / 2 else blocks + 1.0
    el = Element("furniture", lay.number, line.bbox, line.text, attrs={"reason": item.reason})
    return slot, el


def _union(a: BBox, b: BBox) -> BBox:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _inside_any(bbox: BBox, tables: list[tuple[BBox, Element]]) -> bool:
    cx, cy = (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2
    return any(t[0] <= cx <= t[2] and t[1] <= cy <= t[3] for t, _ in tables)


def _slot(bbox: BBox, boxes: list[BBox]) -> int:
    """A table or figure goes right after the last block above it on the same side."""
    best = -1
    for i, box in enumerate(boxes):
        if box[3] <= bbox[1] + 1 and (abs(box[0] - bbox[0]) < 40 or box[2] - box[0] > 300):
            best = i
    return best


def _markdown_table(rows: list[list[str | None]]) -> str:
    width = max(len(r) for r in rows)

    def cell(value: str | None) -> str:
        return " ".join((value or "").split()).replace("|", "\\|")

    lines = []
    for i, row in enumerate(rows):
        cells = [cell(v) for v in row] + [""] * (width - len(row))
        lines.append("| " + " | ".join(cells) + " |")
        if i == 0:
            lines.append("|" + "---|" * width)
    return "\n".join(lines)


def _split_references(block: Block) -> list[str]:
    """One block of the reference section -> one string per reference: split at "[n]" or
    "n." markers, else at hanging indents (a reference's first line starts left of the rest)."""
    lines = [ln for ln in block.lines if ln.text.strip()]
    starts = [i for i, ln in enumerate(lines) if _REF_START.match(ln.text)]
    if not starts:
        x_min = min(ln.x0 for ln in lines)
        indented = [ln.x0 > x_min + 3 for ln in lines]
        if any(indented):
            starts = [i for i, ind in enumerate(indented) if not ind]
    if not starts or starts[0] != 0:
        starts = [0, *[s for s in starts if s != 0]]
    refs = []
    for a, b in zip(starts, [*starts[1:], len(lines)], strict=False):
        refs.append(join_lines([ln.text for ln in lines[a:b]]))
    return [r for r in refs if r]


def _list_items(block: Block) -> list[str]:
    items: list[list[str]] = []
    for ln in block.lines:
        if _BULLET.match(ln.text) or not items:
            items.append([ln.text])
        else:
            items[-1].append(ln.text)
    return [join_lines(it) for it in items]
