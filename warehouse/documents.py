"""Parsed documents: which PDFs still need parsing, and storing a parse (document + elements).

A document row is keyed by (PDF sha256, parser, parser version): re-parsing the same bytes
with the same parser version replaces the row and its elements in one transaction, and a
version bump makes every PDF pending again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from parsers.base import Document
from warehouse.db import Warehouse

ELEMENT_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("seq", pa.int32()),
        ("page", pa.int32()),
        ("kind", pa.string()),
        ("level", pa.int32()),
        ("bbox", pa.list_(pa.float64(), 4)),
        ("text", pa.string()),
        ("markdown", pa.string()),
        ("is_fallback", pa.bool_()),
        ("attrs", pa.string()),
    ]
)


@dataclass(frozen=True)
class PendingPdf:
    paper_id: str
    version: str
    path: Path  # absolute
    sha256: str
    pages: int | None
    store_uri: str | None = None


def doc_id(pdf_sha256: str, parser: str, parser_version: str) -> str:
    return hashlib.sha256(f"{pdf_sha256}\x00{parser}\x00{parser_version}".encode()).hexdigest()


def pending_pdfs(
    wh: Warehouse,
    home: Path,
    *,
    parser: str,
    parser_version: str,
    limit: int | None = None,
    paper_ids: list[str] | None = None,
    better_than: tuple[str, Sequence[str]] | None = None,
) -> list[PendingPdf]:
    """Verified PDFs with no document for this parser version yet (newest version of a paper
    first among its rows; one row per PDF file). With ``better_than=(parser, order)``, papers
    that already have a usable document ranked above ``parser`` in ``order`` are left out."""
    sql = """
        SELECT p.paper_id, p."version", p.path, p.sha256, p.pages, p.store_uri
        FROM pdfs p
        WHERE p.status = 'ok' AND p.path IS NOT NULL AND p.sha256 IS NOT NULL
          AND NOT EXISTS (
              SELECT 1 FROM documents d
              WHERE d.pdf_sha256 = p.sha256 AND d.parser = ? AND d.parser_version = ?)
    """
    params: list[object] = [parser, parser_version]
    if better_than is not None:
        from warehouse.best_source import better_exists_sql

        condition, extra = better_exists_sql(*better_than)
        sql += f" AND NOT {condition}"
        params += extra
    if paper_ids:
        sql += " AND p.paper_id IN (SELECT unnest(?::VARCHAR[]))"
        params.append(paper_ids)
    sql += ' ORDER BY p.fetched_at NULLS LAST, p.paper_id, p."version"'
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with wh.read() as con:
        rows = con.execute(sql, params).fetchall()
    return [PendingPdf(r[0], r[1], home / r[2], r[3], r[4], r[5]) for r in rows]


def store_document(
    wh: Warehouse,
    *,
    paper_id: str,
    pdf_sha256: str,
    doc: Document,
    parser: str,
    parser_version: str,
    run_id: str | None = None,
) -> str:
    """Write one parse (document row + all its elements) atomically; returns its doc_id."""
    did = doc_id(pdf_sha256, parser, parser_version)
    elements = doc.elements if doc.status != "failed" else []
    table = pa.table(
        {
            "doc_id": [did] * len(elements),
            "seq": list(range(len(elements))),
            "page": [el.page for el in elements],
            "kind": [el.kind for el in elements],
            "level": [el.level for el in elements],
            "bbox": [list(el.bbox) for el in elements],
            "text": [el.text for el in elements],
            "markdown": [el.markdown for el in elements],
            "is_fallback": [el.is_fallback for el in elements],
            "attrs": [json.dumps(el.attrs) if el.attrs else None for el in elements],
        },
        schema=ELEMENT_SCHEMA,
    )
    provenance = {
        "parser": doc.provenance.parser,
        "parser_version": doc.provenance.parser_version,
        "model_id": doc.provenance.model_id,
        "router": doc.provenance.router,
        "source": doc.provenance.source,
        "source_version": doc.provenance.source_version,
        "page_status": doc.page_status,
        "page_reasons": {str(p.number): p.reason for p in doc.pages if p.reason},
        "page_ocr": {str(p.number): p.ocr for p in doc.pages if p.ocr},
        **{k: v for k, v in doc.metadata.items() if isinstance(v, str | int | float)},
    }
    markdown = doc.to_markdown() if doc.status != "failed" else None
    with wh.write() as con:
        con.execute("DELETE FROM elements WHERE doc_id = ?", [did])
        con.execute("DELETE FROM documents WHERE doc_id = ?", [did])
        con.execute(
            """
            INSERT INTO documents (doc_id, paper_id, pdf_sha256, parser, parser_version,
                model_id, status, reason, pages, fallback_pages, duration_s, quality, markdown,
                provenance, run_id, source)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                did,
                paper_id,
                pdf_sha256,
                parser,
                parser_version,
                doc.provenance.model_id,
                doc.status,
                doc.reason,
                len(doc.pages),
                doc.fallback_pages,
                doc.provenance.duration_s,
                json.dumps(doc.quality),
                markdown,
                json.dumps(provenance),
                run_id,
                doc.provenance.source,
            ],
        )
        if table.num_rows:
            con.register("new_elements", table)
            con.execute(
                "INSERT INTO elements (doc_id, seq, page, kind, level, bbox, text, markdown,"
                " is_fallback, attrs) SELECT * FROM new_elements"
            )
            con.unregister("new_elements")
    return did
