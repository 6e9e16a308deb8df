"""Which parser a saved file needs, and one isolated entry point for arXiv's own sources.

``file_kind`` names the source by the file name (a PDF, a saved arXiv HTML page, an e-print);
``parse_saved`` is the module-level function a worker runs (``parsers.isolate``) for the two
arXiv sources, returning picklable results: the ``Document`` and, for an e-print, its cleaned
LaTeX.
"""

from __future__ import annotations

from typing import Literal

from parsers.arxiv_html import parse_arxiv_html
from parsers.base import Document
from parsers.eprint import ArchiveLimits, parse_eprint

SourceKind = Literal["pdf", "arxiv-html", "arxiv-src"]
_EPRINT_SUFFIXES = (".tar.gz", ".tgz", ".gz", ".tar")


def file_kind(name: str) -> SourceKind:
    lower = name.lower()
    if lower.endswith((".html", ".htm", ".xhtml")):
        return "arxiv-html"
    if lower.endswith(_EPRINT_SUFFIXES):
        return "arxiv-src"
    return "pdf"


def parse_saved(
    data: bytes,
    kind: SourceKind,
    limits: ArchiveLimits | None = None,
) -> tuple[Document, str | None]:
    """(document, cleaned LaTeX or None) for an arXiv HTML page or e-print body."""
    if kind == "arxiv-html":
        return parse_arxiv_html(data), None
    if kind == "arxiv-src":
        eprint = parse_eprint(data, limits=limits)
        return eprint.document, eprint.latex
    raise ValueError(f"not an arXiv source kind: {kind!r}")
