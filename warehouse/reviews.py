"""Reading and writing OpenReview replies, and linking OpenReview papers to arXiv."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from core.records import Review, reviews_to_arrow
from warehouse.db import Warehouse, fetch_int
from warehouse.upsert import UpsertResult, upsert_arrow

ASPECTS = ("significance", "reasons_accept", "reasons_reject", "suggestions")
_STRUCTURE_COLUMNS = (*ASPECTS, "structure_method", "prompt_version", "structure_error")


def upsert_reviews(con: duckdb.DuckDBPyConnection, reviews: Sequence[Review]) -> UpsertResult:
    """Insert new replies and update changed ones (content, kind or modification time).

    A reply whose content changed loses its structured aspects, so ``reviews structure``
    fills them again from the new text; unchanged replies keep theirs.
    """
    if not reviews:
        return UpsertResult()
    table = reviews_to_arrow(list(reviews))
    con.register("_reviews_in", table)
    try:
        same = {
            row[0]
            for row in con.execute(
                "SELECT b.review_id FROM _reviews_in b JOIN reviews t USING (review_id) "
                "WHERE t.content = b.content::JSON AND t.kind = b.kind "
                "AND t.modified IS NOT DISTINCT FROM b.modified"
            ).fetchall()
        }
    finally:
        con.unregister("_reviews_in")
    changed = table.filter(pa.array([rid not in same for rid in table["review_id"].to_pylist()]))
    for column in _STRUCTURE_COLUMNS:
        changed = changed.append_column(column, pa.nulls(changed.num_rows, pa.string()))
    result = upsert_arrow(con, "reviews", changed, ["review_id"], change_column=None)
    return UpsertResult(result.inserted, result.updated, len(same))


@dataclass(frozen=True)
class StoredReview:
    review_id: str
    kind: str
    content: dict[str, Any]


def reviews_to_structure(
    wh: Warehouse, *, method: str, prompt_version: str | None, limit: int | None = None
) -> list[StoredReview]:
    """Official reviews not yet structured by this method (and prompt version)."""
    sql = (
        "SELECT review_id, kind, content FROM reviews WHERE kind = 'review' AND "
        "(structure_method IS DISTINCT FROM ? OR prompt_version IS DISTINCT FROM ? "
        " OR structure_error IS NOT NULL) ORDER BY review_id"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with wh.read() as con:
        rows = con.execute(sql, [method, prompt_version]).fetchall()
    return [StoredReview(rid, kind, json.loads(content)) for rid, kind, content in rows]


def save_structure(
    wh: Warehouse,
    review_id: str,
    aspects: dict[str, str | None] | None,
    *,
    method: str,
    prompt_version: str | None,
    error: str | None = None,
) -> None:
    values = [(aspects or {}).get(a) for a in ASPECTS]
    with wh.write() as con:
        con.execute(
            "UPDATE reviews SET significance = ?, reasons_accept = ?, reasons_reject = ?, "
            "suggestions = ?, structure_method = ?, prompt_version = ?, structure_error = ? "
            "WHERE review_id = ?",
            [*values, method, prompt_version, error, review_id],
        ).fetchall()


def link_openreview_to_arxiv(con: duckdb.DuckDBPyConnection) -> int:
    """Set ``arxiv_id`` on OpenReview papers whose normalised title and first author's last
    name match exactly one arXiv paper. Returns how many papers are linked now."""
    con.execute(
        """
        UPDATE papers SET arxiv_id = m.arxiv_paper
        FROM (
            SELECT o.paper_id AS or_paper, any_value(a.paper_id) AS arxiv_paper
            FROM papers o JOIN papers a
              ON regexp_replace(lower(o.title), '[^a-z0-9]', '', 'g')
                 = regexp_replace(lower(a.title), '[^a-z0-9]', '', 'g')
             AND lower(o.authors_parsed[1][1]) = lower(a.authors_parsed[1][1])
            WHERE o.source = 'openreview' AND a.source LIKE 'arxiv%'
            GROUP BY o.paper_id
            HAVING count(DISTINCT a.paper_id) = 1
        ) m
        WHERE papers.paper_id = m.or_paper
          AND papers.arxiv_id IS DISTINCT FROM m.arxiv_paper
        """
    ).fetchall()
    return fetch_int(
        con, "SELECT count(*) FROM papers WHERE source = 'openreview' AND arxiv_id IS NOT NULL"
    )


def structured_review_records(wh: Warehouse) -> list[dict[str, Any]]:
    """Official reviews as ``{"forum", "note", "content"}`` records, in a fixed order, for
    training the review model (it keeps those with separate aspect fields)."""
    with wh.read() as con:
        rows = con.execute(
            "SELECT forum_id, review_id, content FROM reviews WHERE kind = 'review' "
            "ORDER BY forum_id, review_id"
        ).fetchall()
    return [{"forum": f, "note": r, "content": json.loads(c)} for f, r, c in rows]
