"""The crawl-arxiv job end to end against the replay server: incremental, polite, resumable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.http import Politeness
from demo.sample import SamplePaper, sample_papers
from jobs.crawl_arxiv import HarvestScope, crawl_arxiv, scopes_for
from sources.errors import InvalidParameterError, MalformedResponseError
from tests.arxiv_replay import XML, serve_sample_oai, serve_sample_pdfs
from tests.replay import Fault, ReplayServer, Response
from warehouse import Warehouse
from warehouse.runs import last_runs

PAPERS = sample_papers(60)
AI = [p for p in PAPERS if "cs.AI" in p.categories]
GAP = 0.05
POLITE = Politeness(min_interval=GAP, backoff_first=0.01, max_retry_wait=10)


def snapshot(wh: Warehouse) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a crawl writes, minus wall-clock columns."""
    with wh.read() as con:
        return {
            "papers": con.execute(
                "SELECT * EXCLUDE (first_seen, last_changed) FROM papers ORDER BY paper_id"
            ).fetchall(),
            "pdfs": con.execute(
                "SELECT paper_id, version, path, sha256, bytes, pages, status, reason FROM pdfs "
                "ORDER BY ALL"
            ).fetchall(),
            "state": con.execute(
                "SELECT source, scope, watermark, cursor FROM crawl_state ORDER BY ALL"
            ).fetchall(),
            "rejects": con.execute(
                "SELECT source, line_no, reason FROM rejects ORDER BY ALL"
            ).fetchall(),
        }


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as srv:
        serve_sample_oai(srv, PAPERS, page_size=20)
        serve_sample_pdfs(srv, PAPERS)
        yield srv


def run(wh: Warehouse, srv: ReplayServer, home: Path, **kwargs: Any) -> Any:
    return crawl_arxiv(
        wh,
        home=home,
        oai_url=f"{srv.url}/oai",
        pdf_url=f"{srv.url}/pdf/",
        politeness=POLITE,
        **{"categories": ["cs.AI"], **kwargs},
    )


def test_scopes() -> None:
    assert scopes_for(["cs.AI", "cs.CV", "cs.LG"]) == [
        HarvestScope("cs", frozenset({"cs.AI", "cs.CV", "cs.LG"}))
    ]
    assert scopes_for(["cs", "cs.AI"]) == [HarvestScope("cs")]
    assert scopes_for(["hep-th", "math.GT", "cs:cs:AI"]) == [
        HarvestScope("cs:cs:AI"),
        HarvestScope("math", frozenset({"math.GT"})),
        HarvestScope("physics", frozenset({"hep-th"})),
    ]
    with pytest.raises(InvalidParameterError, match="unknown arXiv category"):
        scopes_for(["astrology"])


def test_category_crawl_then_rerun_adds_nothing(
    wh: Warehouse, server: ReplayServer, tmp_path: Path
) -> None:
    counts = run(wh, server, tmp_path, from_date="2026-11-01")
    assert counts.new == len(AI) and counts.updated == 0
    assert counts.skipped_other_categories == len(PAPERS) - len(AI)
    assert counts.pages == 3
    first = server.requests_to("/oai")[0]
    assert (first.param("set"), first.param("from"), first.param("metadataPrefix")) == (
        "cs",
        "2026-11-01",
        "arXivRaw",
    )
    state = snapshot(wh)
    [(source, scope, watermark, cursor)] = state["state"]
    assert (source, scope, cursor) == ("arxiv-oai", "cs|cs.AI", None)
    assert watermark is not None
    again = run(wh, server, tmp_path)
    assert (again.new, again.updated, again.unchanged) == (0, 0, len(AI))
    assert server.requests_to("/oai")[3].param("from") == watermark  # incremental
    assert snapshot(wh)["papers"] == state["papers"]
    [latest] = [r for r in last_runs(wh) if r.flow == "crawl-arxiv"]
    assert latest.status == "completed" and latest.counts["unchanged"] == len(AI)


