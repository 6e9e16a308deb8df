"""Downloading paper PDFs (arXiv, OpenReview): polite, atomic, validated, quarantined when bad.

A body is accepted only if it starts with ``%PDF-``, ends with an ``%%EOF`` trailer and
PyMuPDF (in an isolated child process) opens it with at least one page. Anything else — an
HTML captcha page, an empty or truncated body, a 404 — is kept under ``quarantine/`` with its
reason, recorded in ``pdfs`` as ``quarantined``, and retried on a later run after a backoff
that doubles with each attempt.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from core.fs import pid_alive
from core.http import PoliteClient
from parsers.envelope import envelope_problem
from parsers.isolate import IsolatedWorker, IsolationError, Limits, run_isolated
from sources.arxiv_ids import parse_arxiv_id
from sources.errors import InvalidIdError, TransientHTTPError

OPENREVIEW_PREFIX = "openreview:"
_FORUM = re.compile(r"^[A-Za-z0-9_-]{4,32}$")
MAX_CONSECUTIVE_TRANSIENT = 3


class InvalidPdfError(ValueError):
    """The bytes are not a usable PDF; ``str()`` is the reason recorded in quarantine."""


@dataclass(frozen=True)
class PdfTarget:
    paper_id: str  # an arXiv id, or "openreview:<forum id>"
    version: str  # "v2", or "" for whatever the source serves as latest
    url: str

    @property
    def versioned_id(self) -> str:
        return f"{self.paper_id}{self.version}"

    def relative_path(self) -> PurePosixPath:
        """A path-safe place for the file; every part is validated, so nothing escapes.

        ``pdfs/2104/2104.12255/v1.pdf``, ``pdfs/hep-th/9901/9901001/latest.pdf``,
        ``pdfs/openreview/tV/tVNZj27pb3/latest.pdf``.
        """
        name = f"{self.version or 'latest'}.pdf"
        if self.paper_id.startswith(OPENREVIEW_PREFIX):
            forum = self.paper_id[len(OPENREVIEW_PREFIX) :]
            if not _FORUM.match(forum):
                raise InvalidIdError(f"not an OpenReview forum id: {forum!r}")
            return PurePosixPath("pdfs", "openreview", forum[:2], forum, name)
        return PurePosixPath("pdfs", parse_arxiv_id(self.paper_id).relative_dir(), name)


@dataclass
class PdfCounts:
    ok: int = 0
    skipped: int = 0
    quarantined: int = 0


def _count_pages(path: str) -> int:
    import pymupdf

    with pymupdf.open(path, filetype="pdf") as doc:
        if doc.needs_pass:
            raise InvalidPdfError("encrypted (needs a password)")
        return int(doc.page_count)


VALIDATION_LIMITS = Limits(wall_s=30, memory_mb=1024)


def validate_pdf(data: bytes, scratch: Path, *, worker: IsolatedWorker | None = None) -> int:
    """Return the page count, or raise ``InvalidPdfError`` saying what is wrong.

    PyMuPDF opens the bytes in ``worker`` (an isolated child process; a fresh one if None).
    """
    if not data:
        raise InvalidPdfError("empty body (0 bytes)")
    problem = envelope_problem(data[:1024], data[-2048:])
    if problem is not None:
        raise InvalidPdfError(problem)
    scratch.write_bytes(data)
    try:
        if worker is None:
            pages = run_isolated(_count_pages, str(scratch), limits=VALIDATION_LIMITS)
        else:
            pages = worker.call(_count_pages, str(scratch))
    except IsolationError as exc:
        raise InvalidPdfError(f"PyMuPDF cannot open it: {exc.reason}") from None
    finally:
        scratch.unlink(missing_ok=True)
    if pages < 1:
        raise InvalidPdfError("the PDF has no pages")
    return pages


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a ``.part`` file, fsynced, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_stale_parts(root: Path) -> int:
    """Delete ``*.part`` files left by killed downloads (whose process is gone)."""
    removed = 0
    for part in root.rglob(".*.part") if root.exists() else []:
        pid = part.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not pid_alive(int(pid)):
            part.unlink(missing_ok=True)
            removed += 1
    return removed


class PdfSink(Protocol):
    """Where a fetch's outcomes go (``warehouse.pdfs.PdfLedger`` records them in ``pdfs``)."""

    def ok(self, target: PdfTarget, url: str, path: PurePosixPath, data: bytes, pages: int) -> None:
        """A verified PDF, written under the home at ``path``."""

    def quarantined(self, target: PdfTarget, url: str, reason: str, body: bytes) -> None:
        """A bad body (kept at ``quarantine_path(target)`` when not empty) or a failed
        download."""


