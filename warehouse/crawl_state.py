"""Crawl watermarks and cursors (``crawl_state``), and harvested pages stored with them.

A harvested page's papers, its rejects and the cursor for the next page go into one
transaction, so a crawl killed anywhere resumes exactly after the last stored page.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from core.records import Paper
from warehouse.db import Warehouse
from warehouse.papers import store_papers
from warehouse.upsert import UpsertResult


def get_state(wh: Warehouse, source: str, scope: str) -> tuple[str | None, str | None]:
    """``(watermark, cursor)`` of a source's scope, or ``(None, None)`` if never crawled."""
    with wh.read() as con:
        rows = con.execute(
            "SELECT watermark, cursor FROM crawl_state WHERE source = ? AND scope = ?",
            [source, scope],
        ).fetchall()
    return (rows[0][0], rows[0][1]) if rows else (None, None)


def set_state(
    con: duckdb.DuckDBPyConnection,
    source: str,
    scope: str,
    *,
    watermark: str | None,
    cursor: str | None,
) -> None:
    con.execute(
        "INSERT INTO crawl_state (source, scope, watermark, cursor, updated_at) "
        "VALUES (?, ?, ?, ?, now()) ON CONFLICT (source, scope) DO UPDATE SET "
        "watermark = excluded.watermark, cursor = excluded.cursor, updated_at = now()",
        [source, scope, watermark, cursor],
    ).fetchall()


def store_harvested(
    con: duckdb.DuckDBPyConnection,
    source: str,
    papers: Sequence[Paper],
    rejected: Sequence[tuple[str, str]],
    *,
    input_name: str,
) -> UpsertResult:
    """Upsert a page's papers and record its rejects (``(identifier, reason)``) in ``rejects``,
    in the caller's transaction."""
    result = store_papers(con, list(papers))
    for identifier, reason in rejected:
        con.execute(
            "INSERT INTO rejects (source, input, line_no, reason, raw) VALUES (?, ?, 0, ?, ?) "
            "ON CONFLICT (source, input, line_no) DO UPDATE SET reason = excluded.reason",
            [source, f"{input_name}#{identifier}", reason, identifier],
        ).fetchall()
    return result
