"""Run-in headings: a bold lead-in that starts a paragraph on the same line."""

from __future__ import annotations

from pathlib import Path

import pymupdf

from parsers.pymupdf import PyMuPDFParser


def test_siam_style_run_in_sections_are_headings(shared: Path) -> None:
    pdf = shared / "fixtures" / "arxiv_fulltext" / "html" / "2510.14430.pdf"
    doc = PyMuPDFParser().parse(pdf)
    headings = {el.text: el.level for el in doc.elements if el.kind == "heading"}
    assert headings["1. Introduction."] == 1
    assert headings["2. Shrinkages for PLS regressions."] == 1
    intro = next(i for i, el in enumerate(doc.elements) if el.text == "1. Introduction.")
    follow = doc.elements[intro + 1]
    assert follow.kind == "paragraph" and follow.text.startswith("In the last decades")


def test_theorem_labels_and_captions_stay_in_their_paragraph(tmp_path: Path) -> None:
    doc = pymupdf.open()
    page = doc.new_page()
    y = 100.0
    for lead, rest in [
        ("World Models.", "Recent work learns a model of the environment from data."),
        ("Theorem 2.", "Every bounded monotone sequence of real numbers converges."),
        ("Proof.", "Let the supremum of the sequence be s and take any e > 0."),
    ]:
        page.insert_text((72, y), lead, fontsize=10, fontname="hebo")
        page.insert_text((72 + pymupdf.get_text_length(lead, "hebo", 10) + 4, y), rest,
                         fontsize=10, fontname="helv")  # fmt: skip
        y += 40
    path = tmp_path / "run-in.pdf"
    doc.save(path)
    parsed = PyMuPDFParser().parse(path)
    headings = [(el.text, el.level) for el in parsed.elements if el.kind == "heading"]
    assert headings == [("World Models.", 3)]
    text = parsed.text()
    assert "Theorem 2. Every bounded monotone sequence" in text
    assert "Proof. Let the supremum" in text
    assert "#### World Models." in parsed.to_markdown()
