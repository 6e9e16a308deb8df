"""arXiv's HTML rendering (made by LaTeXML) -> ``Document``, through BeautifulSoup with lxml.

arXiv has served an HTML version of most new LaTeX submissions since 2023. LaTeXML marks up
everything this parser needs with ``ltx_*`` classes, and every formula carries its LaTeX in
``alttext``, so the result is LaTeX-accurate where a PDF parse is not:

- the title (``h1.ltx_title_document``), authors (``metadata["authors"]``) and the abstract;
- headings with levels from their tag (``h2`` -> 1, ``h3`` -> 2, ``h4`` -> 3 ...), paragraphs,
  lists, theorem and proof titles run into their first paragraph;
- math from ``alttext``: inline ``$...$``, display ``\\[...\\]``; a numbered equation row is an
  ``equation`` element with ``attrs["number"]`` and ``\\tag{n}`` in its Markdown;
- ``ltx_tabular`` tables as Markdown tables (``attrs["shape"]`` is ``[rows, columns]``),
  figure and table captions, footnotes (after the paragraph that cites them) and one
  ``reference`` element per bibliography entry;
- everything inside an appendix carries ``attrs["appendix"] = True``.

Navigation, the table of contents, the footer, "report an issue" widgets, banners, the licence
and watermark boxes are dropped. ``ltx_ERROR`` spans (macros LaTeXML could not expand) are left
out of the text and counted in ``quality["ltx_errors"]``; ``quality["formulas"]`` counts the
formulas rendered. Two page outcomes are not documents: arXiv's "no HTML" page (served with
status 200) raises ``NoHtmlAvailableError``, and a LaTeXML fatal-error page is a ``failed``
document with its reason.

The markup is untrusted: lxml parses it without entity resolution or network access (the HTML
parser never fetches anything), and callers run this in ``parsers.isolate`` like a PDF parse.
All elements sit on one ``Page(number=0)`` with a zero bbox: an HTML page has no geometry.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from bs4 import BeautifulSoup
from bs4.element import Comment, NavigableString, Tag

from parsers.base import Document, Element, ElementKind, Page, ParseError, Provenance
from parsers.quality import QualityThresholds, assess

PARSER_NAME = "arxiv-html"
PARSER_VERSION = "1.0.0"
_BBOX = (0.0, 0.0, 0.0, 0.0)


class NoHtmlAvailableError(ParseError):
    """arXiv's page says there is no HTML for this paper (it arrives as HTTP 200)."""


# Page chrome: arXiv's header, the TOC and navigation, the footer, licence and watermark
# boxes, banners and the "report an issue" buttons its scripts add (saved pages keep them).
_DROP_TAGS = {"nav", "header", "footer", "script", "style", "noscript", "button", "form"}
_DROP_CLASSES = {
    "ltx_page_navbar",
    "ltx_TOC",
    "ltx_page_header",
    "ltx_page_footer",
    "ltx_page_logo",
    "ltx_pagination",
    "ltx_role_license",
    "ltx_dates",
    "package-alerts",
    "html-header-message",
    "html-header-logo",
    "desktop_header",
    "mob_header",
    "hover-rp-button",
    "report-issue",
    "ar5iv-footer",
    "arxiv-watermark",
    "section-report",
    "sr-only",
    "visually-hidden",
}
_DROP_IDS = {"license-tr", "watermark-tr", "header", "footer", "banner", "report-issue"}
_CHROME_TEXT = re.compile(
    r"^\s*(report (an )?issue( for preceding element)?|back to (top|abstract)|"
    r"license:.*|why html\?.*|html conversions sometimes display errors.*)\s*$",
    re.IGNORECASE,
)

_NO_HTML = re.compile(
    r"no html (is )?(available|for)|html is not available|html (version )?(is )?unavailable",
    re.IGNORECASE,
)
_FATAL = re.compile(
    r"conversion to html had a fatal error[^.\n]*|latexml[^.\n]{0,40}fatal error[^.\n]*",
    re.IGNORECASE,
)
_LATEXML_VERSION = re.compile(r"LaTeXML\s*\(version\s*([0-9][\w.\-]*)\)", re.IGNORECASE)
_LATEXML_VERSION_B = re.compile(rb"LaTeXML\s*\(version\s*([0-9][\w.\-]*)\)", re.IGNORECASE)
_WS = re.compile(r"\s+")
_ALNUM = re.compile(r"\w")
_TEX_COMMENT = re.compile(r"(?<!\\)%[^\n]*(\n|$)")

