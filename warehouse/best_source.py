"""Each paper's best document: LaTeX source or arXiv HTML, then Nougat, then PyMuPDF.

A document's *source key* is its ``documents.source`` for arXiv's own full text
(``arxiv-src``, ``arxiv-html``) and its parser for a PDF parse (``nougat``, ``pymupdf``). The
order is a setting (``fulltext_order``); ``choose_best`` writes the choice per paper into
``best_documents`` (paper, document, source key, the order used, when), which the training-set
builders, ``status`` and the report read.
"""

from __future__ import annotations

from collections.abc import Sequence

from warehouse.db import Warehouse

DEFAULT_ORDER: tuple[str, ...] = ("arxiv-src", "arxiv-html", "nougat", "pymupdf")
USABLE = ("ok", "low_quality")  # a failed or needs-OCR document is never "best"

SOURCE_KEY = "CASE WHEN d.source IN ('arxiv-src', 'arxiv-html') THEN d.source ELSE d.parser END"


def _rank_sql(order: Sequence[str]) -> tuple[str, list[object]]:
    return f"coalesce(list_position(?, {SOURCE_KEY}), 1000)", [list(order)]


def choose_best(
    wh: Warehouse, order: Sequence[str] = DEFAULT_ORDER, paper_ids: Sequence[str] | None = None
) -> int:
    """Record the best usable document of each paper (of ``paper_ids``, or all) under
    ``order``; returns how many papers have one."""
    rank, params = _rank_sql(order)
    scope = ""
    scope_params: list[object] = []
    if paper_ids is not None:
        scope = "AND d.paper_id IN (SELECT unnest(?))"
        scope_params = [list(paper_ids)]
    with wh.write() as con:
        if paper_ids is None:
            con.execute("DELETE FROM best_documents")
        else:
            con.execute(
                "DELETE FROM best_documents WHERE paper_id IN (SELECT unnest(?))",
                [list(paper_ids)],
            )
        con.execute(
            f"""
            INSERT INTO best_documents
            SELECT paper_id, doc_id, source_key, ?, current_timestamp FROM (
                SELECT d.paper_id, d.doc_id, {SOURCE_KEY} AS source_key,
                       row_number() OVER (PARTITION BY d.paper_id
                           ORDER BY {rank}, d.parsed_at DESC, d.doc_id) AS rn
                FROM documents d
                WHERE d.status IN ('ok', 'low_quality') {scope}
            ) WHERE rn = 1
            """,
            [",".join(order), *params, *scope_params],
        )
        (n,) = con.execute("SELECT count(*) FROM best_documents").fetchone() or (0,)
    return int(n)


def better_exists_sql(parser: str, order: Sequence[str]) -> tuple[str, list[object]]:
    """A SQL condition (on ``p.paper_id``) true when the paper already has a usable document
    ranked above what ``parser`` would make."""
    rank, params = _rank_sql(order)
    mine = list(order).index(parser) + 1 if parser in order else 1000
    return (
        f"EXISTS (SELECT 1 FROM documents d WHERE d.paper_id = p.paper_id "
        f"AND d.status IN ('ok', 'low_quality') AND {rank} < ?)",
        [*params, mine],
    )


def coverage(wh: Warehouse) -> list[tuple[str, int, int]]:
    """``(source key, papers with a usable document from it, papers for which it is best)``."""
    with wh.read() as con:
        rows = con.execute(
            f"""
            WITH have AS (
                SELECT {SOURCE_KEY} AS source_key, count(DISTINCT d.paper_id) AS papers
                FROM documents d WHERE d.status IN ('ok', 'low_quality') GROUP BY 1),
            best AS (SELECT source_key, count(*) AS papers FROM best_documents GROUP BY 1)
            SELECT h.source_key, h.papers, coalesce(b.papers, 0)
            FROM have h LEFT JOIN best b USING (source_key) ORDER BY h.papers DESC, 1
            """
        ).fetchall()
    return [(str(k), int(h), int(b)) for k, h, b in rows]


def best_ok_documents_sql(columns: str) -> str:
    """A query of ``columns`` (of ``documents d``) giving each paper's best document with
    status ok and Markdown: the one ``best_documents`` records, else the best-ranked under
    the default order, newest first."""
    order = ", ".join(f"'{s}'" for s in DEFAULT_ORDER)
    return f"""
        SELECT {columns} FROM documents d
        WHERE d.status = 'ok' AND d.markdown IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY d.paper_id ORDER BY
            (d.doc_id IN (SELECT doc_id FROM best_documents)) DESC,
            coalesce(list_position([{order}], {SOURCE_KEY}), 1000), d.parsed_at DESC) = 1
    """
