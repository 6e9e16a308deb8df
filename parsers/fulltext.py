"""Which parser a saved file needs, and isolated entry points for arXiv's own sources.

``file_kind`` names the source by the file name (a PDF, a saved arXiv HTML page, an e-print).
``parse_saved`` and ``parse_outcome`` are module-level functions for a worker
(``parsers.isolate``), with picklable results. ``parse_outcome`` turns the named page outcomes
into values, because an exception raised in the worker reaches the parent only as the one-line
reason of an ``IsolationError``: "no HTML for this paper", "the e-print is a PDF" and "unsafe
archive" are what a crawler records and never retries, unlike a crash or a timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from parsers.arxiv_html import NoHtmlAvailableError, parse_arxiv_html
from parsers.base import Document, ParseError
from parsers.eprint import ArchiveLimits, EprintIsPdfError, UnsafeArchiveError, parse_eprint

SourceKind = Literal["pdf", "arxiv-html", "arxiv-src"]
Outcome = Literal["document", "no-html", "pdf", "unsafe", "unparseable"]
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


@dataclass(frozen=True)
class FulltextResult:
    """What parsing one arXiv HTML page or e-print gave. ``document`` is set (possibly
    ``failed``, e.g. a LaTeXML fatal error) when ``outcome == "document"``; otherwise
    ``reason`` says why there is none."""

    outcome: Outcome
    document: Document | None = None
    latex: str | None = None  # an e-print's cleaned LaTeX
    main_file: str | None = None  # an e-print's main file
    reason: str | None = None


def parse_outcome(
    data: bytes,
    kind: SourceKind,
    url: str | None = None,
    limits: ArchiveLimits | None = None,
) -> FulltextResult:
    """``parse_arxiv_html`` or ``parse_eprint`` with the named outcomes as values. The
    arguments are positional-friendly: ``IsolatedWorker.call`` passes positional ones only."""
    try:
        if kind == "arxiv-html":
            return FulltextResult("document", parse_arxiv_html(data, url=url))
        if kind == "arxiv-src":
            eprint = parse_eprint(data, limits=limits)
            return FulltextResult(
                "document", eprint.document, latex=eprint.latex, main_file=eprint.main_file
            )
    except NoHtmlAvailableError as exc:
        return FulltextResult("no-html", reason=exc.reason)
    except EprintIsPdfError as exc:
        return FulltextResult("pdf", reason=exc.reason)
    except UnsafeArchiveError as exc:
        return FulltextResult("unsafe", reason=exc.reason)
    except ParseError as exc:
        return FulltextResult("unparseable", reason=exc.reason)
    raise ValueError(f"not an arXiv source kind: {kind!r}")
