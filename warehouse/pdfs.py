"""The ``pdfs`` table: which PDFs are due, and the record of each fetch.

This is the one place the retry rule lives: a PDF is due when it has no verified file yet, or
when its quarantine backoff (doubling from an hour up to a week) has passed. The crawlers in
``sources.pdfs`` fetch; ``PdfLedger`` records what they fetched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath

import pyarrow as pa

from sources.pdfs import PdfTarget, quarantine_path
from warehouse.db import Warehouse

BACKOFF_FIRST = timedelta(hours=1)
BACKOFF_MAX = timedelta(days=7)


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


def openreview_due_targets(
    wh: Warehouse, web_url: str, forum_ids: Sequence[str]
) -> list[PdfTarget]:
    """OpenReview-hosted PDFs of these papers that are missing or due for a retry."""
    if not forum_ids:
        return []
    with wh.read() as con:
        rows = con.execute(
            "SELECT paper_id, pdf_url FROM papers WHERE source = 'openreview' "
            "AND forum_id IN (SELECT unnest(?)) AND starts_with(pdf_url, ?) ORDER BY paper_id",
            [list(forum_ids), web_url.rstrip("/") + "/"],
        ).fetchall()
    return only_due(wh, [PdfTarget(pid, "", url) for pid, url in rows])


class PdfLedger:
    """``sources.pdfs.PdfSink`` over the catalog: each outcome is one short transaction."""

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh

    def ok(self, target: PdfTarget, url: str, path: PurePosixPath, data: bytes, pages: int) -> None:
        self._record(
            target,
            url,
            path=str(path),
            sha256=hashlib.sha256(data).hexdigest(),
            bytes=len(data),
            pages=pages,
            status="ok",
            reason=None,
            next_attempt_at=None,
            fetched_at=datetime.now(UTC).replace(tzinfo=None),
            attempts=self._attempts(target) + 1,
        )

    def quarantined(self, target: PdfTarget, url: str, reason: str, body: bytes) -> None:
        attempts = self._attempts(target) + 1
        delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (attempts - 1))
        now = datetime.now(UTC).replace(tzinfo=None)
        kept = str(quarantine_path(target)) if body else None
        self._record(
            target,
            url,
            path=kept,
            sha256=hashlib.sha256(body).hexdigest() if body else None,
            bytes=len(body),
            pages=None,
            status="quarantined",
            reason=reason,
            attempts=attempts,
            next_attempt_at=now + delay,
            fetched_at=now,
        )

    def _record(self, target: PdfTarget, url: str, **fields: object) -> None:
        cols = ["paper_id", "version", "url", *fields]
        values = [target.paper_id, target.version, url, *fields.values()]
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in cols[2:])
        quoted = ", ".join(f'"{c}"' for c in cols)
        with self.wh.write() as con:
            con.execute(
                f"INSERT INTO pdfs ({quoted}) VALUES ({', '.join('?' * len(cols))}) "
                f'ON CONFLICT (paper_id, "version") DO UPDATE SET {updates}',
                values,
            ).fetchall()

    def _attempts(self, target: PdfTarget) -> int:
        with self.wh.read() as con:
            rows = con.execute(
                'SELECT attempts FROM pdfs WHERE paper_id = ? AND "version" = ?',
                [target.paper_id, target.version],
            ).fetchall()
        return int(rows[0][0]) if rows else 0
