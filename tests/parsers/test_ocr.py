"""OCR of pages without a usable text layer (Tesseract through the isolated parser)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pymupdf
import pytest
from rapidfuzz import fuzz

from parsers import pymupdf as pymupdf_parser
from parsers.ocr import OcrOptions, word_share
from parsers.pymupdf import PyMuPDFOptions, PyMuPDFParser
from parsers.run import ParseSpec, parse_document
from tests.parsers.scans import SENTENCES, noise_page, rasterise, scanned, symbol_soup, text_page


def _spec(**ocr: object) -> ParseSpec:
    return ParseSpec(pymupdf=PyMuPDFOptions(ocr=replace(OcrOptions(), **ocr)))  # type: ignore[arg-type]


def _squash(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _recall(sentences: list[str], text: str) -> float:
    """Share of the sentences found in the text (fuzzy: OCR may misread a letter)."""
    flat = _squash(text)
    return sum(fuzz.partial_ratio(_squash(s), flat) >= 95 for s in sentences) / len(sentences)


def test_the_shared_scanned_page_is_read(shared: Path, tesseract: str) -> None:
    """The Nougat sample is a scanned textbook page with no text layer at all."""
    doc = parse_document(str(shared / "corpus" / "nougat_calculus00marciala_p43.pdf"), ParseSpec())
    page = doc.pages[0]
    assert doc.status == "ok" and page.status == "ok", doc.reason
    assert page.ocr is not None
    assert page.ocr["engine"] == tesseract and tesseract.startswith("tesseract ")
    assert page.ocr["dpi"] == 300 and page.ocr["confidence"] > 70 and not page.ocr["low_confidence"]
    known = [
        "The derivative of a constant is zero.",
        "Interpret this result geometrically.",
        "This rule has already been used in the solution of numerous exercises.",
        "The derivative of the sum of two functions is equal to the sum of their derivatives.",
    ]
    assert _recall(known, doc.text()) == 1.0, doc.text()
    # the book's running head (chapter title and page number) is furniture
    head = [el for el in doc.elements if el.kind == "furniture"]
    assert any("POWER FUNCTION" in el.text and el.text.rstrip().endswith("43") for el in head)
    assert "POWER FUNCTION" not in doc.to_markdown()
    assert doc.quality["ocr_pages"] == 1 and doc.quality["ocr_unreliable_pages"] == 0


def test_rendered_image_only_page(tmp_path: Path, tesseract: str) -> None:
    pdf = scanned(
        tmp_path,
        head="Journal of Applied Spectroscopy, Vol. 12, No. 3, pp. 45-67 (2021)",
        foot="Downloaded from https://example.org on 3 May 2021",
    )
    with pymupdf.open(pdf) as raw:
        assert raw[0].get_text().strip() == ""  # nothing but a picture
    doc = parse_document(str(pdf), ParseSpec())
    assert doc.status == "ok", doc.reason
    assert _recall(SENTENCES, doc.text()) == 1.0, doc.text()
    md = doc.to_markdown()
    assert "## 2 Experimental Setup" in md or "2 Experimental Setup" in md
    reasons = {el.attrs["reason"] for el in doc.elements if el.kind == "furniture"}
    assert reasons == {"journal volume/issue/page", "download notice"}
    assert "Downloaded" not in md and "Vol. 12" not in md


def test_pages_with_a_text_layer_are_never_ocrd(
    shared: Path, tmp_path: Path, tesseract: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_called(*_: object, **__: object) -> None:
        raise AssertionError("a page with a text layer was OCR'd")

    monkeypatch.setattr(pymupdf_parser, "ocr_page", not_called)
    parser = PyMuPDFParser()
    # born-digital, and a scan whose (ABBYY) OCR layer is good
    for name in ("docling_2305.03393v1-pg9.pdf", "grobid_ZFN-A-054-0304-0272.pdf"):
        doc = parser.parse(shared / "corpus" / name)
        assert all(page.ocr is None and page.status == "ok" for page in doc.pages), name
    # a scan with a good invisible text layer
    born = tmp_path / "born.pdf"
    with pymupdf.open() as d:
        text_page(d)
        d.save(born)
    good = rasterise(born, tmp_path / "good-layer.pdf", layer=" ".join(SENTENCES))
    doc = parser.parse(good)
    assert doc.pages[0].ocr is None and _recall(SENTENCES, doc.text()) == 1.0


def test_a_garbage_text_layer_is_ocrd_again(tmp_path: Path, tesseract: str) -> None:
    born = tmp_path / "born.pdf"
    with pymupdf.open() as d:
        text_page(d)
        d.save(born)
    soup = symbol_soup(400)
    bad = rasterise(born, tmp_path / "bad-layer.pdf", layer=soup)
    with pymupdf.open(bad) as raw:
        layer = raw[0].get_text()
    assert len(layer) > 1000 and word_share(layer) < 0.2  # the rule's input, measured
    doc = parse_document(str(bad), ParseSpec())
    assert doc.status == "ok" and doc.pages[0].ocr is not None
    assert _recall(SENTENCES, doc.text()) == 1.0
    assert "#$" not in doc.text() and soup.split()[0] not in doc.text()


def test_ocr_noise_is_low_quality_not_ok(tmp_path: Path, tesseract: str) -> None:
    doc = parse_document(str(noise_page(tmp_path)), ParseSpec())
    page = doc.pages[0]
    assert page.ocr is not None and page.ocr["low_confidence"]
    assert doc.status == "low_quality"
    assert "unreliable OCR text" in (doc.reason or "")
    assert doc.quality["ocr_unreliable_pages"] == 1


def test_ocr_is_bounded_and_says_why_it_did_not_run(tmp_path: Path, tesseract: str) -> None:
    pdf = scanned(tmp_path)
    for spec, why in [
        (_spec(timeout_s=0.001), "OCR failed: OCR ran over 0.001 s"),
        (_spec(budget_s=0), "the OCR budget of 0 s per document is spent"),
        (_spec(enabled=False), "OCR is off"),
        (_spec(program="no-such-tesseract"), "no-such-tesseract is not installed"),
        (_spec(languages="xyz"), "no Tesseract data for xyz"),
    ]:
        doc = parse_document(str(pdf), spec)
        assert doc.status == "needs_ocr", (why, doc.status)
        assert doc.pages[0].status == "needs_ocr" and why in (doc.pages[0].reason or ""), doc.pages[
            0
        ].reason


def test_dpi_is_capped_by_the_pixel_budget(tmp_path: Path, tesseract: str) -> None:
    big = tmp_path / "poster.pdf"
    with pymupdf.open() as d:
        page = d.new_page(width=2384, height=3370)  # A0
        page.insert_text((200, 400), "A poster title in large type", fontsize=90)
        d.save(big)
    poster = rasterise(big, tmp_path / "poster-scan.pdf", dpi=40)
    doc = parse_document(str(poster), _spec(max_pixels=4_000_000))
    ocr = doc.pages[0].ocr
    assert ocr is not None and ocr["dpi"] < 300
    assert (2384 / 72 * ocr["dpi"]) * (3370 / 72 * ocr["dpi"]) <= 4_000_000


def test_parse_file_prints_the_text_of_an_image_only_page(
    tmp_path: Path, tesseract: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from cli.app import command
    from cli.errors import run_cli

    pdf = scanned(tmp_path, foot="Download date: 12. Mar. 2021")
    home = tmp_path / "home"
    assert run_cli(command(), ["--home", str(home), "parse", "file", str(pdf)]) == 0
    out, err = capsys.readouterr()
    assert _recall(SENTENCES, out) == 1.0, out
    assert "Download date" not in out and "note: status" not in err
    code = run_cli(command(), ["--home", str(home), "parse", "file", str(pdf), "-f", "json"])
    out, _ = capsys.readouterr()
    page = json.loads(out)["pages"][0]
    assert code == 0 and page["ocr"]["engine"] == tesseract
    furniture = [el for el in page["elements"] if el["kind"] == "furniture"]
    assert [el["attrs"]["reason"] for el in furniture] == ["download notice"]
    # languages come from the settings; a missing language pack is named
    env_home = ["--home", str(home), "parse", "file", str(pdf)]
    import os

    os.environ["SCICURATE_OCR_LANGUAGES"] = "xyz"
    try:
        assert run_cli(command(), env_home) == 0
    finally:
        del os.environ["SCICURATE_OCR_LANGUAGES"]
    out, err = capsys.readouterr()
    assert "no Tesseract data for xyz" in err and "needs_ocr" in err


def test_unreliable_ocr_pages_go_to_nougat_under_auto() -> None:
    from parsers.base import Page
    from parsers.router import needs_nougat

    read = Page(0, 595, 842, ocr={"low_confidence": False, "confidence": 91.0})
    scribbles = Page(1, 595, 842, ocr={"low_confidence": True, "confidence": 31.0})
    assert needs_nougat(read, 0.08) is None
    assert needs_nougat(scribbles, 0.08) == "OCR unreliable (handwriting or noise)"
    assert needs_nougat(Page(2, 595, 842, status="needs_ocr"), 0.08) == "no text layer"


def test_text_drawn_as_outlines_is_read(tmp_path: Path, tesseract: str) -> None:
    """A poster whose text was converted to vector paths has no text layer and no image."""
    with pymupdf.open() as born:
        text_page(born, heading="A Poster in Outlines")
        svg = born[0].get_svg_image(text_as_path=True)
    with pymupdf.open(stream=svg.encode(), filetype="svg") as drawn:
        pdf_bytes = drawn.convert_to_pdf()
    path = tmp_path / "outlines.pdf"
    path.write_bytes(pdf_bytes)
    with pymupdf.open(path) as raw:
        assert raw[0].get_text().strip() == "" and not raw[0].get_images()
    doc = parse_document(str(path), ParseSpec())
    assert doc.status == "ok" and doc.pages[0].ocr and doc.pages[0].ocr["mode"] == "page"
    assert _recall([*SENTENCES, "A Poster in Outlines"], doc.text()) == 1.0


def test_words_inside_the_pictures_of_a_sparse_page_are_added(
    tmp_path: Path, tesseract: str
) -> None:
    """A slide: a title in the text layer over one big picture of text. The picture's words
    are read and added; the title is not read twice."""
    with pymupdf.open() as born:
        text_page(born, heading=None)
        pix = born[0].get_pixmap(dpi=150, clip=pymupdf.Rect(60, 100, 540, 400))
    title = "Spectral Line Survey: Results of the 2021 Campaign"
    with pymupdf.open() as slide:
        page = slide.new_page(width=595, height=842)
        page.insert_text((72, 60), title, fontsize=16)
        page.insert_image(pymupdf.Rect(40, 90, 560, 760), pixmap=pix)
        slide.save(tmp_path / "slide.pdf")
    doc = parse_document(str(tmp_path / "slide.pdf"), ParseSpec())
    assert doc.pages[0].ocr and doc.pages[0].ocr["mode"] == "images"
    text = doc.text()
    assert _recall(SENTENCES, text) == 1.0
    assert text.count("Spectral Line Survey") == 1  # from the text layer, once


def test_a_figure_page_with_a_caption_is_not_ocrd(shared: Path, tesseract: str) -> None:
    """Pages of the shared corpus with their text layer and figures: none is OCR'd."""
    parser = PyMuPDFParser()
    for name in ("sp_seung08.pdf", "pm_2302.07302v1.pdf", "marker_1804.07821.pdf"):
        doc = parser.parse(shared / "corpus" / name)
        assert not any(page.ocr for page in doc.pages), name
