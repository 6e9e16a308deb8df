"""The full-text step of ``crawl-arxiv``: arXiv HTML pages and e-prints, fetched and parsed.

Both kinds go through one polite client (the arXiv pacing, one connection, the global
``arxiv`` limit), so an HTML page and an e-print never run faster than arXiv asks. Fetched
files are parsed in an isolated worker and stored as documents (``source`` arxiv-html or
arxiv-src; ``pdf_sha256`` is the parsed file's sha256); the named outcomes are recorded, not
retried every run: "no HTML for this paper" marks the paper (never an empty document), an
e-print that is a PDF becomes the paper's PDF, an unsafe or unparseable file is rejected with
its reason. Then each paper's best document is chosen again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.http import PoliteClient, Politeness
from parsers.fulltext import FulltextResult, parse_outcome
from parsers.isolate import IsolatedWorker, IsolationError, Limits
from sources.fulltext import FulltextCounts, FulltextKind, FulltextTarget, fetch_fulltext
from sources.pdfs import (
    VALIDATION_LIMITS,
    InvalidPdfError,
    PdfTarget,
    validate_pdf,
    write_atomic,
)
from warehouse.best_source import DEFAULT_ORDER, choose_best
from warehouse.db import Warehouse
from warehouse.documents import store_document
from warehouse.fulltext import FulltextLedger, due_fulltext
from warehouse.pdfs import PdfLedger

log = logging.getLogger(__name__)
Echo = Callable[[str], object]
FULLTEXT_KINDS = ("html", "src", "pdf")
PARSE_LIMITS = Limits(wall_s=120, memory_mb=2048)


def parse_fulltext_option(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """``"html,src"`` -> ("html", "src"); refuses unknown kinds."""
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else list(value)
    kinds = tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))
    unknown = [k for k in kinds if k not in FULLTEXT_KINDS]
    if unknown or not kinds:
        from sources.errors import InvalidParameterError

        raise InvalidParameterError(
            f"--fulltext takes html, src and pdf, comma-separated; got {value!r}"
        )
    return kinds


@dataclass
class FulltextStepCounts:
    html_ok: int = 0
    html_absent: int = 0
    src_ok: int = 0
    fulltext_quarantined: int = 0
    fulltext_documents: int = 0
    fulltext_rejected: int = 0
    eprint_pdfs: int = 0


def fulltext_step(
    wh: Warehouse,
    home: Path,
    urls: dict[str, str],
    politeness: Politeness,
    kinds: Sequence[str],
    paper_ids: list[str] | None,
    *,
    pinned: dict[str, str] | None = None,
    order: Sequence[str] = DEFAULT_ORDER,
    echo: Echo = log.info,
) -> FulltextStepCounts:
    """Fetch the due HTML pages / e-prints of ``paper_ids`` on one client, parse what was
    stored, and choose each paper's best document again. ``urls`` maps html/src to a base."""
    counts = FulltextStepCounts()
    ledger = FulltextLedger(wh)
    wanted: list[FulltextKind] = [k for k in ("html", "src") if k in kinds]
    targets: list[FulltextTarget] = []
    for kind in wanted:
        targets += due_fulltext(wh, kind, paper_ids, base_url=urls[kind], pinned=pinned)
    echo(f"fetching {len(targets)} full-text file(s) ({', '.join(wanted)})")
    with PoliteClient(politeness) as http:
        fetched: FulltextCounts = fetch_fulltext(
            ledger, http, home, targets,
            on_done=lambda t, status: _discard(echo(f"{t.kind} {t.versioned_id}: {status}")),
        )  # fmt: skip
    counts.fulltext_quarantined = fetched.quarantined
    counts.html_absent = fetched.absent
    with IsolatedWorker(VALIDATION_LIMITS) as worker:
        for target, url, data in ledger.pdf_bodies:
            counts.eprint_pdfs += _store_pdf(wh, home, worker, target, url, data)
    ledger.pdf_bodies.clear()
    _parse_pending(wh, home, ledger, paper_ids, counts, echo)
    with wh.read() as con:
        for kind, n in con.execute(
            "SELECT kind, count(*) FROM fulltext_files WHERE status = 'ok' "
            + ("AND paper_id IN (SELECT unnest(?)) " if paper_ids is not None else "")
            + "GROUP BY kind",
            [paper_ids] if paper_ids is not None else [],
        ).fetchall():
            if kind == "html":
                counts.html_ok = int(n)
            else:
                counts.src_ok = int(n)
    choose_best(wh, order, paper_ids)
    return counts


