"""The types every parser shares (``Document`` -> ``Page`` -> ``Element``) and ``Parser``.

A parser turns one PDF into a ``Document``; nothing else flows between the parsing stages.
Documents are plain dataclasses, so they cross process boundaries (the isolated worker) by
pickling and land in the warehouse as rows (``documents``, ``elements``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from core.errors import ScicurateError

ElementKind = Literal[
    "title",
    "heading",
    "paragraph",
    "list",
    "caption",
    "table",
    "figure",
    "equation",
    "footnote",
    "reference",
    "furniture",
]
ELEMENT_KINDS: tuple[str, ...] = ElementKind.__args__  # type: ignore[attr-defined]

PageStatus = Literal["ok", "needs_ocr", "fallback", "failed", "skipped"]
DocStatus = Literal["ok", "low_quality", "needs_ocr", "failed"]
BBox = tuple[float, float, float, float]


class ParseError(ScicurateError):
    """A PDF could not be parsed (unreadable, encrypted, over a limit). ``reason`` is one line."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class TooManyPagesError(ParseError):
    """The PDF has more pages than the configured page limit."""


@dataclass
class Element:
    """One unit of content in reading order. ``markdown`` is its Nougat-style (.mmd) rendering."""

    kind: ElementKind
    page: int
    bbox: BBox
    text: str
    markdown: str = ""
    level: int | None = None
    is_fallback: bool = False
    # Free-form facts about the element: a furniture line's ``reason``, ``appendix``, an
    # equation's ``number``, ``ocr``. Stored as JSON with the element.
    attrs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.markdown:
            self.markdown = self.text


@dataclass
class Page:
    number: int  # 0-based
    width: float
    height: float
    status: PageStatus = "ok"
    elements: list[Element] = field(default_factory=list)
    is_fallback: bool = False
    reason: str | None = None
    # Set when the page's text came from OCR: engine (with version), dpi, confidence (mean
    # word confidence 0-100), words, seconds, low_confidence.
    ocr: dict[str, Any] | None = None


@dataclass
class Provenance:
    parser: str
    parser_version: str
    model_id: str | None = None
    duration_s: float = 0.0
    router: str | None = None  # why this parser was chosen, when a router chose it
    source: str = "pdf"  # what was parsed: pdf | arxiv-html | arxiv-src
    source_version: str | None = None  # e.g. the LaTeXML version of an arXiv HTML page


@dataclass
class Document:
    pages: list[Page]
    provenance: Provenance
    status: DocStatus = "ok"
    reason: str | None = None
    quality: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def elements(self) -> list[Element]:
        return [el for page in self.pages for el in page.elements]

    @property
    def content(self) -> list[Element]:
        """The elements that are the document's text: everything but page furniture."""
        return [el for el in self.elements if el.kind != "furniture"]

    @property
    def page_status(self) -> list[str]:
        return [page.status for page in self.pages]

    @property
    def fallback_pages(self) -> int:
        return sum(1 for page in self.pages if page.is_fallback)

    @property
    def title(self) -> str | None:
        return next((el.text for el in self.elements if el.kind == "title"), None)

    def text(self) -> str:
        """Plain text in reading order, one element a paragraph."""
        return "\n\n".join(el.text for el in self.content if el.text)

    def to_markdown(self) -> str:
        """Nougat's .mmd conventions: ``#`` headings, ``\\[...\\]`` math, markdown tables."""
        return "\n\n".join(el.markdown for el in self.content if el.markdown.strip()) + "\n"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["page_status"] = self.page_status
        return out

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


class Parser(Protocol):
    """Parses one PDF file. Implementations live one a file next to this one."""

    name: str
    version: str

    def parse(self, path: Path, *, max_pages: int | None = None) -> Document: ...