def test_max_stops_and_the_next_run_continues(
    wh: Warehouse, server: ReplayServer, tmp_path: Path
) -> None:
    counts = run(wh, server, tmp_path, categories=["cs"], max_records=25)
    assert counts.new == 25
    [(_, _, watermark, cursor)] = snapshot(wh)["state"]
    assert watermark is None and cursor == "sample|21"  # page 2 is re-read next time
    rest = run(wh, server, tmp_path, categories=["cs"])
    assert rest.new == len(PAPERS) - 25 and rest.unchanged == 5
    assert server.requests_to("/oai")[2].param("resumptionToken") == "sample|21"


def test_expired_token_restarts_from_the_watermark(
    wh: Warehouse, server: ReplayServer, tmp_path: Path, shared: Path
) -> None:
    with wh.write() as con:
        con.execute(
            "INSERT INTO crawl_state (source, scope, watermark, cursor) "
            "VALUES ('arxiv-oai', 'cs|cs.AI', '2026-10-01', 'expired|1')"
        )
    bad = (
        shared / "fixtures/arxiv_oai/mikesaelim_ErrorResponseBadResumptionToken.xml"
    ).read_bytes()
    server.add(
        "/oai",
        Response(200, bad, content_type=XML),
        query={"verb": "ListRecords", "resumptionToken": "expired|1"},
    )
    counts = run(wh, server, tmp_path)
    assert counts.new == len(AI)
    restarted = server.requests_to("/oai")[1]
    assert restarted.param("from") == "2026-10-01" and restarted.param("resumptionToken") is None


def test_transient_faults_are_waited_out(
    wh: Warehouse, server: ReplayServer, tmp_path: Path
) -> None:
    first_page = {"verb": "ListRecords", "set": "cs"}
    second = {"verb": "ListRecords", "resumptionToken": "sample|21"}
    third = {"verb": "ListRecords", "resumptionToken": "sample|41"}
    server.fault("/oai", Fault(status=429), query=first_page)
    server.fault("/oai", Fault(status=503, headers={"Retry-After": "1"}), query=second)
    server.fault("/oai", Fault(reset_at=500), query=second)
    server.fault("/oai", Fault(truncate_at=800), query=third)
    counts = run(wh, server, tmp_path)
    assert counts.new == len(AI)
    tokens = [r.param("resumptionToken") for r in server.requests_to("/oai")]
    assert tokens == [None, None, "sample|21", "sample|21", "sample|21", "sample|41", "sample|41"]
    retry_after = server.requests_to("/oai")
    assert retry_after[3].time - retry_after[2].time >= 1.0
    assert server.min_gap("/oai") >= GAP - 0.01
    assert server.max_concurrent_connections == 1


@pytest.mark.parametrize(
    "body",
    [
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record><header>',
        b"<html><body>Service temporarily unavailable</body></html>",
        b"\x00\x01 not xml at all",
    ],
    ids=["truncated-xml", "html", "binary"],
)
def test_malformed_page_fails_cleanly_and_rerun_completes(
    wh: Warehouse, server: ReplayServer, tmp_path: Path, body: bytes
) -> None:
    clean_home = tmp_path / "clean"
    clean = Warehouse(clean_home / "w.duckdb")
    from warehouse import migrate

    migrate(clean)
    run(clean, server, clean_home)

    server.fault(
        "/oai",
        Fault(status=200, body=body),
        query={"verb": "ListRecords", "resumptionToken": "sample|41"},
    )
    with pytest.raises(MalformedResponseError):
        run(wh, server, tmp_path)
    [failed] = [r for r in last_runs(wh) if r.flow == "crawl-arxiv"]
    assert failed.status == "failed" and "MalformedResponseError" in (failed.error or "")
    [(_, _, watermark, cursor)] = snapshot(wh)["state"]
    assert watermark is None and cursor == "sample|41"  # pages 1-2 kept, page 3 to redo
    run(wh, server, tmp_path)
    assert snapshot(wh)["papers"] == snapshot(clean)["papers"]


