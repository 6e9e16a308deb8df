"""The cited page rendered from the stored PDF, pre-annotated with the parser's regions, and
the corrected regions routed to parser-corrections with both markups (no server needed)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pymupdf
from PIL import Image

from annotation.config import PAGE_SHOWN, check_prediction
from annotation.page_view import page_view, page_worker
from annotation.push import task_for
from warehouse import Warehouse
from warehouse.builders.feedback_rows import Routed
from warehouse.builders.parser_corrections import ParserCorrectionsBuilder, _parser_markup

DOC = "ab" * 32
TABLE = r"\begin{tabular}{ll} a & b \\ \end{tabular}"


def _stored_paper(wh: Warehouse, home: Path) -> None:
    pdf = pymupdf.open()
    for i in range(2):
        page = pdf.new_page(width=612, height=792)
        page.insert_text((72, 90), f"Page {i + 1}: results of the study", fontsize=14)
        page.draw_rect(pymupdf.Rect(72, 300, 540, 420))
    (home / "pdfs").mkdir(parents=True)
    pdf.save(home / "pdfs" / "2401.00001.pdf")
    with wh.write() as con:
        con.execute(
            'INSERT INTO pdfs (paper_id, "version", url, path, status) VALUES '
            "('2401.00001', '', 'u', 'pdfs/2401.00001.pdf', 'ok')"
        )
        con.execute(
            "INSERT INTO documents (doc_id, paper_id, pdf_sha256, parser, parser_version, "
            "status) VALUES (?, '2401.00001', 'x', 'pymupdf', '1', 'ok')",
            [DOC],
        )
        con.execute(
            "INSERT INTO elements (doc_id, seq, page, kind, bbox, text, markdown) VALUES "
            "(?, 7, 1, 'table', [72, 300, 540, 420], 'a b', ?), "
            "(?, 8, 1, 'paragraph', [72, 80, 540, 100], 'Page 2', 'Page 2'), "
            "(?, 9, 0, 'equation', [72, 300, 300, 340], 'x', '\\[x\\]')",
            [DOC, TABLE, DOC, DOC],
        )


def _feedback(**kw: object) -> dict[str, object]:
    return {"feedback_id": "f1", "task": "qa", "query": "What does Table 1 show?",
            "answer": "It shows c and d.", "comment": None, "model_version": None,
            "page_image": None, "paper_id": "2401.00001", **kw}  # fmt: skip


def test_the_cited_page_is_a_real_image_with_the_parsers_regions(
    wh: Warehouse, tmp_path: Path
) -> None:
    _stored_paper(wh, tmp_path)
    with page_worker() as worker:
        view = page_view(wh, worker, tmp_path, "2401.00001", 2)
        assert page_view(wh, worker, tmp_path, "2401.99999", 1) is None  # no stored PDF
    assert view is not None and view.image.startswith("data:image/jpeg;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(view.image.split(",", 1)[1])))
    assert image.size == (view.width, view.height) == (935, 1210)  # 110 dpi, readable
    [region] = view.regions  # the table on page 2; the paragraph is not a region kind
    assert region["id"] == f"{DOC[:16]}:7" and region["label"] == "table"
    assert round(region["x"], 2) == round(100 * 72 / 612, 2)
    assert round(region["height"], 2) == round(100 * 120 / 792, 2)
    assert region["markup"] == TABLE

    contexts = [{"paper_id": "2401.00001", "page": 2, "element_type": "table", "text": "a b"}]
    task = task_for(_feedback(contexts=contexts), view)
    data, [pred] = task["data"], task["predictions"]
    assert data["page_image"] == view.image and data["Cited page"] == "2401.00001 p. 2"
    assert "score" in data["suggestion_html"] and "why:" in data["suggestion_html"]
    kinds = {(r["from_name"], r["type"]) for r in pred["result"]}
    assert {(PAGE_SHOWN, "choices"), ("regions", "rectanglelabels"),
            ("region_markup", "textarea")} <= kinds  # fmt: skip
    text = next(r for r in pred["result"] if r["from_name"] == "region_markup")
    assert text["value"]["text"] == [TABLE] and text["id"] == region["id"]
    check_prediction(pred)

    bare = task_for(_feedback(contexts=[]))  # no page: the page section stays hidden
    assert all(r["from_name"] != PAGE_SHOWN for r in bare["predictions"][0]["result"])
    assert bare["data"]["Cited page"] == "none"


def test_corrected_regions_keep_the_parsers_markup(wh: Warehouse, tmp_path: Path) -> None:
    _stored_paper(wh, tmp_path)
    box = {"x": 11.7, "y": 37.8, "width": 76.4, "height": 15.1}
    routed = Routed(
        "f1", "q", "a", [], None, ["multimodal"],
        [{"id": f"{DOC[:16]}:7", "label": "table", **box, "markup": "| a | b |"},
         {"id": f"{DOC[:16]}:9", "label": "formula", **box, "markup": "\\[x\\]"}],  # unchanged
        "2401.00001", "data:image/jpeg;base64,xx", 1.0, 1,
    )  # fmt: skip
    parsed = _parser_markup(wh, [routed])
    rows = [row for _, row in ParserCorrectionsBuilder()._rows([routed], parsed)]
    assert len(rows) == 1  # the formula left as the parser wrote it is not a correction
    [row] = rows
    assert row["wrong_markup"] == TABLE and row["corrected_markup"] == "| a | b |"
    assert row["page"] == 2 and row["bbox"] == [11.7, 37.8, 76.4, 15.1]
    assert row["page_image"] == "data:image/jpeg;base64,xx" and row["paper_id"] == "2401.00001"
