"""Damaged PDFs that MuPDF "repairs": a truncated download with ``%%EOF`` appended opens and
parses without an error, but pages are gone. The parse records the repair with MuPDF's
complaints, marks the pages that lost content, and the document is never ``ok``."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from pathlib import Path

import pymupdf
import pytest

from demo.sample import sample_papers
from tests.arxiv_replay import cached_pdf, serve_sample_oai
from tests.hostile.conftest import Outcome
from tests.replay import ReplayServer, Response
from warehouse import Warehouse

Cli = Callable[..., Outcome]
PAGES = 4
LOST = "lost content when MuPDF repaired the damaged file"


def _prose(rng: random.Random, words: int = 320) -> str:
    """Text that passes every quality threshold: varied words, a tenth of them stopwords."""
    vocab = [
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9)))
        for _ in range(3000)
    ]
    stop = ["the", "of", "and", "to", "in", "is", "that", "for", "we", "with"]
    return " ".join(rng.choice(stop) if i % 3 == 0 else rng.choice(vocab) for i in range(words))


def prose_pdf(pages: int = PAGES) -> bytes:
    rng = random.Random(5)
    doc = pymupdf.open()
    for _ in range(pages):
        page = doc.new_page()
        page.insert_textbox(pymupdf.Rect(72, 72, 540, 740), _prose(rng), fontsize=10)
    return doc.tobytes(deflate=True)


def cut_with_eof(data: bytes, keep: float) -> bytes:
    """The first ``keep`` of the file, "mended" with an appended %%EOF (which passes the
    trailer check)."""
    return data[: int(len(data) * keep)] + b"\n%%EOF\n"


def _parse_file(cli: Cli, path: Path) -> tuple[Outcome, dict[str, object]]:
    result = cli("parse", "file", str(path), "--format", "json")
    assert "Traceback" not in result.out + result.err
    return result, json.loads(result.out) if result.code == 0 else {}


def test_the_intact_file_is_ok_and_not_repaired(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "intact.pdf"
    path.write_bytes(prose_pdf())
    result, doc = _parse_file(cli, path)
    assert result.code == 0 and result.err == ""
    assert doc["status"] == "ok" and doc["page_status"] == ["ok"] * PAGES
    assert doc["metadata"]["repaired"] is False  # type: ignore[index]


@pytest.mark.parametrize(("keep", "lost"), [(0.6, [3, 4]), (0.9, [4])])
def test_a_truncated_file_mended_with_eof_is_not_ok(
    cli: Cli, tmp_path: Path, keep: float, lost: list[int]
) -> None:
    path = tmp_path / "mended.pdf"
    path.write_bytes(cut_with_eof(prose_pdf(), keep))
    result, doc = _parse_file(cli, path)
    assert result.code == 0, result.err
    meta, quality = doc["metadata"], doc["quality"]
    assert meta["repaired"] is True  # type: ignore[index]
    assert "repair" in meta["mupdf_warnings"]  # type: ignore[index]
    pages = doc["pages"]
    assert isinstance(pages, list)
    failed = [p["number"] + 1 for p in pages if p["status"] == "failed"]
    assert failed == lost
    for page in pages:
        if page["status"] == "failed":
            assert page["reason"].startswith(LOST) and page["elements"] == []
        else:
            assert page["status"] == "ok" and page["elements"]
    assert quality["failed_pages"] == len(lost)  # type: ignore[index]
    # The average text per page would pass; the lost pages keep the document from `ok`.
    assert quality["chars_per_page"] > 200  # type: ignore[index]
    assert doc["status"] == "low_quality"
    assert str(doc["reason"]).startswith(f"{len(lost)} of {PAGES} pages failed")
    note = result.err.strip().splitlines()
    assert len(note) == 1 and note[0].startswith("note: status low_quality")


def test_a_file_with_no_page_left_intact_is_a_failed_parse(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "mostly-gone.pdf"
    path.write_bytes(cut_with_eof(prose_pdf(), 0.2))
    result, _ = _parse_file(cli, path)
    assert result.code == 1
    line = result.one_line_error()
    assert "mostly-gone.pdf: every page failed" in line and LOST in line


def test_a_crawled_mended_pdf_is_stored_as_repaired_and_not_ok(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the catalog: the mended file passes the download checks (it opens), and the
    parse stores it as low quality with the repair recorded and no text of its lost pages."""
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "home"
    papers = sample_papers(3, seed=21)
    damaged = papers[0]
    with ReplayServer() as srv:
        serve_sample_oai(srv, papers)
        mended = cut_with_eof(prose_pdf(), 0.6)
        for paper in papers:
            body = mended if paper is damaged else cached_pdf(paper)
            srv.add(
                f"/pdf/{paper.arxiv_id}{paper.latest}",
                Response(200, body, content_type="application/pdf"),
            )
        monkeypatch.setenv("SCICURATE_ARXIV_OAI_URL", f"{srv.url}/oai")
        monkeypatch.setenv("SCICURATE_ARXIV_PDF_URL", f"{srv.url}/pdf/")
        monkeypatch.setenv("SCICURATE_ARXIV_MIN_INTERVAL_S", "0")
        crawled = cli("--home", str(home), "crawl", "arxiv", "--category", "cs", "--pdfs")
    assert crawled.code == 0, crawled.err
    parsed = cli("--home", str(home), "parse", "--workers", "1")
    assert parsed.code == 0, parsed.err
    wh = Warehouse(home / "warehouse.duckdb")
    with wh.read() as con:
        rows = con.execute(
            "SELECT paper_id, status, reason, provenance->>'repaired', "
            "provenance->>'mupdf_warnings', provenance->'page_status', doc_id "
            "FROM documents ORDER BY paper_id"
        ).fetchall()
        assert len(rows) == 3  # one document per PDF
        by_paper = {r[0]: r for r in rows}
        _, status, reason, repaired, warnings, page_status, doc_id = by_paper[damaged.arxiv_id]
        assert (status, repaired) == ("low_quality", "true")
        assert str(reason).startswith(f"2 of {PAGES} pages failed") and "repair" in warnings
        assert json.loads(page_status) == ["ok", "ok", "failed", "failed"]
        # No element of a lost page is stored.
        assert con.execute(
            "SELECT DISTINCT page FROM elements WHERE doc_id = ? ORDER BY 1", [doc_id]
        ).fetchall() == [(0,), (1,)]
        assert all(r[1] == "ok" and r[3] == "false" for r in rows if r[0] != damaged.arxiv_id)
        elements = con.execute("SELECT count(*) FROM elements").fetchall()
    status_out = cli("--home", str(home), "status")
    assert status_out.code == 0
    assert "pages failed" in status_out.out
    # A rerun parses nothing again and duplicates nothing.
    again = cli("--home", str(home), "parse")
    assert again.code == 0 and "Nothing to parse" in again.out
    with wh.read() as con:
        assert con.execute("SELECT count(*) FROM documents").fetchall() == [(3,)]
        assert con.execute("SELECT count(*) FROM elements").fetchall() == elements