def test_pdfs_for_the_harvested_papers(wh: Warehouse, server: ReplayServer, tmp_path: Path) -> None:
    bad: SamplePaper = AI[0]
    server.fault(
        f"/pdf/{bad.arxiv_id}{bad.latest}", Fault(status=200, body=b"<html>captcha</html>")
    )
    counts = run(wh, server, tmp_path, pdfs=True)
    assert counts.pdfs_ok == len(AI) - 1 and counts.pdfs_quarantined == 1
    pdf_requests = [r for r in server.requests if r.path.startswith("/pdf/")]
    assert len(pdf_requests) == len(AI)
    assert server.max_concurrent_connections == 1
    again = run(wh, server, tmp_path, pdfs=True)
    assert again.new == 0 and again.pdfs_ok == 0  # quarantined one is not due yet
    assert len([r for r in server.requests if r.path.startswith("/pdf/")]) == len(AI)


@pytest.mark.usefixtures("prefect_harness")
def test_prefect_flow_records_run_and_artifact(
    server: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.crawl_arxiv import crawl_arxiv_flow
    from tests.prefect_helpers import artifact_markdown, artifact_rows

    monkeypatch.setenv("SCICURATE_ARXIV_OAI_URL", f"{server.url}/oai")
    monkeypatch.setenv("SCICURATE_ARXIV_PDF_URL", f"{server.url}/pdf/")
    monkeypatch.setenv("SCICURATE_ARXIV_MIN_INTERVAL_S", "0.01")
    state = crawl_arxiv_flow(
        categories=["cs.AI"],
        from_date="2026-11-01",
        max_records=10,
        pdfs=True,
        home=str(tmp_path),
        return_state=True,
    )
    assert state.is_completed(), state.message
    result = state.result()
    assert result["new"] == 10 and result["pdfs_ok"] == 10
    wh = Warehouse(tmp_path / "warehouse.duckdb")
    [run_row] = [r for r in last_runs(wh) if r.flow == "crawl-arxiv"]
    assert run_row.status == "completed" and run_row.counts["pdfs_ok"] == 10
    assert run_row.run_id == str(state.state_details.flow_run_id)  # lineage = Prefect's id
    # The digest that followed in the same flow run is a run of its own, not an overwrite.
    [digest_run] = [r for r in last_runs(wh) if r.flow == "digest"]
    assert digest_run.run_id != run_row.run_id and digest_run.counts["papers"] >= 1

    rows = artifact_rows("crawl-arxiv", state.state_details.flow_run_id)
    assert {r["count"]: r["value"] for r in rows}["new"] == 10
    # The day's digest: the newest announcement day among the crawled papers.
    [digest_file] = (tmp_path / "digests").glob("*.md")
    text = artifact_markdown("digest-summary", state.state_details.flow_run_id)
    assert text == digest_file.read_text()
    assert text.startswith(f"# scicurate digest: arXiv papers announced {digest_file.stem}")
    assert "https://arxiv.org/abs/" in text


def test_retry_condition_is_transient_only() -> None:
    from prefect.states import Failed

    from flows.steps import retry_transient_only
    from sources.errors import OAIError, TransientHTTPError

    assert retry_transient_only(None, None, Failed(data=TransientHTTPError("503")))
    assert not retry_transient_only(None, None, Failed(data=OAIError("badArgument", "x")))
    assert not retry_transient_only(None, None, Failed(data=ValueError("x")))
    # The one marker covers every transient root, and nothing else.
    from annotation.errors import LabelStudioAPIError, LabelStudioUnavailableError
    from warehouse.errors import CorruptDatabaseError, LockTimeoutError

    assert retry_transient_only(None, None, Failed(data=LockTimeoutError("locked")))
    assert retry_transient_only(None, None, Failed(data=LabelStudioUnavailableError("down")))
    assert not retry_transient_only(None, None, Failed(data=CorruptDatabaseError("bad")))
    assert not retry_transient_only(None, None, Failed(data=LabelStudioAPIError("x", 400, "")))


@pytest.mark.usefixtures("prefect_harness")
def test_the_scheduled_flow_refuses_a_bad_date_as_the_cli_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.app import command
    from cli.errors import run_cli
    from flows.crawl_arxiv import crawl_arxiv_flow

    home = tmp_path / "home"
    code = run_cli(command(), ["--home", str(home), "crawl", "arxiv", "--from", "2026-13-45"])
    err = capsys.readouterr().err
    assert code == 1 and "--from must be a date like 2026-11-01" in err
    state = crawl_arxiv_flow(from_date="2026-13-45", pdfs=False, home=str(home), return_state=True)
    assert state.is_failed()
    with pytest.raises(InvalidParameterError, match="--from must be a date like 2026-11-01"):
        state.result()
    wh = Warehouse(home / "warehouse.duckdb")
    assert [r.flow for r in last_runs(wh)] == []  # refused before anything was recorded


def test_id_lookup_with_requested_pdf_versions(wh: Warehouse, tmp_path: Path, shared: Path) -> None:
    from jobs.crawl_arxiv import crawl_arxiv_ids
    from jobs.steps import InlineSteps
    from tests.arxiv_replay import cached_pdf, serve_api_recordings

    pdf = cached_pdf(PAPERS[0])
    with ReplayServer() as srv:
        serve_api_recordings(srv, shared)
        srv.add("/pdf/2104.12255v1", Response(200, pdf, content_type="application/pdf"))
        srv.add("/pdf/1605.08386v1", Response(200, pdf, content_type="application/pdf"))
        lines: list[str] = []
        total = 0
        for ids in (["2104.12255v1"], ["1605.08386"], ["0000.0000"]):
            counts = crawl_arxiv_ids(
                wh, home=tmp_path, api_url=f"{srv.url}/api/query", pdf_url=f"{srv.url}/pdf/",
                politeness=POLITE, ids=ids, pdfs=True, steps=InlineSteps(lines.append),
            )  # fmt: skip
            total += counts.pdfs_ok
    assert total == 2, lines
    assert "0000.0000: not found on arXiv" in lines
    with wh.read() as con:
        rows = con.execute('SELECT paper_id, "version", status FROM pdfs ORDER BY 1').fetchall()
    assert rows == [("1605.08386", "v1", "ok"), ("2104.12255", "v1", "ok")]
    assert (tmp_path / "pdfs/2104/2104.12255/v1.pdf").read_bytes() == pdf
    assert (tmp_path / "pdfs/1605/1605.08386/v1.pdf").is_file()


class _SlowPages:
    """A harvester over sample pages that, before serving each later page, asks whether
    another process can write to the warehouse meanwhile."""

    base_url = "memory://oai"

    def __init__(self, wh: Warehouse) -> None:
        from demo.sample import oai_pages

        self.pages = dict(oai_pages(PAPERS, page_size=20))
        self.wh = wh
        self.others_could_write: list[bool] = []

    def list_records(self, *, resumption_token: str | None = None, **_: object) -> Any:
        from sources.arxiv_oai import parse_list_records
        from tests.warehouse.test_held_writer import _other_process_can_write

        if resumption_token is not None:
            self.others_could_write.append(_other_process_can_write(self.wh))
        return parse_list_records(self.pages[resumption_token])


@pytest.mark.parametrize("quick_page_s", [0.0, 3600.0])
def test_warehouse_is_not_held_while_waiting_for_slow_pages(
    wh: Warehouse, monkeypatch: pytest.MonkeyPatch, quick_page_s: float
) -> None:
    from jobs import crawl_arxiv as job

    monkeypatch.setattr(job, "QUICK_PAGE_S", quick_page_s)
    pages = _SlowPages(wh)
    counts = job.harvest(wh, pages, ["cs"], echo=lambda _: None)  # type: ignore[arg-type]
    assert counts.new == len(PAPERS) and counts.pages == 3
    # Every page counted as slow (0 s): the connection is let go before each fetch. Every page
    # quick: it is held across pages, and other writers wait for the harvest to end.
    assert pages.others_could_write == [quick_page_s == 0.0] * 2
