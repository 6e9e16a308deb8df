"""Page furniture on single pages: every kind removed and kept as an element with its reason,
and body text at the page's edges never taken for furniture."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from parsers.base import Document
from parsers.furniture import pattern_reason
from parsers.pymupdf import PyMuPDFParser
from tests.parsers.scans import SENTENCES, text_page

FURNITURE = [
    # (text, where, expected reason)
    ("17", "foot", "page number"),
    ("xiv", "foot", "page number"),
    ("Page 3 of 12", "foot", "page number"),
    ("Downloaded from https://academic.example.org/jnl/article/12/3/45 on 3 May 2021", "foot",
     "download notice"),
    ("Download date: 12. Mar. 2021", "foot", "download notice"),
    ("Published by Elsevier B.V. on behalf of the Society", "foot", "publisher line"),
    ("\u00a9 2021 The Authors. All rights reserved.", "foot", "publisher line"),
    ("Copyright 2019 IEEE", "foot", "copyright"),
    ("Journal of Applied Spectroscopy, Vol. 12, No. 3, pp. 45-67", "head",
     "journal volume/issue/page"),
    ("Phys. Rev. B 84, 125301 (2011)", "head", "journal volume/issue/page"),
    ("Z. Naturforsch. 54a, 272-276 (1999)", "head", "journal volume/issue/page"),
    ("doi:10.1016/j.jms.2021.111487", "foot", "URL or DOI"),
    ("https://www.example.org/manuals/spectrometer", "foot", "URL or DOI"),
    ("Revision 2.1", "foot", "revision or part number"),
    ("P/N 1234-567-89", "foot", "revision or part number"),
    ("Proceedings of the 52nd Annual Meeting, pages 624-633", "foot", "venue line"),
]  # fmt: skip


def _parse(tmp_path: Path, name: str, build: object) -> Document:
    doc = pymupdf.open()
    build(doc)  # type: ignore[operator]
    path = tmp_path / name
    doc.save(path)
    return PyMuPDFParser().parse(path)


def _body(doc: Document) -> str:
    return doc.to_markdown()


@pytest.mark.parametrize(("line", "where", "reason"), FURNITURE, ids=[f[0][:24] for f in FURNITURE])
def test_each_kind_of_furniture_on_a_single_page(
    tmp_path: Path, line: str, where: str, reason: str
) -> None:
    kwargs = {"head": line} if where == "head" else {"foot": line}
    doc = _parse(tmp_path, "page.pdf", lambda d: text_page(d, **kwargs))
    furniture = [el for el in doc.elements if el.kind == "furniture"]
    assert [(el.text, el.attrs["reason"]) for el in furniture] == [(line, reason)]
    assert line not in _body(doc) and line not in doc.text()
    for sentence in SENTENCES:  # the body is all there
        assert sentence in doc.text()
    assert pattern_reason(line) == reason or reason == "page number"


def test_a_book_page_loses_its_chapter_head_and_number(tmp_path: Path) -> None:
    def build(d: pymupdf.Document) -> None:
        page = text_page(d, heading=None)
        page.insert_text((72, 40), "CHAPTER 3. DERIVATIVES", fontsize=8, fontname="tiro")
        page.insert_text((500, 40), "43", fontsize=8, fontname="tiro")

    doc = _parse(tmp_path, "book.pdf", build)
    gone = {el.text for el in doc.elements if el.kind == "furniture"}
    assert gone == {"CHAPTER 3. DERIVATIVES 43"} or gone == {"CHAPTER 3. DERIVATIVES", "43"}
    assert "CHAPTER" not in _body(doc)


def test_small_isolated_margin_lines_go_and_body_at_the_edges_stays(tmp_path: Path) -> None:
    """A small line alone in the top band goes; a paragraph that starts at the very top of
    the page, a section title there, and a short equation near the bottom stay."""

    def build(d: pymupdf.Document) -> None:
        page = d.new_page(width=595, height=842)
        page.insert_text((72, 30), "Rodary et al.", fontsize=7, fontname="helv")
        first = "continued from the previous page, where the method was described in full"
        page.insert_text((72, 62), first, fontsize=11, fontname="tiro")
        page.insert_text(
            (72, 75), "and then applied to the three samples in turn.", fontsize=11, fontname="tiro"
        )
        page.insert_text((72, 102), "3 Results", fontsize=14, fontname="hebo")
        y = 130.0
        for s in SENTENCES * 3:
            page.insert_textbox(pymupdf.Rect(72, y, 523, y + 40), s, fontsize=11, fontname="tiro")
            y += 40
        page.insert_text((250, 790), "E = m c\u00b2 + \u03b1 \u2211 x", fontsize=11)

    doc = _parse(tmp_path, "edges.pdf", build)
    furniture = {el.text: el.attrs["reason"] for el in doc.elements if el.kind == "furniture"}
    assert furniture == {"Rodary et al.": "small isolated margin line"}
    text = doc.text()
    assert "continued from the previous page" in text
    # (the first big line of page one is taken for the title: either way it is kept)
    assert any(el.kind in ("heading", "title") and el.text == "3 Results" for el in doc.elements)
    assert "E = m c\u00b2" in text


def test_a_paragraph_with_a_furniture_word_at_the_top_is_body(tmp_path: Path) -> None:
    def build(d: pymupdf.Document) -> None:
        page = d.new_page(width=595, height=842)
        line1 = "Published by the society in 1921, the first volume of the survey listed"
        page.insert_text((72, 50), line1, fontsize=11, fontname="tiro")
        page.insert_text(
            (72, 63), "every station and its instruments in detail.", fontsize=11, fontname="tiro"
        )
        y = 100.0
        for s in SENTENCES:
            page.insert_textbox(pymupdf.Rect(72, y, 523, y + 40), s, fontsize=11, fontname="tiro")
            y += 40

    doc = _parse(tmp_path, "para.pdf", build)
    assert not [el for el in doc.elements if el.kind == "furniture"]
    assert "Published by the society in 1921" in doc.text()


def test_footnotes_are_content_not_furniture(tmp_path: Path) -> None:
    def build(d: pymupdf.Document) -> None:
        page = text_page(d)
        page.insert_text((72, 800), "1https://github.com/example/spectra", fontsize=8)
        page.insert_text((72, 812), "*Equal contribution.", fontsize=8)

    doc = _parse(tmp_path, "notes.pdf", build)
    assert not [el for el in doc.elements if el.kind == "furniture"]
    assert "Equal contribution" in doc.text()


def test_running_heads_repeated_across_pages_still_go(tmp_path: Path) -> None:
    def build(d: pymupdf.Document) -> None:
        for n in range(4):
            page = text_page(d, heading=None)
            page.insert_text((72, 40), "A Survey of Spectral Lines", fontsize=10, fontname="tiro")
            page.insert_text((290, 815), str(n + 1), fontsize=10, fontname="tiro")

    doc = _parse(tmp_path, "pages.pdf", build)
    furniture = [el for el in doc.elements if el.kind == "furniture"]
    assert sorted(el.text for el in furniture).count("A Survey of Spectral Lines") == 4
    assert {el.attrs["reason"] for el in furniture} <= {"repeated on many pages", "page number"}
    assert "A Survey of Spectral Lines" not in doc.to_markdown()
