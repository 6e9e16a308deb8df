"""Job ``parse-pdfs``: parse verified PDFs not yet parsed by the current parser version.

Composed once: the CLI, the flow and the Dask scale-out all call ``parse_pdfs``.

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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from jobs.lineage import recorded_run
from jobs.steps import InlineSteps, Steps
from parsers.base import Document
from parsers.isolate import IsolatedWorker
from parsers.run import ParseSpec, failed_document, parse_isolated, parser_version
from warehouse.best_source import DEFAULT_ORDER, choose_best
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
    ocr_pages: int = 0
    furniture_lines: int = 0  # running heads, page numbers, stamps kept apart from the text
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
        self.ocr_pages += sum(1 for page in doc.pages if page.ocr)
        self.furniture_lines += sum(1 for el in doc.elements if el.kind == "furniture")
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
            "ocr_pages": self.ocr_pages,
            "furniture_lines": self.furniture_lines,
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


def parse_one(
    target: PendingPdf,
    spec: ParseSpec,
    storage_options: dict[str, Any] | None = None,
    worker: IsolatedWorker | None = None,
) -> Document:
    """Parse one pending PDF in an isolated child (``worker``'s, or one of its own), fetching
    it from object storage first when this machine lacks the file. Runs wherever a step runs:
    a thread here, or a task on a Dask worker."""
    try:
        materialise(target.path, target.store_uri, target.sha256, storage_options or {})
    except PdfStoreError as exc:
        return failed_document(spec, str(exc))
    if worker is not None:
        return parse_isolated(target.path, spec, worker)
    with IsolatedWorker(spec.limits()) as own:
        doc = parse_isolated(target.path, spec, own)
    doc.metadata["executor"] = _where()
    return doc


def _where() -> str:
    """Where a step ran: a Dask worker's address, or "local"."""
    try:
        from distributed import get_worker

        return f"dask:{get_worker().address}"
    except (ImportError, ValueError):
        return "local"


def parse_pdfs(
    wh: Warehouse,
    home: Path,
    spec: ParseSpec,
    *,
    limit: int | None = None,
    paper_ids: list[str] | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    storage_options: dict[str, Any] | None = None,
    fan_out: bool = False,
    order: Sequence[str] = DEFAULT_ORDER,
    all_sources: bool = False,
    steps: Steps | None = None,
) -> ParseCounts:
    """The job, recorded in ``runs``: parse every pending PDF (or ``limit`` of them, or those
    of ``paper_ids``). A PDF missing from local disk but mirrored to object storage is fetched
    first. PDFs are parsed by ``workers`` threads here, each driving an isolated child, or,
    with ``fan_out``, as one step each through ``steps.map`` (tasks on the flow's Dask
    cluster); either way this process alone writes, one document per transaction.

    Papers that already have a better document (under ``order``: LaTeX source or arXiv HTML
    before Nougat before PyMuPDF) are skipped unless ``all_sources``; each parsed paper's best
    document is chosen again afterwards."""
    steps = steps or InlineSteps()
    params = {
        "parser": spec.parser, "limit": limit, "paper_ids": paper_ids, "workers": workers,
        "executor": "steps" if fan_out else "local",
    }  # fmt: skip
    with recorded_run(wh, "parse-pdfs", params) as run:
        counts = _parse_pending(
            wh, home, spec, limit, paper_ids, workers, progress, storage_options or {},
            fan_out, steps, run.run_id, None if all_sources else list(order),
        )  # fmt: skip
        run.update({k: v for k, v in counts.as_dict().items() if type(v) is int})
    steps.publish("parse-pdfs", markdown=summary_markdown(counts), table=summary_rows(counts))
    steps.log(
        f"parsed {counts.documents} documents ({counts.pages} pages, "
        f"{counts.pages_per_s:.1f} pages/s): {counts.ok} ok, {counts.failed} failed"
    )
    return counts


def _parse_pending(
    wh: Warehouse,
    home: Path,
    spec: ParseSpec,
    limit: int | None,
    paper_ids: list[str] | None,
    workers: int | None,
    progress: Progress | None,
    storage_options: dict[str, Any],
    fan_out: bool,
    steps: Steps,
    run_id: str,
    order: list[str] | None,
) -> ParseCounts:
    version = parser_version(spec)
    counts = ParseCounts(parser=spec.parser, parser_version=version)
    # "auto" may route a PDF to Nougat, so it skips what beats Nougat.
    mine = "nougat" if spec.parser == "auto" else spec.parser
    todo = pending_pdfs(
        wh, home, parser=spec.parser, parser_version=version, limit=limit, paper_ids=paper_ids,
        better_than=(mine, order) if order is not None else None,
    )  # fmt: skip
    if not todo:
        return counts
    start = time.perf_counter()
    if fan_out:
        results = steps.map(
            "parse-pdf", partial(parse_one, spec=spec, storage_options=storage_options), todo
        )
    else:
        results = _on_threads(todo, spec, storage_options, workers)
    try:
        for done, (i, doc) in enumerate(results, 1):
            store_result(wh, todo[i], doc, spec, version, run_id, counts)
            if progress is not None:
                progress(done, len(todo))
    finally:
        counts.seconds = time.perf_counter() - start
        choose_best(wh, order or DEFAULT_ORDER, sorted({t.paper_id for t in todo}))
    return counts


def _on_threads(
    todo: list[PendingPdf],
    spec: ParseSpec,
    storage_options: dict[str, Any],
    workers: int | None,
) -> Iterator[tuple[int, Document]]:
    """Parse on a pool of threads, each reusing one isolated child; yields as each is done."""
    n_workers = max(1, min(workers or default_workers(spec), len(todo)))
    local = threading.local()
    opened: list[IsolatedWorker] = []
    lock = threading.Lock()

    def one(i: int) -> tuple[int, Document]:
        worker = getattr(local, "worker", None)
        if worker is None:
            worker = local.worker = IsolatedWorker(spec.limits())
            with lock:
                opened.append(worker)
        return i, parse_one(todo[i], spec, storage_options, worker)

    try:
        with ThreadPoolExecutor(n_workers, thread_name_prefix="parse") as pool:
            futures = [pool.submit(one, i) for i in range(len(todo))]
            for future in as_completed(futures):
                yield future.result()
    finally:
        for worker in opened:
            worker.close(kill=True)


def summary_rows(counts: ParseCounts) -> list[dict[str, Any]]:
    rows = [
        {"what": key, "value": value}
        for key, value in counts.as_dict().items()
        if not isinstance(value, dict)
    ]
    rows += [{"what": f"failed: {k}", "value": v} for k, v in counts.failures.items()]
    rows += [{"what": f"quality {k}", "value": v} for k, v in sorted(counts.quality.items())]
    return rows


def summary_markdown(counts: ParseCounts) -> str:
    lines = [
        "# parse-pdfs",
        "",
        f"{counts.documents} documents, {counts.pages} pages in {counts.seconds:.1f} s "
        f"({counts.pages_per_s:.1f} pages/s) with `{counts.parser}` {counts.parser_version}.",
        "",
        f"- ok {counts.ok}, low quality {counts.low_quality}, needs OCR {counts.needs_ocr}, "
        f"failed {counts.failed}; {counts.fallback_pages} pages fell back to PyMuPDF",
        f"- {counts.ocr_pages} pages read by OCR; {counts.furniture_lines} furniture lines "
        "(running heads, page numbers, stamps) kept apart from the text",
    ]
    if counts.quality:
        lines.append(
            "- quality: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.quality.items()))
        )
    if counts.failures:
        lines += ["", "## Failures by reason", ""]
        lines += [f"- {reason}: {n}" for reason, n in counts.failures.most_common()]
        lines += [
            "",
            'Next steps: `scicurate warehouse sql "SELECT paper_id, reason FROM documents '
            "WHERE status = 'failed'\"` lists them; a timeout or memory limit can be raised with "
            "`SCICURATE_PARSE_TIMEOUT_S` / `SCICURATE_PARSE_MEMORY_MB`, and documents needing "
            "OCR go to `--parser nougat` on a GPU machine.",
        ]
    return "\n".join(lines)
