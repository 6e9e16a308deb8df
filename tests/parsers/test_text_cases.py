"""The single-page text tests (tests/parsers/text_cases.py) against the structured parse,
with raw ``get_text()`` as the baseline that must do worse."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from parsers.run import ParseSpec, parse_document
from tests.parsers.text_cases import CASES, PageCase, score


def _one_page(shared: Path, case: PageCase, out: Path) -> Path:
    with pymupdf.open(shared / "corpus" / case.pdf) as src, pymupdf.open() as one:
        one.insert_pdf(src, from_page=case.page, to_page=case.page)
        one.save(out)
    return out


@pytest.mark.parametrize("case", CASES, ids=[f"{c.pdf[:-4]}-p{c.page}" for c in CASES])
def test_page_text(shared: Path, tmp_path: Path, case: PageCase, tesseract: str) -> None:
    pdf = _one_page(shared, case, tmp_path / "page.pdf")
    doc = parse_document(str(pdf), ParseSpec())
    failed = [(kind, what) for kind, what, ok in score(case, doc.to_markdown()) if not ok]
    assert not failed, failed


def test_raw_text_fails_what_the_parser_passes(shared: Path, tmp_path: Path) -> None:
    """The checks can fail: raw get_text() keeps the furniture and has no OCR."""
    raw_failed = 0
    for i, case in enumerate(CASES):
        pdf = _one_page(shared, case, tmp_path / f"{i}.pdf")
        with pymupdf.open(pdf) as doc:
            text = doc[0].get_text()
        raw_failed += sum(not ok for _, _, ok in score(case, text))
    assert raw_failed >= 30, raw_failed
