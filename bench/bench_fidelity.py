"""Text fidelity of the structured PDF parse against references, next to raw ``get_text()``.

Both are scored in the same run on the same files. Reported (JSON lines):

* ``reference``: normalised edit similarity (1 - Levenshtein distance / length, on text with
  case, spacing, ligatures, Markdown marks and figure placeholders folded away) of each
  PDF's text to a reference text of the same pages: the Docling, Marker and Nougat outputs in
  ``../shared/corpus/groundtruth/``, and, when the arXiv HTML parser is present, the HTML text
  of the shared arXiv HTML/PDF pairs (``fixtures/arxiv_fulltext/html/``; real papers with both
  renderings). For the pairs also: the share of the HTML's formulas whose content (letters
  and digits) appears in the PDF text, and heading recall (the HTML's headings found among
  the parse's headings; for raw text, found as a line), for all headings and for sections and
  subsections alone.
* ``text-tests``: the single-page present/absent/order checks of
  ``tests/parsers/text_cases.py`` (each page cut out and parsed alone), passes of each.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import pymupdf
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parsers.base import Document
from parsers.run import ParseSpec, parse_document
from tests.parsers.text_cases import CASES, normalise, score

SHARED = Path(os.environ.get("SCICURATE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
CORPUS = SHARED / "corpus"
PAIRS = SHARED / "fixtures" / "arxiv_fulltext" / "html"
REFERENCES = [  # (pdf, reference file, what the reference is)
    ("docling_2305.03393v1-pg9.pdf", "docling_2305.03393v1-pg9.docling_v2.md", "docling"),
    ("marker_1804.07821.pdf", "marker_1804.07821.MARKER_OUTPUT.md", "marker"),
    ("marker_1804.07821.pdf", "marker_1804.07821.NOUGAT_OUTPUT.md", "nougat"),
]
_ALNUM = re.compile(r"[^0-9a-z]+")


def _fold(text: str) -> str:
    """Markdown marks, figure placeholders, case and spacing folded away (the same measure as
    the Docling test in tests/parsers/test_pymupdf_corpus.py)."""
    text = re.sub(r"<!--.*?-->", " ", normalise(text))
    return " ".join(re.sub(r"[#|*_\-]+", " ", text).split())


def similarity(text: str, reference: str) -> float:
    return round(Levenshtein.normalized_similarity(_fold(text), _fold(reference)), 4)


def raw_text(pdf: Path) -> str:
    with pymupdf.open(pdf) as doc:
        return "\n".join(page.get_text() for page in doc)


def parsed(pdf: Path) -> Document:
    return parse_document(str(pdf), ParseSpec())


def references() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for pdf_name, ref_name, kind in REFERENCES:
        pdf, ref = CORPUS / pdf_name, CORPUS / "groundtruth" / ref_name
        reference = ref.read_text(encoding="utf-8")
        doc = parsed(pdf)
        out.append(
            {
                "bench": "fidelity-reference",
                "pdf": pdf_name,
                "reference": kind,
                "parse_similarity": similarity(doc.to_markdown(), reference),
                "raw_similarity": similarity(raw_text(pdf), reference),
            }
        )
    return out


def _formula_share(formulas: list[str], text: str) -> float | None:
    hay = _ALNUM.sub("", text.lower())
    wanted = [f for f in (_ALNUM.sub("", f.lower()) for f in formulas) if len(f) >= 3]
    if not wanted:
        return None
    return round(sum(f in hay for f in wanted) / len(wanted), 4)


def _heading_recall(headings: list[str], found: list[str]) -> float | None:
    if not headings:
        return None
    got = [normalise(h) for h in found]
    hits = sum(any(fuzz.ratio(normalise(h), g) >= 90 for g in got) for h in headings)
    return round(hits / len(headings), 4)


def html_pairs() -> list[dict[str, object]]:
    try:
        from parsers.arxiv_html import parse_arxiv_html
    except ImportError:
        return [{"bench": "fidelity-arxiv-html", "skipped": "no arXiv HTML parser in this build"}]
    out: list[dict[str, object]] = []
    for html in sorted(PAIRS.glob("*.html")):
        pdf = html.with_suffix(".pdf")
        ref = parse_arxiv_html(html.read_bytes())
        formulas = [el.text for el in ref.elements if el.kind == "equation"]
        formulas += re.findall(r"\$([^$]+)\$", "\n".join(el.markdown for el in ref.elements))
        headings = [el.text for el in ref.elements if el.kind == "heading"]
        sections = [el.text for el in ref.elements if el.kind == "heading" and (el.level or 9) <= 2]
        doc, raw = parsed(pdf), raw_text(pdf)
        parse_text = doc.to_markdown()
        out.append(
            {
                "bench": "fidelity-arxiv-html",
                "paper": html.stem,
                "parse_similarity": similarity(parse_text, ref.to_markdown()),
                "raw_similarity": similarity(raw, ref.to_markdown()),
                "parse_formula_share": _formula_share(formulas, parse_text),
                "raw_formula_share": _formula_share(formulas, raw),
                "parse_heading_recall": _heading_recall(
                    headings, [el.text for el in doc.elements if el.kind == "heading"]
                ),
                "raw_heading_recall": _heading_recall(headings, raw.splitlines()),
                # sections and subsections only (h2/h3): paragraph headings are run-in in a PDF
                "parse_section_recall": _heading_recall(
                    sections, [el.text for el in doc.elements if el.kind == "heading"]
                ),
                "raw_section_recall": _heading_recall(sections, raw.splitlines()),
            }
        )
    return out


def text_tests() -> dict[str, object]:
    passed = {"parse": 0, "raw": 0}
    checks = 0
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, case in enumerate(CASES):
            page = Path(tmp) / f"{i}.pdf"
            with pymupdf.open(CORPUS / case.pdf) as src, pymupdf.open() as one:
                one.insert_pdf(src, from_page=case.page, to_page=case.page)
                one.save(page)
            doc = parsed(page)
            for (kind, what, ok), (_, _, raw_ok) in zip(
                score(case, doc.to_markdown()), score(case, raw_text(page)), strict=True
            ):
                checks += 1
                passed["parse"] += ok
                passed["raw"] += raw_ok
                if not ok:
                    failed.append(f"{case.pdf} p{case.page + 1} {kind}: {what}")
    return {
        "bench": "fidelity-text-tests",
        "pages": len(CASES),
        "checks": checks,
        "parse_passed": passed["parse"],
        "raw_passed": passed["raw"],
        "parse_failed": failed,
    }


def main() -> None:
    if not CORPUS.is_dir():
        sys.exit(f"the corpus is not at {CORPUS}; set SCICURATE_SHARED")
    start = time.perf_counter()
    rows = [*references(), *html_pairs(), text_tests()]
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    pairs = [r for r in rows if r.get("bench") == "fidelity-arxiv-html" and "paper" in r]
    if pairs:
        keys = ["parse_similarity", "raw_similarity", "parse_formula_share", "raw_formula_share",
                "parse_heading_recall", "raw_heading_recall", "parse_section_recall",
                "raw_section_recall"]  # fmt: skip
        mean = {
            k: round(sum(float(r[k]) for r in pairs if r[k] is not None) / len(pairs), 4)  # type: ignore[arg-type]
            for k in keys
        }
        print(json.dumps({"bench": "fidelity-arxiv-html-mean", "papers": len(pairs), **mean}))
    print(json.dumps({"bench": "fidelity", "seconds": round(time.perf_counter() - start, 1)}))


if __name__ == "__main__":
    main()
