"""``crawl arxiv --fulltext html,src`` against a replay of arXiv's full-text routes (the shared
LaTeXML pages and e-print trees, packed as arXiv packs them), then ``parse`` and
``datasets build cpt-corpus`` on the result.

The "no HTML" page is the project's own fixture, written from arXiv's documented wording
(tests/parsers/arxiv_pages.py): no public copy of one was found."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.app import command
from cli.errors import run_cli
from core.http import set_pacing_hook
from tests.arxiv_replay import serve_fulltext
from tests.replay import ReplayServer, Response
from warehouse import Warehouse

HTML_ID, SRC_ID = "2510.14430", "2502.07870"
GAP = 0.05


@pytest.fixture
def server(shared: Path) -> Iterator[ReplayServer]:
    with ReplayServer() as srv:
        serve_fulltext(srv, shared)
        for pid in (HTML_ID, SRC_ID):  # the papers' PDFs too, so `parse` has work to skip
            pdf = shared / f"fixtures/arxiv_fulltext/html/{HTML_ID}.pdf"
            srv.add(f"/pdf/{pid}v1", Response.file(pdf, "application/pdf"))
        yield srv


@pytest.fixture
def env(server: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "SCICURATE_ARXIV_API_URL": f"{server.url}/api/query",
        "SCICURATE_ARXIV_PDF_URL": f"{server.url}/pdf/",
        "SCICURATE_ARXIV_HTML_URL": f"{server.url}/html/",
        "SCICURATE_ARXIV_EPRINT_URL": f"{server.url}/e-print/",
        "SCICURATE_ARXIV_MIN_INTERVAL_S": str(GAP),
        "COLUMNS": "200",
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)


def _rows(home: Path, sql: str) -> list[tuple[object, ...]]:
    wh = Warehouse(home / "warehouse.duckdb")
    with wh.read() as con:
        return con.execute(sql).fetchall()


def test_crawl_fulltext_fills_documents_from_both_sources_and_parse_leaves_them(
    env: None, server: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    limits: list[str] = []
    previous = set_pacing_hook(limits.append)  # stands in for Prefect's global limit
    try:
        args = ["--home", str(tmp_path), "crawl", "arxiv", "--id", f"{HTML_ID}v1",
                "--id", f"{SRC_ID}v1", "--fulltext", "html,src,pdf"]  # fmt: skip
        assert run_cli(command(), args) == 0, capsys.readouterr().err
    finally:
        set_pacing_hook(previous)
    capsys.readouterr()
    docs = _rows(tmp_path, "SELECT paper_id, source, status FROM documents ORDER BY 1")
    assert docs == [(SRC_ID, "arxiv-src", "ok"), (HTML_ID, "arxiv-html", "ok")], docs
    files = _rows(
        tmp_path, "SELECT paper_id, kind, status FROM fulltext_files ORDER BY paper_id, kind"
    )
    assert files == [
        (SRC_ID, "html", "absent"),  # the "no HTML" page: marked, never a document
        (SRC_ID, "src", "ok"),
        (HTML_ID, "html", "ok"),
        (HTML_ID, "src", "quarantined"),  # a 404, retried after a backoff
    ]
    # documents.pdf_sha256 is the sha256 of the parsed file.
    sha = _rows(tmp_path, f"SELECT sha256 FROM fulltext_files WHERE paper_id = '{HTML_ID}' "
                "AND kind = 'html'")[0][0]  # fmt: skip
    assert _rows(tmp_path, f"SELECT pdf_sha256 FROM documents WHERE paper_id = '{HTML_ID}'") == [
        (sha,)
    ]
    best = _rows(tmp_path, "SELECT paper_id, source_key FROM best_documents ORDER BY 1")
    assert best == [(SRC_ID, "arxiv-src"), (HTML_ID, "arxiv-html")]
    # Politeness: API, HTML, e-print and PDF requests share one pacing, one connection and
    # the global "arxiv" limit.
    fulltext = [r for r in server.requests if r.path.startswith(("/html/", "/e-print/"))]
    assert len(fulltext) == 4
    assert server.min_gap() >= GAP - 0.01
    assert server.max_concurrent_connections == 1
    assert len(limits) == len(server.requests) and set(limits) == {"arxiv"}
    # A rerun fetches nothing: the absent HTML is not retried every run.
    before = len(server.requests)
    assert run_cli(command(), args) == 0
    capsys.readouterr()
    assert [r.path for r in server.requests[before:]] == ["/api/query"]
    # `parse` leaves papers with a better document alone.
    assert run_cli(command(), ["--home", str(tmp_path), "parse"]) == 0
    capsys.readouterr()
    assert _rows(tmp_path, "SELECT count(*) FROM documents WHERE source = 'pdf'") == [(0,)]
    # `datasets build cpt-corpus` takes each paper's text from its best document.
    assert run_cli(command(), ["--home", str(tmp_path), "datasets", "build", "cpt-corpus"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"cpt-corpus", out), out
    built = _rows(
        tmp_path,
        "SELECT count(*) FROM dataset_versions WHERE name = 'cpt-corpus'",
    )
    assert built == [(1,)]
    import pyarrow.parquet as pq

    parts = sorted((tmp_path / "datasets" / "cpt-corpus").rglob("*.parquet"))
    rows = [r for part in parts for r in pq.read_table(part).select(["paper_id", "parser"])
            .to_pylist()]  # fmt: skip
    best_parsers = _rows(
        tmp_path,
        "SELECT d.paper_id, d.parser FROM best_documents b JOIN documents d USING (doc_id)",
    )
    assert rows and {(r["paper_id"], r["parser"]) for r in rows} <= set(best_parsers), rows
    status_code = run_cli(command(), ["--home", str(tmp_path), "status", "--json"])
    assert status_code == 0
    status = json.loads(capsys.readouterr().out)
    assert {c["source"]: c["best"] for c in status["coverage"]} == {
        "arxiv-html": 1, "arxiv-src": 1,
    }  # fmt: skip
    # The report shows the same coverage.
    out = tmp_path / "report"
    assert run_cli(command(), ["--home", str(tmp_path), "report", "--out", str(out)]) == 0
    capsys.readouterr()
    page = next(out.rglob("*.html")).read_text()
    section = page.split("Documents by source", 1)[1].split("</section>", 1)[0]
    assert "arxiv-html" in section and "arxiv-src" in section, section
    # `parse --all-sources` parses their PDFs too; the best document stays the arXiv one.
    assert run_cli(command(), ["--home", str(tmp_path), "parse", "--all-sources"]) == 0
    assert "documents" in capsys.readouterr().out
    assert _rows(tmp_path, "SELECT count(*) > 0 FROM documents WHERE source = 'pdf'") == [(True,)]
    best = "SELECT d.source FROM best_documents JOIN documents d USING (doc_id)"
    assert set(_rows(tmp_path, best)) == {("arxiv-html",), ("arxiv-src",)}
