"""Quality metrics and the status they set; text clean-up helpers."""

from __future__ import annotations

from parsers.base import Document, Element, Page, Provenance
from parsers.quality import QualityThresholds, assess, guess_language, repetition_score
from parsers.text import ARXIV_STAMP, join_lines, normalize

PROSE = (
    "We study the problem of learning representations from scientific documents. Our method "
    "combines a layout encoder with a language model and is trained on a large corpus of "
    "papers. Experiments on three benchmarks show consistent gains over strong baselines, "
    "and an ablation study explains where the improvements come from. Prior work treats the "
    "page as a flat sequence of tokens; this ignores columns, captions and the way equations "
    "interrupt the running text. We instead model reading order explicitly, predicting for "
    "every block the block that follows it. Training needs no manual labels because the "
    "order can be recovered from the LaTeX sources that accompany most preprints. On held-out "
    "journals with unusual layouts the learned order is correct for nine pages in ten, while "
    "a geometric heuristic fails on one page in four. Finally, we discuss limitations: tables "
    "spanning two columns remain hard, and scanned documents require an OCR stage first."
)


def _doc(text: str, pages: int = 1) -> Document:
    els = [Element("paragraph", 0, (0, 0, 1, 1), chunk) for chunk in text.split("\n\n")]
    page_list = [Page(number=i, width=612, height=792) for i in range(pages)]
    page_list[0].elements = els
    return Document(pages=page_list, provenance=Provenance("pymupdf", "1"))


def test_prose_is_ok_and_measured() -> None:
    doc = assess(_doc(PROSE))
    assert doc.status == "ok" and doc.reason is None
    q = doc.quality
    assert q["language"] == "en"
    assert q["repetition"] < 0.2
    assert q["chars_per_page"] == len(PROSE)
    assert q["non_printable"] == 0


def test_loops_and_garbage_are_low_quality() -> None:
    looping = assess(_doc("the same line again\n\n" * 200))
    assert looping.status == "low_quality" and "repetition" in (looping.reason or "")
    assert repetition_score("word " * 500) > 0.9
    garbage = assess(_doc(PROSE + "\x00\x01\x02\ufffd" * 100))
    assert garbage.status == "low_quality" and "non-printable" in (garbage.reason or "")
    thin = assess(_doc("Too short.", pages=3))
    assert thin.status == "low_quality" and "chars/page" in (thin.reason or "")


def test_language_filter_and_guess() -> None:
    german = "Wir zeigen, dass die Methode mit den Daten nicht nur für die Praxis ist und ein " * 8
    assert guess_language(german) == "de"
    doc = assess(_doc(german), QualityThresholds(languages=("en",)))
    assert doc.status == "low_quality" and "language de" in (doc.reason or "")


def test_failed_documents_keep_their_status() -> None:
    doc = _doc(PROSE)
    doc.status, doc.reason = "failed", "timed out after 120s"
    assert assess(doc).status == "failed"


def test_text_cleanup() -> None:
    assert normalize("e\ufb03cient \ufb01eld\u00adwork") == "efficient fieldwork"
    assert join_lines(["a repre-", "sentation of state-of-", "The-art"]) == (
        "a representation of state-of- The-art"
    )
    assert ARXIV_STAMP.search("arXiv:2304.02623v1  [cs.HC]  5 Apr 2023")
    assert ARXIV_STAMP.search("arXiv:hep-th/9901001v2 12 Jan 1999")
    assert not ARXIV_STAMP.search("see arXiv:2304.02623 for details")
