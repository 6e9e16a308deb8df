"""Downloading paper PDFs (arXiv, OpenReview): polite, atomic, validated, quarantined when bad.

A body is accepted only if it starts with ``%PDF-``, ends with an ``%%EOF`` trailer and
PyMuPDF (in an isolated child process) opens it with at least one page. Anything else — an
HTML captcha page, an empty or truncated body, a 404 — is kept under ``quarantine/`` with its
reason, recorded in ``pdfs`` as ``quarantined``, and retried on a later run after a backoff
that doubles with each attempt.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

import pyarrow as pa

from core.http import PoliteClient
from parsers.envelope import envelope_problem
from parsers.isolate import IsolatedWorker, IsolationError, Limits, run_isolated
from sources.arxiv_ids import parse_arxiv_id
from sources.errors import InvalidIdError, TransientHTTPError
from warehouse.datasets.files import pid_alive
from warehouse.db import Warehouse

OPENREVIEW_PREFIX = "openreview:"
_FORUM = re.compile(r"^[A-Za-z0-9_-]{4,32}$")
BACKOFF_FIRST = timedelta(hours=1)
BACKOFF_MAX = timedelta(days=7)
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


def _write_atomic(path: Path, data: bytes) -> None:
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


def only_due(wh: Warehouse, targets: Sequence[PdfTarget]) -> list[PdfTarget]:
    """The targets with no verified PDF yet, or whose quarantine backoff has passed.

    This is the one place the retry rule lives; every crawler filters its candidates here.
    """
    if not targets:
        return []
    candidates = pa.table(
        {
            "i": list(range(len(targets))),
            "paper_id": [t.paper_id for t in targets],
            "version": [t.version for t in targets],
        }
    )
    with wh.read() as con:
        con.register("_pdf_candidates", candidates)
        try:
            rows = con.execute(
                """
                SELECT c.i FROM _pdf_candidates c
                LEFT JOIN pdfs f ON f.paper_id = c.paper_id AND f."version" = c."version"
                WHERE f.paper_id IS NULL
                   OR (f.status = 'quarantined' AND coalesce(f.next_attempt_at, now()) <= now())
                ORDER BY c.i
                """
            ).fetchall()
        finally:
            con.unregister("_pdf_candidates")
    return [targets[i] for (i,) in rows]


def due_targets(
    wh: Warehouse,
    paper_ids: Sequence[str] | None = None,
    *,
    arxiv_pdf_url: str,
    limit: int | None = None,
) -> list[PdfTarget]:
    """arXiv papers with no verified PDF whose next attempt is due, latest version first."""
    params: list[object] = []
    where = ["source LIKE 'arxiv%'"]
    if paper_ids is not None:
        if not paper_ids:
            return []
        where.append("paper_id IN (SELECT unnest(?))")
        params.append(list(paper_ids))
    with wh.read() as con:
        rows = con.execute(
            f"""SELECT paper_id, coalesce(versions[-1]."version", '') FROM papers
                WHERE {" AND ".join(where)} ORDER BY paper_id""",
            params,
        ).fetchall()
    base = arxiv_pdf_url.rstrip("/") + "/"
    due = only_due(wh, [PdfTarget(pid, version, f"{base}{pid}{version}") for pid, version in rows])
    return due if limit is None else due[:limit]


def _record(wh: Warehouse, target: PdfTarget, url: str, **fields: object) -> None:
    cols = ["paper_id", "version", "url", *fields]
    values = [target.paper_id, target.version, url, *fields.values()]
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in cols[2:])
    quoted = ", ".join(f'"{c}"' for c in cols)
    with wh.write() as con:
        con.execute(
            f"INSERT INTO pdfs ({quoted}) VALUES ({', '.join('?' * len(cols))}) "
            f'ON CONFLICT (paper_id, "version") DO UPDATE SET {updates}',
            values,
        ).fetchall()


def _attempts(wh: Warehouse, target: PdfTarget) -> int:
    with wh.read() as con:
        rows = con.execute(
            'SELECT attempts FROM pdfs WHERE paper_id = ? AND "version" = ?',
            [target.paper_id, target.version],
        ).fetchall()
    return int(rows[0][0]) if rows else 0


def fetch_pdfs(
    wh: Warehouse,
    client: PoliteClient,
    home: Path,
    targets: Sequence[PdfTarget],
    *,
    on_done: Callable[[PdfTarget, str], None] | None = None,
) -> PdfCounts:
    """Download, validate and record each target; bad bodies go to quarantine."""
    with IsolatedWorker(VALIDATION_LIMITS) as worker:
        return _fetch_all(wh, client, home, targets, on_done, worker)


def _fetch_all(
    wh: Warehouse,
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
                _record_ok(wh, target, url, rel, data, pages)
                counts.skipped += 1
                if on_done:
                    on_done(target, "adopted")
                continue
        try:
            resp = client.get(url)
        except TransientHTTPError as exc:
            consecutive_transient += 1
            _quarantine(wh, home, target, url, f"download failed: {exc}", b"")
            counts.quarantined += 1
            if on_done:
                on_done(target, "quarantined")
            if consecutive_transient >= MAX_CONSECUTIVE_TRANSIENT:
                raise
            continue
        consecutive_transient = 0
        if resp.status_code != 200:
            _quarantine(wh, home, target, url, f"HTTP {resp.status_code}", resp.content)
            counts.quarantined += 1
            if on_done:
                on_done(target, "quarantined")
            continue
        try:
            pages = validate_pdf(resp.content, scratch, worker=worker)
        except InvalidPdfError as exc:
            _quarantine(wh, home, target, url, str(exc), resp.content)
            counts.quarantined += 1
            if on_done:
                on_done(target, "quarantined")
            continue
        _write_atomic(dest, resp.content)
        _record_ok(wh, target, url, rel, resp.content, pages)
        counts.ok += 1
        if on_done:
            on_done(target, "ok")
    return counts


def _record_ok(
    wh: Warehouse, target: PdfTarget, url: str, rel: PurePosixPath, data: bytes, pages: int
) -> None:
    _record(
        wh,
        target,
        url,
        path=str(rel),
        sha256=hashlib.sha256(data).hexdigest(),
        bytes=len(data),
        pages=pages,
        status="ok",
        reason=None,
        next_attempt_at=None,
        fetched_at=datetime.now(UTC).replace(tzinfo=None),
        attempts=_attempts(wh, target) + 1,
    )


def _quarantine(
    wh: Warehouse, home: Path, target: PdfTarget, url: str, reason: str, body: bytes
) -> None:
    attempts = _attempts(wh, target) + 1
    delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (attempts - 1))
    now = datetime.now(UTC).replace(tzinfo=None)
    kept = home / "quarantine" / target.relative_path().with_suffix(".bin")
    if body:
        _write_atomic(kept, body)
    _record(
        wh,
        target,
        url,
        path=str(kept.relative_to(home)) if body else None,
        sha256=hashlib.sha256(body).hexdigest() if body else None,
        bytes=len(body),
        pages=None,
        status="quarantined",
        reason=reason,
        attempts=attempts,
        next_attempt_at=now + delay,
        fetched_at=now,
    )