_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "article",
    "figure",
    "figcaption",
    "blockquote",
    "ul",
    "ol",
    "dl",
    "li",
    "dd",
    "dt",
    "table",
    "pre",
} | _HEADING_TAGS
_BLOCK_NAMES = sorted(_BLOCK_TAGS)


def _boxed_text(tag: Tag) -> bool:
    return tag.name in ("p", "table") and any(c in ("ltx_p", "ltx_tabular") for c in _classes(tag))


def _classes(tag: Tag) -> list[str]:
    value = tag.get("class")
    if value is None:
        return []
    return value.split() if isinstance(value, str) else list(value)


def _dropped(tag: Tag) -> bool:
    if tag.name in _DROP_TAGS:
        return True
    if any(c in _DROP_CLASSES for c in _classes(tag)):
        return True
    ident = tag.get("id")
    return isinstance(ident, str) and ident in _DROP_IDS


def _clean_tex(alt: str) -> str:
    """An ``alttext`` on one line: TeX comments out (a joined line would swallow the rest)."""
    return _WS.sub(" ", _TEX_COMMENT.sub(" ", alt)).strip()


def _squash(text: str) -> str:
    return _WS.sub(" ", text).strip()


@dataclass
class _State:
    elements: list[Element] = field(default_factory=list)
    buf: list[str] = field(default_factory=list)
    footnotes: list[tuple[str, str]] = field(default_factory=list)
    appendix: bool = False
    abstract: bool = False
    formulas: int = 0
    equations: int = 0
    tables: int = 0
    abstract_text: list[str] = field(default_factory=list)
    runin: str = ""  # a run-in title waiting for its paragraph


