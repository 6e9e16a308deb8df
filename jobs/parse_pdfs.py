"""Job ``parse-pdfs``: parse verified PDFs not yet parsed by the current parser version.

Each PDF is parsed in an isolated child process (time, memory and page limits); several
children run at once, one per worker thread, and the parent alone writes to the warehouse, one
document (row + elements) per transaction. A crash, a timeout or a hostile file is stored as a
failed document with its reason, and the run goes on. A rerun parses nothing twice.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parsers.base import Document
from parsers.isolate import IsolatedWorker
from parsers.run import ParseSpec, failed_document, parse_isolated, parser_version
from warehouse.db import Warehouse
from warehouse.documents import PendingPdf, pending_pdfs, store_document
from warehouse.pdf_store import PdfStoreError, materialise

Progress = Callable[[int, int], object]  # (done, total)


@dataclass
class ParseCounts:
    parser: str = ""
    parser_version: str = ""
    documents: int = 0
    ok: int = 0
    low_quality: int = 0
    needs_ocr: int = 0
    failed: int = 0
    pages: int = 0
    fallback_pages: int = 0
    seconds: float = 0.0
    failures: Counter[str] = field(default_factory=Counter)
    quality: Counter[str] = field(default_factory=Counter)  # chars/page buckets

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    def add(self, doc: Document) -> None:
        self.documents += 1
        setattr(self, doc.status, getattr(self, doc.status) + 1)
        self.pages += len(doc.pages)
        self.fallback_pages += doc.fallback_pages
        if doc.status == "failed":
            self.failures[_reason_kind(doc.reason or "unknown")] += 1
        if "chars_per_page" in doc.quality:
            self.quality[_bucket(float(doc.quality["chars_per_page"]))] += 1

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParseCounts:
        plain = {k: v for k, v in data.items() if k not in ("pages_per_s", "failures", "quality")}
        return cls(
            **plain,
            failures=Counter(data.get("failures") or {}),
            quality=Counter(data.get("quality") or {}),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "parser": self.parser,
            "parser_version": self.parser_version,
            "documents": self.documents,
            "ok": self.ok,
            "low_quality": self.low_quality,
            "needs_ocr": self.needs_ocr,
            "failed": self.failed,
            "pages": self.pages,
            "fallback_pages": self.fallback_pages,
            "seconds": round(self.seconds, 2),
            "pages_per_s": round(self.pages_per_s, 1),
            "failures": dict(self.failures),
            "quality": dict(sorted(self.quality.items())),
        }


def _reason_kind(reason: str) -> str:
    """Group failure reasons ("timed out after 120s", "encrypted PDF ...") for the artifact."""
    return reason.split(":")[0].split("(")[0].strip()[:60] or "unknown"


def _bucket(chars_per_page: float) -> str:
    for edge in (100, 500, 1000, 2000, 4000):
        if chars_per_page < edge:
            return f"<{edge} chars/page"
    return ">=4000 chars/page"


def store_result(
    wh: Warehouse,
    target: PendingPdf,
    doc: Document,
    spec: ParseSpec,
    version: str,
    run_id: str | None,
    counts: ParseCounts,
) -> None:
    """Store one parse (its own transaction) and count it."""
    store_document(
        wh,
        paper_id=target.paper_id,
        pdf_sha256=target.sha256,
        doc=doc,
        parser=spec.parser,
        parser_version=version,
        run_id=run_id,
    )
    counts.add(doc)


def default_workers(spec: ParseSpec) -> int:
    if spec.parser == "nougat":
        return 1  # one GPU process; more would fight over the device's memory
    return max(1, (os.cpu_count() or 1))


def parse_pdfs(
    wh: Warehouse,
    home: Path,
    spec: ParseSpec,
    *,
    limit: int | None = None,
    paper_ids: list[str] | None = None,
    workers: int | None = None,
    run_id: str | None = None,
    progress: Progress | None = None,
    storage_options: dict[str, Any] | None = None,
) -> ParseCounts:
    """Parse every pending PDF (or ``limit`` of them, or those of ``paper_ids``). A PDF
    missing from local disk but mirrored to object storage is fetched first."""
    version = parser_version(spec)
    counts = ParseCounts(parser=spec.parser, parser_version=version)
    todo = pending_pdfs(
        wh, home, parser=spec.parser, parser_version=version, limit=limit, paper_ids=paper_ids
    )
    if not todo:
        return counts
    n_workers = max(1, min(workers or default_workers(spec), len(todo)))
    local = threading.local()
    opened: list[IsolatedWorker] = []
    lock = threading.Lock()

    def job(target: PendingPdf) -> tuple[PendingPdf, Document]:
        try:
            materialise(target.path, target.store_uri, target.sha256, storage_options or {})
        except PdfStoreError as exc:
            return target, failed_document(spec, str(exc))
        worker = getattr(local, "worker", None)
        if worker is None:
            worker = local.worker = IsolatedWorker(spec.limits())
            with lock:
                opened.append(worker)
        return target, parse_isolated(target.path, spec, worker)

    start = time.perf_counter()
    try:
        with ThreadPoolExecutor(n_workers, thread_name_prefix="parse") as pool:
            futures = [pool.submit(job, t) for t in todo]
            for done, future in enumerate(as_completed(futures), 1):
                target, doc = future.result()
                store_result(wh, target, doc, spec, version, run_id, counts)
                if progress is not None:
                    progress(done, len(todo))
    finally:
        for worker in opened:
            worker.close(kill=True)
        counts.seconds = time.perf_counter() - start
    return counts
