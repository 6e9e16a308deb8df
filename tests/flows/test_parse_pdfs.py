"""parse-pdfs end to end: crawled PDFs -> documents/elements, through the flow and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from cli.app import command
from cli.errors import run_cli
from demo.sample import sample_papers
from jobs.parse_pdfs import parse_pdfs
from parsers.pymupdf import PARSER_VERSION, PyMuPDFOptions
from parsers.run import ParseSpec
from tests.arxiv_replay import crawl_sample
from tests.parsers import hostile
from tests.prefect_helpers import artifact_rows
from warehouse import Warehouse, migrate

PAPERS = sample_papers(6)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A home with six crawled, verified PDFs, one of which is then corrupted on disk."""
    wh = Warehouse(tmp_path / "warehouse.duckdb")
    migrate(wh)
    crawl_sample(wh, tmp_path, PAPERS)
    yield tmp_path


def _corrupt_one(wh: Warehouse, home: Path) -> str:
    with wh.read() as con:
        paper_id, path = con.execute(
            "SELECT paper_id, path FROM pdfs WHERE status = 'ok' ORDER BY paper_id LIMIT 1"
        ).fetchone()  # type: ignore[misc]
    hostile.truncated(home / path)
    return str(paper_id)


def test_parse_fills_documents_and_elements_and_rerun_adds_nothing(home: Path) -> None:
    wh = Warehouse(home / "warehouse.duckdb")
    broken = _corrupt_one(wh, home)
    spec = ParseSpec(wall_s=30)
    counts = parse_pdfs(wh, home, spec, workers=2)
    assert counts.documents == 6 and counts.ok == 5 and counts.failed == 1
    assert counts.pages == 10 and counts.pages_per_s > 0
    assert counts.failures == {"truncated": 1}
    with wh.read() as con:
        rows = con.execute(
            "SELECT paper_id, status, reason, pages, parser, json_extract_string(quality, "
            "'$.language') FROM documents ORDER BY paper_id"
        ).fetchall()
        assert len(rows) == 6
        failed = [r for r in rows if r[1] == "failed"]
        assert failed == [(broken, "failed", "truncated: no %%EOF trailer", 0, "pymupdf", None)]
        assert all(r[3] == 2 and r[5] == "en" for r in rows if r[1] == "ok")
        kinds = dict(
            con.execute(
                "SELECT kind, count(*) FROM elements JOIN documents USING (doc_id) "
                "WHERE paper_id <> ? GROUP BY kind",
                [broken],
            ).fetchall()
        )
        assert kinds["title"] == 5 and kinds["table"] == 5 and kinds["equation"] == 5
        assert kinds["heading"] >= 5 * 6 and kinds["reference"] == 10
        assert con.execute("SELECT count(*) FROM elements JOIN documents USING (doc_id) "
                           "WHERE status = 'failed'").fetchone() == (0,)  # fmt: skip
        before = con.execute("SELECT count(*) FROM elements").fetchone()

    again = parse_pdfs(wh, home, spec, workers=2)
    assert again.documents == 0  # everything parsed by this version already
    with wh.read() as con:
        assert con.execute("SELECT count(*) FROM documents").fetchone() == (6,)
        assert con.execute("SELECT count(*) FROM elements").fetchone() == before