NOT_LOCAL = "model not found locally; set SCICURATE_NOUGAT_MODEL to a local folder"


@pytest.mark.parametrize("model", [None, "missing-folder/weights/nougat"])
def test_nougat_without_local_weights_fails_fast(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: str | None
) -> None:
    """The default hub model (or a folder that is not there) on a machine without it: a
    one-line error at once, not a wait for a hub that cannot be reached."""
    import time

    from parsers.nougat import NougatOptions
    from parsers.nougat_model import weights_available

    monkeypatch.chdir(tmp_path)
    if model is None:
        if weights_available(NougatOptions().model):
            pytest.skip("this machine's hub cache holds the default Nougat model")
    else:
        monkeypatch.setenv("SCICURATE_NOUGAT_MODEL", model)
    path = tmp_path / "intact.pdf"
    path.write_bytes(prose_pdf())
    start = time.monotonic()
    result = cli("--home", str(tmp_path / "home"), "parse", "file", str(path), "-p", "nougat")
    assert time.monotonic() - start < 20
    assert result.code == 1
    assert NOT_LOCAL in result.one_line_error()


def test_nougat_without_weights_stores_no_failed_documents(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`parse --parser nougat` over the catalog: it stops before any PDF, so no PDF is stored
    as a failed parse (which would keep it from being parsed once the weights are there)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCICURATE_NOUGAT_MODEL", str(tmp_path / "no-such-model"))
    home = tmp_path / "home"
    from tests.arxiv_replay import crawl_sample
    from warehouse import migrate

    wh = Warehouse(home / "warehouse.duckdb")
    migrate(wh)
    crawl_sample(wh, home, sample_papers(2, seed=22))
    result = cli("--home", str(home), "parse", "--parser", "nougat")
    assert result.code == 1
    assert NOT_LOCAL in result.one_line_error()
    with wh.read() as con:
        assert con.execute("SELECT count(*) FROM documents").fetchall() == [(0,)]
        [(status, error)] = con.execute(
            "SELECT status, error FROM runs WHERE flow = 'parse-pdfs'"
        ).fetchall()
    assert status == "failed" and NOT_LOCAL in str(error)
