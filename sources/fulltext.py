"""Downloading arXiv's own full text: the LaTeXML HTML page and the LaTeX e-print.

Both are fetched politely through the arXiv client (same pacing, one connection, the global
``arxiv`` limit), written atomically and checksummed like PDFs; a bad body is kept under
``quarantine/`` and retried after a backoff. A 200 page saying that no HTML is available is
its own outcome (``absent``): never a document, and retried only after a long wait. An
e-print whose body is a PDF (a PDF-only submission) is handed over as the paper's PDF.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol

from core.http import PoliteClient
from sources.arxiv_ids import parse_arxiv_id
from sources.errors import TransientHTTPError
from sources.pdfs import MAX_CONSECUTIVE_TRANSIENT, remove_stale_parts, write_atomic

FulltextKind = Literal["html", "src"]
_SUFFIX = {"html": ".html", "src": ".gz"}
# arXiv's wording on a paper without an HTML rendering (a 200, never a 404).
_NO_HTML = re.compile(
    rb"(HTML\s+(?:is\s+)?not\s+available|No\s+HTML\s+(?:is\s+)?(?:available|for)|"
    rb"HTML\s+(?:version\s+)?(?:is\s+)?unavailable)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FulltextTarget:
    paper_id: str  # an arXiv id without version
    version: str  # "v2", or "" for the latest (or an unversioned bulk source)
    kind: FulltextKind
    url: str

    @property
    def versioned_id(self) -> str:
        return f"{self.paper_id}{self.version}"

    def relative_path(self) -> PurePosixPath:
        """``html/2104/2104.12255/v1.html``, ``eprints/hep-th/9901/9901001/latest.gz``."""
        top = "html" if self.kind == "html" else "eprints"
        name = f"{self.version or 'latest'}{_SUFFIX[self.kind]}"
        return PurePosixPath(top, parse_arxiv_id(self.paper_id).relative_dir(), name)

    def quarantine_path(self) -> PurePosixPath:
        return PurePosixPath("quarantine", *self.relative_path().with_suffix(".bin").parts)


def is_no_html_page(data: bytes) -> bool:
    """True for arXiv's short 200 page saying there is no HTML for this paper: a small page
    with that wording and no LaTeXML document in it."""
    return len(data) < 200_000 and b"ltx_document" not in data and bool(_NO_HTML.search(data))


def body_problem(kind: FulltextKind, data: bytes) -> str | None:
    """Why ``data`` is not a usable body of ``kind`` (None when it is)."""
    if not data:
        return "empty body (0 bytes)"
    if kind == "html":
        head = data[:4096].lstrip().lower()
        if not (head.startswith(b"<!doctype html") or head.startswith(b"<html")):
            return "not an HTML page"
        return None  # the parser tells a LaTeXML page from a fatal-error page
    if data[:2] == b"\x1f\x8b":
        return None
    if data[:5] == b"%PDF-":
        return None  # a PDF-only submission: the caller stores it as the PDF
    if data[:300].lstrip()[:1] in (b"<",) and b"html" in data[:300].lower():
        return "an HTML page, not an e-print (an error or captcha page)"
    return "not a gzip e-print"


class FulltextSink(Protocol):
    """Where a fetch's outcomes go (``warehouse.fulltext.FulltextLedger``)."""

    def ok(self, target: FulltextTarget, url: str, path: PurePosixPath, data: bytes) -> None:
        """A verified body, written under the home at ``path``."""

    def absent(self, target: FulltextTarget, url: str, reason: str) -> None:
        """arXiv has nothing of this kind for the paper (no HTML)."""

    def quarantined(self, target: FulltextTarget, url: str, reason: str, body: bytes) -> None:
        """A bad body (kept at ``target.quarantine_path()``) or a failed download."""

    def eprint_pdf(self, target: FulltextTarget, url: str, data: bytes) -> None:
        """The e-print is a PDF: the paper's PDF, not a source."""


@dataclass
class FulltextCounts:
    ok: int = 0
    skipped: int = 0
    absent: int = 0
    quarantined: int = 0
    pdf: int = 0


def fetch_fulltext(
    sink: FulltextSink,
    client: PoliteClient,
    home: Path,
    targets: Sequence[FulltextTarget],
    *,
    on_done: Callable[[FulltextTarget, str], None] | None = None,
) -> FulltextCounts:
    """Download each target through ``client`` and hand every outcome to ``sink``."""
    counts = FulltextCounts()
    for top in ("html", "eprints"):
        remove_stale_parts(home / top)
    consecutive_transient = 0
    for target in targets:
        outcome = "ok"
        rel = target.relative_path()
        dest = home / rel
        if dest.is_file() and body_problem(target.kind, dest.read_bytes()) is None:
            sink.ok(target, target.url, rel, dest.read_bytes())  # adopted from a killed run
            counts.skipped += 1
            if on_done:
                on_done(target, "adopted")
            continue
        try:
            resp = client.get(target.url)
        except TransientHTTPError as exc:
            consecutive_transient += 1
            sink.quarantined(target, target.url, f"download failed: {exc}", b"")
            counts.quarantined += 1
            if on_done:
                on_done(target, "quarantined")
            if consecutive_transient >= MAX_CONSECUTIVE_TRANSIENT:
                raise
            continue
        consecutive_transient = 0
        data = resp.content
        problem = f"HTTP {resp.status_code}" if resp.status_code != 200 else None
        if problem is None and target.kind == "html" and is_no_html_page(data):
            sink.absent(target, target.url, "arXiv has no HTML for this paper")
            counts.absent += 1
            outcome = "no HTML"
        elif problem is None and target.kind == "src" and data[:5] == b"%PDF-":
            sink.eprint_pdf(target, target.url, data)
            counts.pdf += 1
            outcome = "a PDF (stored as the paper's PDF)"
        elif (problem := problem or body_problem(target.kind, data)) is not None:
            if data:
                write_atomic(home / target.quarantine_path(), data)
            sink.quarantined(target, target.url, problem, data)
            counts.quarantined += 1
            outcome = "quarantined"
        else:
            write_atomic(dest, data)
            sink.ok(target, target.url, rel, data)
            counts.ok += 1
        if on_done:
            on_done(target, outcome)
    return counts
