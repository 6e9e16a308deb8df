"""The best document per paper: the configured order, the recorded choice, and the parse
backlog that skips papers with a better document."""

from __future__ import annotations

from pathlib import Path

from parsers.base import Document, Element, Page, Provenance
from warehouse import Warehouse
from warehouse.best_source import choose_best, coverage
from warehouse.documents import pending_pdfs, store_document


def _doc(parser: str, source: str = "pdf", status: str = "ok") -> Document:
    text = f"text from {parser}"
    page = Page(0, 600, 800, elements=[Element("paragraph", 0, (0, 0, 1, 1), text, text)])
    return Document([page], Provenance(parser, "1", source=source), status=status)  # type: ignore[arg-type]


def _store(wh: Warehouse, paper: str, sha: str, doc: Document) -> str:
    return store_document(wh, paper_id=paper, pdf_sha256=sha, doc=doc,
                          parser=doc.provenance.parser, parser_version="1")  # fmt: skip


def test_order_is_configurable_and_recorded(wh: Warehouse, tmp_path: Path) -> None:
    _store(wh, "p1", "a", _doc("pymupdf"))
    html = _store(wh, "p1", "b", _doc("arxiv-html", "arxiv-html"))
    _store(wh, "p2", "c", _doc("pymupdf"))
    nougat = _store(wh, "p2", "d", _doc("nougat"))
    _store(wh, "p3", "e", _doc("arxiv-src", "arxiv-src", status="failed"))  # never best
    pdf3 = _store(wh, "p3", "f", _doc("pymupdf"))
    assert choose_best(wh) == 3
    with wh.read() as con:
        rows = con.execute(
            "SELECT paper_id, doc_id, source_key, source_order FROM best_documents ORDER BY 1"
        ).fetchall()
    order = "arxiv-src,arxiv-html,nougat,pymupdf"
    assert rows == [("p1", html, "arxiv-html", order), ("p2", nougat, "nougat", order),
                    ("p3", pdf3, "pymupdf", order)]  # fmt: skip
    assert {s: (n, b) for s, n, b in coverage(wh)} == {
        "arxiv-html": (1, 1), "nougat": (1, 1), "pymupdf": (3, 1),
    }  # fmt: skip
    assert choose_best(wh, ["pymupdf", "nougat", "arxiv-html", "arxiv-src"]) == 3
    with wh.read() as con:
        keys = con.execute("SELECT source_key FROM best_documents ORDER BY paper_id").fetchall()
    assert keys == [("pymupdf",), ("pymupdf",), ("pymupdf",)]


def test_parse_backlog_skips_papers_with_a_better_document(wh: Warehouse, tmp_path: Path) -> None:
    with wh.write() as con:
        for pid, sha in (("p1", "s1"), ("p2", "s2")):
            con.execute(
                "INSERT INTO pdfs (paper_id, version, url, path, sha256, status) "
                "VALUES (?, 'v1', 'u', 'x.pdf', ?, 'ok')",
                [pid, sha],
            )
    _store(wh, "p1", "h1", _doc("arxiv-html", "arxiv-html"))
    order = ["arxiv-src", "arxiv-html", "nougat", "pymupdf"]
    pending = pending_pdfs(wh, tmp_path, parser="pymupdf", parser_version="9",
                           better_than=("pymupdf", order))  # fmt: skip
    assert [p.paper_id for p in pending] == ["p2"]
    everything = pending_pdfs(wh, tmp_path, parser="pymupdf", parser_version="9")
    assert [p.paper_id for p in everything] == ["p1", "p2"]
    # Under an order that puts PyMuPDF first, nothing beats it.
    pending = pending_pdfs(wh, tmp_path, parser="pymupdf", parser_version="9",
                           better_than=("pymupdf", order[::-1]))  # fmt: skip
    assert [p.paper_id for p in pending] == ["p1", "p2"]