class _Walker:
    """Walks the article in document order, emitting elements; inline text gathers in a buffer
    that each block boundary flushes into a paragraph."""

    def __init__(self, article: Tag) -> None:
        self.s = _State()
        # the tags that hold a block somewhere below (one pass, instead of a search per span)
        self.has_block: set[int] = set()
        for found in article.find_all(_BLOCK_NAMES):
            up = found.parent
            while up is not None and id(up) not in self.has_block:
                self.has_block.add(id(up))
                up = up.parent

    # -- emitting ---------------------------------------------------------------------------

    def emit(
        self,
        kind: ElementKind,
        text: str,
        markdown: str = "",
        level: int | None = None,
        **attrs: Any,
    ) -> None:
        if self.s.runin and kind != "paragraph":  # a run-in title before a non-paragraph
            runin, self.s.runin = self.s.runin, ""
            self.emit("paragraph", runin)
        if self.s.appendix:
            attrs["appendix"] = True
        if self.s.abstract and kind == "paragraph":
            attrs["abstract"] = True
            self.s.abstract_text.append(text)
        self.s.elements.append(Element(kind, 0, _BBOX, text, markdown, level=level, attrs=attrs))

    def flush(self) -> None:
        text = _squash("".join(self.s.buf))
        self.s.buf.clear()
        if text and not _CHROME_TEXT.match(text) and _ALNUM.search(text):
            if self.s.runin:  # "Theorem 2.3." starts the paragraph it titles
                text, self.s.runin = f"{self.s.runin} {text}", ""
            self.emit("paragraph", text)
        self.flush_footnotes()

    def flush_footnotes(self) -> None:
        notes, self.s.footnotes = self.s.footnotes, []
        for mark, body in notes:
            md = f"[^{mark}]: {body}" if mark else body
            self.emit("footnote", f"{mark} {body}".strip(), md, mark=mark)

    # -- inline capture ---------------------------------------------------------------------

    def capture(self, tag: Tag) -> str:
        """The inline rendering of ``tag`` (math as LaTeX, footnotes collected, blocks as
        spaces), without emitting anything but its footnotes later."""
        saved, self.s.buf = self.s.buf, []
        self.inline_children(tag, blocks_as_space=True)
        text = _squash("".join(self.s.buf))
        self.s.buf = saved
        return text

    def inline_children(self, tag: Tag, *, blocks_as_space: bool = False) -> None:
        for child in tag.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                self.s.buf.append(str(child))
            elif isinstance(child, Tag):
                self.inline(child, blocks_as_space=blocks_as_space)

    def inline(self, tag: Tag, *, blocks_as_space: bool = False) -> None:
        if _dropped(tag):
            return
        cls = _classes(tag)
        if tag.name == "math":
            self.s.buf.append(self.math(tag))
            return
        if "ltx_ERROR" in cls:
            return
        if "ltx_note" in cls:
            self.note(tag)
            return
        if tag.name in ("br", "hr"):
            self.s.buf.append(" ")
            return
        if tag.name == "img":
            return
        if blocks_as_space and tag.name in _BLOCK_TAGS:
            self.s.buf.append(" ")
            self.inline_children(tag, blocks_as_space=True)
            self.s.buf.append(" ")
            return
        self.inline_children(tag, blocks_as_space=blocks_as_space)

    def math(self, tag: Tag) -> str:
        alt = tag.get("alttext")
        self.s.formulas += 1
        tex = _clean_tex(alt if isinstance(alt, str) else tag.get_text())
        if tag.get("display") == "block":
            return f" \\[{tex}\\] "
        return f"${tex}$"

    def note(self, tag: Tag) -> None:
        content = tag.find(class_="ltx_note_content") or tag
        mark_tag = content.find(class_="ltx_tag_note") or tag.find(class_="ltx_note_mark")
        mark = _squash(mark_tag.get_text()) if isinstance(mark_tag, Tag) else ""
        for extra in content.find_all(class_=("ltx_note_mark", "ltx_tag_note", "ltx_note_type")):
            extra.extract()
        body = self.capture(content) if isinstance(content, Tag) else ""
        if body:
            self.s.footnotes.append((mark, body))

    # -- blocks -----------------------------------------------------------------------------

    def block_children(self, tag: Tag) -> None:
        for child in tag.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                self.s.buf.append(str(child))
            elif isinstance(child, Tag):
                self.block(child)

    def block(self, tag: Tag) -> None:
        if _dropped(tag):
            return
        cls = _classes(tag)
        name = tag.name
        if name in _HEADING_TAGS and "ltx_title" in cls:
            self.heading(tag, cls)
        elif name == "table" and "ltx_tabular" in cls:
            self.flush()
            self.table(tag)
        elif name == "table" and ("ltx_equation" in cls or "ltx_equationgroup" in cls):
            self.flush()
            self.equations(tag)
        elif name in ("ul", "ol") and "ltx_biblist" in cls:
            self.flush()
            self.bibliography(tag)
        elif name in ("ul", "ol", "dl"):
            self.flush()
            self.list(tag)
        elif name == "figcaption":
            self.flush()
            text = self.capture(tag)
            if text:
                self.emit("caption", text)
            self.flush_footnotes()
        elif name == "figure":
            self.flush()
            self.block_children(tag)
            self.flush()
        elif name == "section" or "ltx_appendix" in cls or "ltx_abstract" in cls:
            self.section(tag, cls)
        elif (name == "svg" or "ltx_picture" in cls) and tag.find(_boxed_text) is None:
            # a drawn picture (TikZ): its labels are no prose; kept as furniture, formulas too.
            # A box of text drawn as SVG (tcolorbox: prompts, examples) is walked as content.
            self.flush()
            text = self.capture(tag)
            if text:
                self.s.elements.append(
                    Element("furniture", 0, _BBOX, text, attrs={"reason": "picture"})
                )
            self.s.footnotes.clear()
        elif "ltx_authors" in cls:
            self.flush()
            for node in tag.find_all("math"):
                node.replace_with(self.math(node))
            self.s.elements.append(_authors_marker(tag))
        elif name in _BLOCK_TAGS or "ltx_para" in cls or "ltx_listing" in cls:
            self.flush()
            self.block_children(tag)
            self.flush()
        elif name == "math" or "ltx_note" in cls or "ltx_ERROR" in cls:
            self.inline(tag)
        elif id(tag) in self.has_block:
            # an inline wrapper (``ltx_inline-block``, ``ltx_transformed_outer``) that holds a
            # table or paragraphs: walk it as blocks so its tables stay tables
            self.block_children(tag)
        else:
            self.inline(tag)

    def section(self, tag: Tag, cls: list[str]) -> None:
        self.flush()
        was_appendix, was_abstract = self.s.appendix, self.s.abstract
        self.s.appendix = was_appendix or "ltx_appendix" in cls
        self.s.abstract = "ltx_abstract" in cls
        self.block_children(tag)
        self.flush()
        self.s.appendix, self.s.abstract = was_appendix, was_abstract

    def heading(self, tag: Tag, cls: list[str]) -> None:
        self.flush()
        assert tag.name is not None
        text = self.capture(tag)
        if not text:
            return
        if "ltx_runin" in cls or (tag.name == "h6" and "ltx_title_abstract" not in cls):
            # theorem, proof and similar run-in titles start their first paragraph
            self.s.runin = f"{self.s.runin} {text}".strip()
            return
        if "ltx_title_document" in cls:
            self.emit("title", text, f"# {text}", level=0)
        elif "ltx_title_abstract" in cls:
            self.emit("heading", text, f"## {text}", level=1)
        else:
            level = max(1, int(tag.name[1]) - 1)
            self.emit("heading", text, f"{'#' * (level + 1)} {text}", level=level)
        self.flush_footnotes()

    def list(self, tag: Tag) -> None:
        ordered = tag.name == "ol"
        items: list[str] = []
        lines: list[str] = []
        for i, li in enumerate(tag.find_all(("li", "dd", "dt"), recursive=False), start=1):
            label_tag = li.find(class_="ltx_tag", recursive=False)
            label = _squash(label_tag.get_text()) if isinstance(label_tag, Tag) else ""
            if isinstance(label_tag, Tag):
                label_tag.extract()
            text = self.capture(li)
            if not text:
                continue
            items.append(f"{label} {text}".strip() if label and ordered else text)
            bullet = f"{i}." if ordered else "-"
            lines.append(f"{bullet} {text}")
        if items:
            self.emit("list", "\n".join(items), "\n".join(lines))
        self.flush_footnotes()

    def bibliography(self, tag: Tag) -> None:
        for li in tag.find_all("li", recursive=False):
            text = self.capture(li)
            if text:
                ident = li.get("id")
                self.emit(
                    "reference", text, f"* {text}", id=ident if isinstance(ident, str) else ""
                )
        self.s.footnotes.clear()

    def equations(self, tag: Tag) -> None:
        rows = [
            tr
            for tr in tag.find_all("tr")
            if "ltx_eqn_row" in _classes(tr) or "ltx_equation" in _classes(tr)
        ]
        if not rows:
            rows = [tag]
        for row in rows:
            number = ""
            parts: list[str] = []
            for cell in row.find_all("td"):
                if "ltx_eqn_eqno" in _classes(cell):
                    number = _squash(cell.get_text()).strip("()")
                    continue
                for node in cell.find_all("math"):
                    if node.find_parent("td") is cell:
                        alt = node.get("alttext")
                        parts.append(_clean_tex(alt if isinstance(alt, str) else node.get_text()))
                        self.s.formulas += 1
            if not parts and row is not tag:
                continue
            tex = " ".join(parts)
            self.s.equations += 1
            attrs: dict[str, Any] = {"number": number} if number else {}
            tag_md = f" \\tag{{{number}}}" if number else ""
            self.emit("equation", tex, f"\\[{tex}{tag_md}\\]", **attrs)

    def table(self, tag: Tag) -> None:
        rows: list[list[str]] = []
        for tr in tag.find_all("tr"):
            if tr.find_parent("table") is not tag:
                continue  # a row of a nested tabular: rendered inside its cell
            row: list[str] = []
            for cell in tr.find_all(("td", "th"), recursive=False):
                text = self.capture(cell).replace("|", "\\|")
                row.append(text)
                span = cell.get("colspan")
                extra = int(span) - 1 if isinstance(span, str) and span.isdigit() else 0
                row.extend([""] * min(extra, 100))
            rows.append(row)
        if not rows:
            return
        ncols = max(len(r) for r in rows)
        if ncols == 0 or not any(cell for r in rows for cell in r):
            return  # a layout tabular around figure panels
        rows = [r + [""] * (ncols - len(r)) for r in rows]
        md = [_md_row(rows[0]), "|" + "---|" * ncols] + [_md_row(r) for r in rows[1:]]
        text = "\n".join("\t".join(r) for r in rows)
        self.s.tables += 1
        self.emit("table", text, "\n".join(md), shape=[len(rows), ncols])
        self.flush_footnotes()


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _authors_marker(tag: Tag) -> Element:
    """Authors go to ``metadata`` (their affiliations and e-mails are no training text); this
    furniture element carries them there and keeps their position."""
    names: list[str] = []
    for person in tag.find_all(class_="ltx_personname"):
        for note in person.find_all(class_=("ltx_note", "ltx_author_notes", "ltx_contact")):
            note.extract()
        for br in person.find_all("br"):
            br.replace_with("\n")
        for sup in person.find_all("sup"):
            sup.extract()
        for piece in re.split(r"[\n,;]|\band\b", person.get_text("\n")):
            name = _squash(piece).strip("*†‡§¶ ")
            if name and "@" not in name and not name.isdigit() and len(name) < 80:
                names.append(name)
    return Element(
        "furniture", 0, _BBOX, "; ".join(names), attrs={"reason": "authors", "authors": names}
    )


