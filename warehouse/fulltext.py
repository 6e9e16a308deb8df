"""The ``fulltext_files`` table (arXiv HTML pages and e-prints) and ``bulk_tars``.

The retry rule mirrors ``warehouse.pdfs``: a file is due when it has no row yet, or when its
backoff has passed: doubling from an hour up to a week after a quarantine, 30 days after arXiv
said it has no HTML (a page may be rendered later, but not by tomorrow).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath

import pyarrow as pa

from sources.fulltext import FulltextKind, FulltextTarget
from sources.pdfs import PdfTarget
from warehouse.db import Warehouse
from warehouse.pdfs import BACKOFF_FIRST, BACKOFF_MAX, PdfLedger

ABSENT_RETRY = timedelta(days=30)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def only_due_fulltext(wh: Warehouse, targets: Sequence[FulltextTarget]) -> list[FulltextTarget]:
    """The targets with no stored file of their kind, or whose backoff has passed."""
    if not targets:
        return []
    candidates = pa.table(
        {
            "i": list(range(len(targets))),
            "paper_id": [t.paper_id for t in targets],
            "version": [t.version for t in targets],
            "kind": [t.kind for t in targets],
        }
    )
    with wh.read() as con:
        con.register("_ft_candidates", candidates)
        try:
            rows = con.execute(
                """
                SELECT c.i FROM _ft_candidates c
                WHERE NOT EXISTS (
                    SELECT 1 FROM fulltext_files f
                    WHERE f.paper_id = c.paper_id AND f.kind = c.kind
                      AND (f.status = 'ok' OR (f."version" = c."version"
                           AND coalesce(f.next_attempt_at, now()) > now())))
                ORDER BY c.i
                """
            ).fetchall()
        finally:
            con.unregister("_ft_candidates")
    return [targets[i] for (i,) in rows]


def due_fulltext(
    wh: Warehouse,
    kind: FulltextKind,
    paper_ids: Sequence[str] | None,
    *,
    base_url: str,
    pinned: dict[str, str] | None = None,
) -> list[FulltextTarget]:
    """arXiv papers lacking a file of ``kind`` whose next attempt is due, at their latest
    version (or the version ``pinned`` names for a paper)."""
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
    base = base_url.rstrip("/") + "/"
    pins = pinned or {}
    targets = []
    for pid, latest in rows:
        version = pins.get(pid, latest)
        targets.append(FulltextTarget(pid, version, kind, f"{base}{pid}{version}"))
    return only_due_fulltext(wh, targets)


class FulltextLedger:
    """``sources.fulltext.FulltextSink`` over the catalog; a PDF e-print goes to ``pdfs``."""

    def __init__(self, wh: Warehouse, pdf_ledger: PdfLedger | None = None) -> None:
        self.wh = wh
        self.pdfs = pdf_ledger or PdfLedger(wh)
        self.pdf_bodies: list[tuple[FulltextTarget, str, bytes]] = []

    def ok(self, target: FulltextTarget, url: str, path: PurePosixPath, data: bytes) -> None:
        self._record(
            target, url, path=str(path), sha256=hashlib.sha256(data).hexdigest(),
            bytes=len(data), status="ok", reason=None, next_attempt_at=None,
            fetched_at=_now(), attempts=self._attempts(target) + 1,
        )  # fmt: skip

    def absent(self, target: FulltextTarget, url: str, reason: str) -> None:
        now = _now()
        self._record(
            target, url, path=None, sha256=None, bytes=0, status="absent", reason=reason,
            next_attempt_at=now + ABSENT_RETRY, fetched_at=now,
            attempts=self._attempts(target) + 1,
        )  # fmt: skip

    def quarantined(self, target: FulltextTarget, url: str, reason: str, body: bytes) -> None:
        attempts = self._attempts(target) + 1
        now = _now()
        self._record(
            target, url, path=str(target.quarantine_path()) if body else None,
            sha256=hashlib.sha256(body).hexdigest() if body else None, bytes=len(body),
            status="quarantined", reason=reason, attempts=attempts,
            next_attempt_at=now + min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (attempts - 1)),
            fetched_at=now,
        )  # fmt: skip

    def rejected(self, target: FulltextTarget, url: str, reason: str) -> None:
        """A stored file that cannot be parsed (unsafe, unparseable, crashed the parser):
        kept with its reason, fetched again only after ``ABSENT_RETRY``."""
        now = _now()
        with self.wh.write() as con:
            con.execute(
                "UPDATE fulltext_files SET status = 'rejected', reason = ?, next_attempt_at = ? "
                'WHERE paper_id = ? AND "version" = ? AND kind = ?',
                [reason, now + ABSENT_RETRY, target.paper_id, target.version, target.kind],
            )

    def eprint_pdf(self, target: FulltextTarget, url: str, data: bytes) -> None:
        """Kept for the caller to validate and store as a PDF (``store_eprint_pdfs``); the
        source row says so, so the e-print is not asked for again."""
        self.pdf_bodies.append((target, url, data))
        now = _now()
        self._record(
            target, url, path=None, sha256=hashlib.sha256(data).hexdigest(), bytes=len(data),
            status="absent", reason="the e-print is a PDF (a PDF-only submission)",
            next_attempt_at=None, fetched_at=now, attempts=self._attempts(target) + 1,
        )  # fmt: skip

    def _record(self, target: FulltextTarget, url: str, **fields: object) -> None:
        cols = ["paper_id", "version", "kind", "url", *fields]
        values = [target.paper_id, target.version, target.kind, url, *fields.values()]
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in cols[3:])
        quoted = ", ".join(f'"{c}"' for c in cols)
        with self.wh.write() as con:
            con.execute(
                f"INSERT INTO fulltext_files ({quoted}) VALUES ({', '.join('?' * len(cols))}) "
                f'ON CONFLICT (paper_id, "version", kind) DO UPDATE SET {updates}',
                values,
            ).fetchall()

    def _attempts(self, target: FulltextTarget) -> int:
        with self.wh.read() as con:
            rows = con.execute(
                'SELECT attempts FROM fulltext_files WHERE paper_id = ? AND "version" = ? '
                "AND kind = ?",
                [target.paper_id, target.version, target.kind],
            ).fetchall()
        return int(rows[0][0]) if rows else 0


def pdf_target_of(target: FulltextTarget) -> PdfTarget:
    return PdfTarget(target.paper_id, target.version, target.url)


# ---- the bulk import's catalog side -------------------------------------------------------


def wanted_for_bulk(
    wh: Warehouse,
    kind: str,
    *,
    categories: Sequence[str] = (),
    ids: Sequence[str] = (),
    from_date: str | None = None,
    until: str | None = None,
) -> list[tuple[str, datetime]]:
    """``(paper_id, first_seen)`` of arXiv papers in the catalog (filtered by categories,
    ids and submission dates) that have no stored file of ``kind`` (``pdf`` or ``src``)."""
    where = ["p.source LIKE 'arxiv%'", "p.paper_id NOT LIKE 'openreview:%'"]
    params: list[object] = []
    if categories:
        where.append(
            "(list_has_any(p.categories, ?) OR list_has_any("
            "list_transform(p.categories, lambda c: split_part(c, '.', 1)), ?))"
        )
        params += [list(categories), list(categories)]
    if ids:
        where.append("p.paper_id IN (SELECT unnest(?))")
        params.append(list(ids))
    date = "coalesce(p.versions[1].created, p.published)"
    if from_date:
        where.append(f"{date} >= CAST(? AS TIMESTAMP)")
        params.append(from_date)
    if until:
        where.append(f"{date} < CAST(? AS TIMESTAMP) + INTERVAL 1 DAY")
        params.append(until)
    if kind == "pdf":
        have = "SELECT 1 FROM pdfs f WHERE f.paper_id = p.paper_id AND f.status = 'ok'"
    else:
        have = (
            "SELECT 1 FROM fulltext_files f WHERE f.paper_id = p.paper_id AND f.kind = 'src' "
            "AND f.status IN ('ok', 'absent')"
        )
    with wh.read() as con:
        rows = con.execute(
            f"SELECT p.paper_id, p.first_seen FROM papers p WHERE {' AND '.join(where)} "
            f"AND NOT EXISTS ({have}) ORDER BY p.paper_id",
            params,
        ).fetchall()
    return [(str(pid), seen) for pid, seen in rows]


def completed_tars(wh: Warehouse, kind: str) -> dict[str, tuple[str, datetime]]:
    """``filename -> (md5, completed_at)`` of the bulk tars already imported."""
    with wh.read() as con:
        rows = con.execute(
            "SELECT filename, md5, completed_at FROM bulk_tars WHERE kind = ?", [kind]
        ).fetchall()
    return {name: (md5, at) for name, md5, at in rows}


def record_tar(
    wh: Warehouse, kind: str, filename: str, md5: str, size: int, wanted: int, stored: int
) -> None:
    """The completion record of one tar: a rerun skips it."""
    with wh.write() as con:
        con.execute(
            "INSERT INTO bulk_tars VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, filename) "
            "DO UPDATE SET md5 = excluded.md5, size = excluded.size, wanted = excluded.wanted, "
            "stored = excluded.stored, completed_at = excluded.completed_at",
            [kind, filename, md5, size, wanted, stored, _now()],
        ).fetchall()