def test_a_parser_version_bump_reparses(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wh = Warehouse(home / "warehouse.duckdb")
    spec = ParseSpec()
    assert parse_pdfs(wh, home, spec, limit=2).documents == 2
    assert parse_pdfs(wh, home, spec, paper_ids=[PAPERS[5].arxiv_id]).documents == 1
    monkeypatch.setattr("parsers.pymupdf.PyMuPDFParser.version", "9.9+test")
    bumped = parse_pdfs(wh, home, replace(spec, pymupdf=PyMuPDFOptions(tables=False)))
    assert bumped.documents == 6 and bumped.parser_version == "9.9+test"
    with wh.read() as con:
        assert con.execute(
            "SELECT parser_version, count(*) FROM documents GROUP BY 1 ORDER BY 1"
        ).fetchall() == [(f"{PARSER_VERSION}+pymupdf{_bind()}", 3), ("9.9+test", 6)]


def _bind() -> str:
    import pymupdf

    return str(pymupdf.VersionBind)


def test_parse_flow_records_run_and_artifact(home: Path, prefect_harness: None) -> None:
    from prefect import get_client  # noqa: F401 - the harness is up

    from flows.parse_pdfs import parse_pdfs_flow

    wh = Warehouse(home / "warehouse.duckdb")
    _corrupt_one(wh, home)
    state = parse_pdfs_flow(home=str(home), workers=2, return_state=True)
    summary = state.result()
    assert summary["documents"] == 6 and summary["failed"] == 1
    rows = {
        r["what"]: r["value"] for r in artifact_rows("parse-pdfs", state.state_details.flow_run_id)
    }
    assert rows["documents"] == 6 and rows["ok"] == 5 and rows["failed: truncated"] == 1
    assert rows["pages"] == 10 and float(rows["pages_per_s"]) > 0
    assert any(k.startswith("quality ") for k in rows)
    with wh.read() as con:
        run = con.execute(
            "SELECT status, json_extract(counts, '$.documents')::INT, run_id FROM runs "
            "WHERE flow = 'parse-pdfs'"
        ).fetchone()
        assert run is not None and run[:2] == ("completed", 6)
        assert con.execute(
            "SELECT count(DISTINCT run_id) FROM documents WHERE run_id = ?", [run[2]]
        ).fetchone() == (1,)


def test_cli_parse_and_parse_file(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_cli(command(), ["--home", str(home), "parse", "--limit", "3", "--workers", "2"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "documents" in out and "pages/s" in out
    code = run_cli(command(), ["--home", str(home), "parse"])
    out, _ = capsys.readouterr()
    assert code == 0 and "documents" in out  # the other three
    code = run_cli(command(), ["--home", str(home), "parse"])
    out, _ = capsys.readouterr()
    assert code == 0 and "Nothing to parse" in out

    pdf = tmp_path / "one.pdf"
    pdf.write_bytes(hostile.good_pdf())
    code = run_cli(command(), ["--home", str(home), "parse", "file", str(pdf)])
    out, _ = capsys.readouterr()
    assert code == 0
    assert out.startswith("# ") and "## 1 Introduction" in out and "| Baseline |" in out
    code = run_cli(command(), ["--home", str(home), "parse", "file", str(pdf), "--format", "json"])
    out, _ = capsys.readouterr()
    import json

    assert code == 0 and json.loads(out)["provenance"]["parser"] == "pymupdf"

    bad = hostile.encrypted(tmp_path / "locked.pdf")
    code = run_cli(command(), ["--home", str(home), "parse", "file", str(bad)])
    _, err = capsys.readouterr()
    assert code == 1
    assert "encrypted PDF" in err
    code = run_cli(command(), ["--home", str(home), "parse", "--parser", "tesseract"])
    _, err = capsys.readouterr()
    assert code == 2 and "choose one of" in err


def test_crawl_parse_then_build_cpt_corpus(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue-6 path: crawled PDFs, parsed, become a published cpt-corpus version."""
    wh = Warehouse(home / "warehouse.duckdb")
    parse_pdfs(wh, home, ParseSpec(), workers=2)
    code = run_cli(command(), ["--home", str(home), "datasets", "build", "cpt-corpus"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "cpt-corpus v1: published" in out
    from warehouse.datasets import load

    table = load(home / "datasets", "cpt-corpus", 1)
    with wh.read() as con:
        kept = con.execute("SELECT count(*) FROM documents WHERE status = 'ok'").fetchone()
        drops = con.execute(
            "SELECT count(*) FROM dataset_drops WHERE dataset = 'cpt-corpus'"
        ).fetchone()
    assert kept is not None and drops is not None
    assert table.num_rows + drops[0] == kept[0] == 6
    texts = table.column("text").to_pylist()
    assert all(t.startswith("# ") and "## 1 Introduction" in t for t in texts)