def _latexml_version(soup: BeautifulSoup, data: bytes) -> str | None:
    # "<!--Generated on ... by LaTeXML (version 0.8.8) ...-->", read from the bytes
    m_raw = _LATEXML_VERSION_B.search(data)
    if m_raw:
        return m_raw.group(1).decode("ascii")
    gen = soup.find("meta", attrs={"name": "generator"})
    if isinstance(gen, Tag):
        m = _LATEXML_VERSION.search(str(gen.get("content", "")))
        if m:
            return m.group(1)
    logo = soup.find(class_="ltx_page_logo")
    if isinstance(logo, Tag):
        m = _LATEXML_VERSION.search(logo.get_text(" ") + " " + str(logo.get("title", "")))
        if m:
            return m.group(1)
    return None


def parse_arxiv_html(
    data: bytes,
    *,
    url: str | None = None,
    thresholds: QualityThresholds | None = None,
) -> Document:
    """Parse one arXiv HTML page (the bytes as served) into a ``Document``.

    Raises ``NoHtmlAvailableError`` for arXiv's "no HTML" page and ``ParseError`` for a page
    that is not a LaTeXML document; returns a ``failed`` document for a LaTeXML fatal error.
    ``doc.quality`` holds the usual metrics plus ``ltx_errors``, ``formulas``, ``equations``
    and ``tables``.
    """
    start = time.perf_counter()
    soup = BeautifulSoup(data, "lxml")
    version = _latexml_version(soup, data)
    provenance = Provenance(
        parser=PARSER_NAME,
        parser_version=PARSER_VERSION,
        source="arxiv-html",
        source_version=version,
    )
    metadata: dict[str, Any] = {"url": url} if url else {}
    article = soup.find("article", class_="ltx_document") or soup.find(class_="ltx_document")
    # the banner's words, searched in the markup itself (cheaper than a second text pass)
    fatal = _FATAL.search(data.decode("utf-8", "replace"))
    if not isinstance(article, Tag):
        if fatal:
            return _failed(provenance, metadata, start, f"LaTeXML fatal error: {fatal.group(0)}")
        if _NO_HTML.search(soup.get_text(" ")):
            raise NoHtmlAvailableError("arXiv has no HTML for this paper")
        raise ParseError("not an arXiv HTML page: no LaTeXML document in it")
    if fatal:
        return _failed(provenance, metadata, start, f"LaTeXML fatal error: {fatal.group(0)}")

    ltx_errors = len(article.find_all(class_="ltx_ERROR"))
    walker = _Walker(article)
    try:
        walker.block_children(article)
        walker.flush()
    except RecursionError:
        raise ParseError("the page is nested too deeply to walk") from None
    elements = walker.s.elements
    for el in elements:
        if el.kind == "furniture" and el.attrs.get("reason") == "authors":
            metadata.setdefault("authors", []).extend(el.attrs["authors"])
    if walker.s.abstract_text:
        metadata["abstract"] = "\n\n".join(walker.s.abstract_text)
    title = next((el.text for el in elements if el.kind == "title"), None)
    if title is None and isinstance(soup.title, Tag):
        metadata["html_title"] = _squash(soup.title.get_text())
    provenance.duration_s = time.perf_counter() - start
    doc = Document(
        pages=[Page(number=0, width=0, height=0, elements=elements)],
        provenance=provenance,
        metadata=metadata,
    )
    doc = assess(doc, thresholds)
    doc.quality.update(
        ltx_errors=ltx_errors,
        formulas=walker.s.formulas,
        equations=walker.s.equations,
        tables=walker.s.tables,
    )
    return doc


def _failed(
    provenance: Provenance, metadata: dict[str, Any], start: float, reason: str
) -> Document:
    provenance.duration_s = time.perf_counter() - start
    return Document(
        pages=[],
        provenance=provenance,
        status="failed",
        reason=_squash(reason)[:300],
        metadata=metadata,
    )