def _store_pdf(
    wh: Warehouse, home: Path, worker: IsolatedWorker, target: FulltextTarget, url: str,
    data: bytes,
) -> int:  # fmt: skip
    pdf = PdfTarget(target.paper_id, target.version, url)
    scratch = home / "tmp" / f"validate-eprint-{os.getpid()}.pdf"
    scratch.parent.mkdir(parents=True, exist_ok=True)
    try:
        pages = validate_pdf(data, scratch, worker=worker)
    except InvalidPdfError as exc:
        PdfLedger(wh).quarantined(pdf, url, f"e-print PDF: {exc}", data)
        return 0
    write_atomic(home / pdf.relative_path(), data)
    PdfLedger(wh).ok(pdf, url, pdf.relative_path(), data, pages)
    return 1


def _parse_pending(
    wh: Warehouse,
    home: Path,
    ledger: FulltextLedger,
    paper_ids: list[str] | None,
    counts: FulltextStepCounts,
    echo: Echo,
) -> None:
    """Parse stored HTML pages and e-prints that have no document from this file yet."""
    scope = "AND f.paper_id IN (SELECT unnest(?))" if paper_ids is not None else ""
    with wh.read() as con:
        rows = con.execute(
            f"""SELECT f.paper_id, f."version", f.kind, f.url, f.path, f.sha256
                FROM fulltext_files f WHERE f.status = 'ok' {scope}
                AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.pdf_sha256 = f.sha256
                                AND d.source = 'arxiv-' || f.kind)
                ORDER BY f.paper_id, f.kind""",
            [paper_ids] if paper_ids is not None else [],
        ).fetchall()
    if not rows:
        return
    with IsolatedWorker(PARSE_LIMITS) as worker:
        for paper_id, version, kind, url, path, sha in rows:
            target = FulltextTarget(paper_id, version, kind, url)
            data = (home / path).read_bytes()
            source = "arxiv-html" if kind == "html" else "arxiv-src"
            try:
                result: FulltextResult = worker.call(parse_outcome, data, source, url)
            except IsolationError as exc:
                ledger.rejected(target, url, f"parser failed: {exc.reason}")
                counts.fulltext_rejected += 1
                echo(f"{kind} {target.versioned_id}: parser failed ({exc.reason})")
                continue
            if result.outcome == "document" and result.document is not None:
                doc = result.document
                store_document(
                    wh, paper_id=paper_id, pdf_sha256=sha, doc=doc,
                    parser=doc.provenance.parser, parser_version=doc.provenance.parser_version,
                )  # fmt: skip
                counts.fulltext_documents += 1
                echo(f"{kind} {target.versioned_id}: document ({doc.status})")
            elif result.outcome == "no-html":
                ledger.absent(target, url, result.reason or "arXiv has no HTML for this paper")
                counts.html_absent += 1
            elif result.outcome == "pdf":
                ledger.eprint_pdf(target, url, data)
                with IsolatedWorker(VALIDATION_LIMITS) as pdf_worker:
                    counts.eprint_pdfs += _store_pdf(wh, home, pdf_worker, target, url, data)
                ledger.pdf_bodies.clear()
            else:
                ledger.rejected(target, url, f"{result.outcome}: {result.reason}")
                counts.fulltext_rejected += 1
                echo(f"{kind} {target.versioned_id}: {result.outcome} ({result.reason})")


def _discard(_: object) -> None:
    """Adapts an ``echo`` that returns something to a callback that returns nothing."""
