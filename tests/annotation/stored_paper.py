"""A stored paper for the page-view tests: a two-page PDF with a table and a formula on page 2,
its verified ``pdfs`` row, a parsed document and the parser's elements (the table's markup
misread), plus negatives that cite page 2 of it or no page at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pymupdf

from annotation.ingest import ingest_file
from warehouse import Warehouse

PAPER = "2401.00002"
DOC = "cd" * 32
TABLE = "| model | accuracy |\n|---|---|\n| ours | 0.39 |"  # the parser misread 0.93
FORMULA = r"\[E = m c\]"
TABLE_BOX = (72.0, 300.0, 540.0, 420.0)  # points on a 612 x 792 page
FORMULA_BOX = (190.0, 505.0, 400.0, 530.0)


def store_paper(wh: Warehouse, home: Path) -> None:
    pdf = pymupdf.open()
    for i in range(2):
        page = pdf.new_page(width=612, height=792)
        page.insert_text((72, 90), f"Page {i + 1}: results of the study", fontsize=14)
        page.insert_text((72, 285), "Table 1: accuracy by model", fontsize=11)
        page.draw_rect(pymupdf.Rect(*TABLE_BOX))
        page.draw_line((72, 360), (540, 360))
        page.insert_text((90, 340), "model", fontsize=11)
        page.insert_text((320, 340), "accuracy", fontsize=11)
        page.insert_text((90, 395), "ours", fontsize=11)
        page.insert_text((320, 395), "0.93", fontsize=11)
        page.insert_text((200, 522), "E = m c^2          (1)", fontsize=12)
    (home / "pdfs").mkdir(parents=True, exist_ok=True)
    pdf.save(home / "pdfs" / f"{PAPER}.pdf")
    with wh.write() as con:
        con.execute(
            "INSERT INTO pdfs (paper_id, \"version\", url, path, status) VALUES (?, '', 'u', ?, "
            "'ok')",
            [PAPER, f"pdfs/{PAPER}.pdf"],
        )
        con.execute(
            "INSERT INTO documents (doc_id, paper_id, pdf_sha256, parser, parser_version, "
            "status) VALUES (?, ?, 'x', 'pymupdf', '1', 'ok')",
            [DOC, PAPER],
        )
        con.execute(
            "INSERT INTO elements (doc_id, seq, page, kind, bbox, text, markdown) VALUES "
            "(?, 4, 1, 'table', ?, 'model accuracy ours 0.39', ?), "
            "(?, 5, 1, 'equation', ?, 'E = m c', ?)",
            [DOC, list(TABLE_BOX), TABLE, DOC, list(FORMULA_BOX), FORMULA],
        )


def negative(fid: str, *, page: int | None, **kw: Any) -> dict[str, Any]:
    context: dict[str, Any] = {"paper_id": PAPER, "text": TABLE, "element_type": "table"}
    if page is not None:
        context["page"] = page
    return {
        "id": fid, "created_at": "2026-11-01T00:00:00+00:00", "user_consent": True,
        "model_version": "sci-llm-2026.11", "task": "qa", "rating": "down", "paper_id": PAPER,
        "query": "What accuracy does Table 1 report for our model?",
        "answer": "Table 1 reports an accuracy of 0.39.", "contexts": [context], **kw,
    }  # fmt: skip


def ingest(wh: Warehouse, path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert ingest_file(wh, path).stored == len(records)