def fetch_pdfs(
    sink: PdfSink,
    client: PoliteClient,
    home: Path,
    targets: Sequence[PdfTarget],
    *,
    on_done: Callable[[PdfTarget, str], None] | None = None,
) -> PdfCounts:
    """Download and validate each target, handing every outcome to ``sink``; bad bodies are
    kept under ``quarantine/``."""
    with IsolatedWorker(VALIDATION_LIMITS) as worker:
        return _fetch_all(sink, client, home, targets, on_done, worker)


def quarantine_path(target: PdfTarget) -> PurePosixPath:
    """Where a bad body of ``target`` is kept, relative to the home."""
    return PurePosixPath("quarantine", *target.relative_path().with_suffix(".bin").parts)


def _quarantine(
    sink: PdfSink, home: Path, target: PdfTarget, url: str, reason: str, body: bytes
) -> None:
    if body:
        write_atomic(home / quarantine_path(target), body)
    sink.quarantined(target, url, reason, body)


def _fetch_all(
    sink: PdfSink,
    client: PoliteClient,
    home: Path,
    targets: Sequence[PdfTarget],
    on_done: Callable[[PdfTarget, str], None] | None,
    worker: IsolatedWorker,
) -> PdfCounts:
    counts = PdfCounts()
    remove_stale_parts(home / "pdfs")
    consecutive_transient = 0
    scratch_dir = home / "tmp"
    scratch_dir.mkdir(parents=True, exist_ok=True)
    for target in targets:
        rel = target.relative_path()
        dest = home / rel
        url = target.url
        scratch = scratch_dir / f"validate-{os.getpid()}.pdf"
        # A file already on disk (from a run killed before it could record it) is adopted
        # if it validates, instead of downloaded again.
        if dest.is_file():
            try:
                data = dest.read_bytes()
                pages = validate_pdf(data, scratch, worker=worker)
            except InvalidPdfError:
                dest.unlink()
            else:
                sink.ok(target, url, rel, data, pages)
                counts.skipped += 1
                if on_done:
                    on_done(target, "adopted")
                continue
        try:
            resp = client.get(url)
        except TransientHTTPError as exc:
            consecutive_transient += 1
            _quarantine(sink, home, target, url, f"download failed: {exc}", b"")
            counts.quarantined += 1
            if on_done:
                on_done(target, "quarantined")
            if consecutive_transient >= MAX_CONSECUTIVE_TRANSIENT:
                raise
            continue
        consecutive_transient = 0
        if resp.status_code != 200:
            _quarantine(sink, home, target, url, f"HTTP {resp.status_code}", resp.content)
            counts.quarantined += 1
            if on_done:
                on_done(target, "quarantined")
            continue
        try:
            pages = validate_pdf(resp.content, scratch, worker=worker)
        except InvalidPdfError as exc:
            _quarantine(sink, home, target, url, str(exc), resp.content)
            counts.quarantined += 1
            if on_done:
                on_done(target, "quarantined")
            continue
        write_atomic(dest, resp.content)
        sink.ok(target, url, rel, resp.content, pages)
        counts.ok += 1
        if on_done:
            on_done(target, "ok")
    return counts
