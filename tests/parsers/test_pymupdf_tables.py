"""Table detection: find_tables() runs only where its "lines" strategy can find cells."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from parsers.pymupdf import PyMuPDFParser, _vertical_rules

CELLS = [["Model", "F1", "Acc"], ["Ours", "91.2", "88.0"], ["Baseline", "85.4", "80.1"]]


def _table_page(path: Path, *, vertical_rules: bool) -> Path:
    """A page with a captioned 3x3 table: fully ruled, or booktabs (horizontal rules only)."""
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 90), "Table 1: Results on the test set.", fontsize=10)
    x0, y0, w, h = 72.0, 110.0, 90.0, 20.0
    for r, row in enumerate(CELLS):
        for c, cell in enumerate(row):
            page.insert_text((x0 + c * w + 5, y0 + r * h + 14), cell, fontsize=10)
    right, bottom = x0 + 3 * w, y0 + 3 * h
    for r in range(4) if vertical_rules else (0, 1, 3):
        page.draw_line((x0, y0 + r * h), (right, y0 + r * h))
    if vertical_rules:
        for c in range(4):
            page.draw_line((x0 + c * w, y0), (x0 + c * w, bottom))
    page.insert_text((72, 200), "The table above compares two systems.", fontsize=10)
    doc.save(path)
    return path


def test_ruled_table_is_found(tmp_path: Path) -> None:
    pdf = _table_page(tmp_path / "ruled.pdf", vertical_rules=True)
    with pymupdf.open(pdf) as doc:
        assert _vertical_rules(doc[0].get_cdrawings()) >= 4
    tables = [el for el in PyMuPDFParser().parse(pdf).elements if el.kind == "table"]
    assert len(tables) == 1
    assert "| Ours | 91.2 | 88.0 |" in tables[0].markdown


def test_booktabs_table_skips_find_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = _table_page(tmp_path / "booktabs.pdf", vertical_rules=False)
    with pymupdf.open(pdf) as doc:
        assert _vertical_rules(doc[0].get_cdrawings()) == 0
        # What the skip saves: find_tables() itself finds no table here.
        assert not [t for t in doc[0].find_tables(strategy="lines").tables if t.row_count > 1]

    def not_called(*_: object, **__: object) -> None:
        raise AssertionError("find_tables() ran on a page without vertical rules")

    monkeypatch.setattr(pymupdf.Page, "find_tables", not_called)
    doc = PyMuPDFParser().parse(pdf)
    assert not [el for el in doc.elements if el.kind == "table"]
    assert any("Ours 91.2 88.0" in el.text for el in doc.elements)  # the cells stay as text


def test_a_caption_framed_with_its_table_is_kept(tmp_path: Path) -> None:
    """Caption and table drawn inside one ruled box (a figure-like float): find_tables()
    reports the whole box, and the caption must survive as a caption, once."""
    doc = pymupdf.open()
    page = doc.new_page()
    page.draw_rect(pymupdf.Rect(72, 75, 342, 170))  # one frame around caption and table
    page.insert_text((72, 90), "Table 2: Accuracy of the three systems.", fontsize=10)
    x0, y0, w, h = 72.0, 110.0, 90.0, 20.0
    for r, row in enumerate(CELLS):
        for c, cell in enumerate(row):
            page.insert_text((x0 + c * w + 5, y0 + r * h + 14), cell, fontsize=10)
    for r in range(4):
        page.draw_line((x0, y0 + r * h), (x0 + 3 * w, y0 + r * h))
    for c in range(4):
        page.draw_line((x0 + c * w, y0), (x0 + c * w, y0 + 3 * h))
    page.insert_text((72, 230), "The framed table above compares three systems.", fontsize=10)
    pdf = tmp_path / "framed.pdf"
    doc.save(pdf)
    parsed = PyMuPDFParser().parse(pdf)
    captions = [el.text for el in parsed.elements if el.kind == "caption"]
    assert captions == ["Table 2: Accuracy of the three systems."]
    tables = [el for el in parsed.elements if el.kind == "table"]
    assert len(tables) == 1 and tables[0].markdown.startswith("| Model | F1 | Acc |")
    assert "Accuracy" not in tables[0].markdown  # the caption is not a row of the table
    md = parsed.to_markdown()
    assert md.index("Table 2: Accuracy") < md.index("| Model | F1 | Acc |")
    assert md.index("Table 2: Accuracy") < md.index("The framed table above")
