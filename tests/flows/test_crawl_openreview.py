"""crawl-openreview end to end: storage, idempotence, arXiv links, PDFs, kill and rerun."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from core.http import Politeness
from core.records import Paper
from demo.sample import sample_papers
from jobs.crawl_openreview import OpenReviewConfig, crawl_openreview
from tests.arxiv_replay import cached_pdf
from tests.openreview_replay import PASSWORD, USER, V1_VENUE, V2_VENUE, serve_openreview
from tests.replay import Fault, ReplayServer, Response
from tests.warehouse.datasets.test_remote import s3  # noqa: F401 - the moto S3 fixture
from warehouse import Warehouse
from warehouse.papers import upsert_papers
from warehouse.runs import last_runs

PDF = cached_pdf(sample_papers(1)[0])
PDF_HASHES = [
    "c9e03e112ac11f84a5acb4a2bdedd97fe7ff422b",
    "e0b307e9b7220cc8ec5717503ac193aff6bb2737",
    "732c23523a944ddf229055ddcc37f83fb40c7fd9",
]


@pytest.fixture
def server(shared: Path) -> Iterator[ReplayServer]:
    with ReplayServer() as srv:
        srv.state = serve_openreview(srv, shared, require_login=True)  # type: ignore[attr-defined]
        for h in PDF_HASHES:
            srv.add(f"/pdf/{h}.pdf", Response(200, PDF, content_type="application/pdf"))
        yield srv


def config(server: ReplayServer) -> OpenReviewConfig:
    return OpenReviewConfig(
        api_url=f"{server.url}/api2", api_v1_url=f"{server.url}/api1", web_url=server.url,
        politeness=Politeness(min_interval=0.01, backoff_first=0.01, max_retry_wait=5),
        username=USER, password=SecretStr(PASSWORD),
    )  # fmt: skip


def dump(wh: Warehouse) -> dict[str, list[tuple[Any, ...]]]:
    with wh.read() as con:
        return {
            "papers": con.execute(
                "SELECT * EXCLUDE (first_seen, last_changed) FROM papers ORDER BY paper_id"
            ).fetchall(),
            "reviews": con.execute("SELECT * FROM reviews ORDER BY review_id").fetchall(),
            "pdfs": con.execute(
                "SELECT paper_id, path, sha256, status FROM pdfs ORDER BY ALL"
            ).fetchall(),
        }


def test_venue_is_stored_with_reviews_and_decisions(
    wh: Warehouse, server: ReplayServer, tmp_path: Path
) -> None:
    counts = crawl_openreview(wh, config(server), home=tmp_path, venues=[V2_VENUE], pdfs=True)
    assert counts.papers_new == 3 and counts.replies_new == 3 * 7
    assert counts.pdfs_ok == 3
    assert dict(counts.by_venue_decision) == {
        (V2_VENUE, "Reject"): 2, (V2_VENUE, "Accept (Spotlight)"): 1,
    }  # fmt: skip
    with wh.read() as con:
        kinds = dict(con.execute("SELECT kind, count(*) FROM reviews GROUP BY 1").fetchall())
        review = con.execute(
            "SELECT rating, confidence, soundness, presentation, contribution, "
            "content->>'questions', "
            "created IS NOT NULL FROM reviews WHERE review_id = 'Gj5JTAwdoyR0'"
        ).fetchall()
        decided = con.execute(
            "SELECT paper_id, decision, venueid FROM papers ORDER BY 1"
        ).fetchall()
    assert kinds == {"review": 9, "meta_review": 3, "decision": 3, "rebuttal": 3, "comment": 3}
    assert review == [
        (6.0, 4.0, 3.0, 3.0, 3.0, "How does the method scale to larger graphs?", True)
    ]
    # The decision note wins over what the venue id says (tVNZj27pb3 is "under review" there).
    assert ("openreview:tVNZj27pb3", "Reject", "ICLR.cc/2025/Conference/Submission") in decided
    assert (tmp_path / "pdfs/openreview/Gj/Gj5JTAwdoy/latest.pdf").read_bytes() == PDF
    [run] = [r for r in last_runs(wh) if r.flow == "crawl-openreview"]
    assert run.status == "completed" and run.counts["replies_new"] == 21


def test_rerun_is_idempotent_and_v1_venues_work(
    wh: Warehouse, server: ReplayServer, tmp_path: Path
) -> None:
    crawl_openreview(wh, config(server), home=tmp_path, venues=[V2_VENUE, V1_VENUE], pdfs=True)
    before = dump(wh)
    again = crawl_openreview(
        wh, config(server), home=tmp_path, venues=[V2_VENUE, V1_VENUE], pdfs=True
    )
    assert again.papers_new == again.replies_new == again.replies_updated == 0
    assert again.pdfs_ok == 0
    assert dump(wh) == before
    with wh.read() as con:
        [(v1_reviews,)] = con.execute(
            "SELECT count(*) FROM reviews WHERE kind = 'review' AND invitation LIKE 'ICLR.cc/2019%'"
        ).fetchall()
    assert v1_reviews == 18


def test_cross_links_to_arxiv(wh: Warehouse, server: ReplayServer, tmp_path: Path) -> None:
    upsert_papers(wh, [
        Paper(paper_id="2410.01234", source="arxiv-oai",
              title="Presto! Distilling steps and layers for accelerating music generation",
              authors_parsed=[["Novack", "Zachary", ""]]),
        Paper(paper_id="2410.09999", source="arxiv-oai", title="Presto! Something else",
              authors_parsed=[["Novack", "Zachary", ""]]),
    ])  # fmt: skip
    counts = crawl_openreview(wh, config(server), home=tmp_path, venues=[V2_VENUE])
    assert counts.linked_to_arxiv == 1
    with wh.read() as con:
        assert con.execute(
            "SELECT paper_id, arxiv_id FROM papers WHERE arxiv_id IS NOT NULL"
        ).fetchall() == [("openreview:Gj5JTAwdoy", "2410.01234")]


def test_pdf_captcha_is_quarantined(wh: Warehouse, server: ReplayServer, tmp_path: Path) -> None:
    server.fault(
        f"/pdf/{PDF_HASHES[0]}.pdf", Fault(status=200, body=b"<html>verify you are human</html>")
    )
    counts = crawl_openreview(wh, config(server), home=tmp_path, venues=[V2_VENUE], pdfs=True)
    assert (counts.pdfs_ok, counts.pdfs_quarantined) == (2, 1)


def test_malformed_page_fails_the_run_and_rerun_completes(
    wh: Warehouse, server: ReplayServer, tmp_path: Path
) -> None:
    query = {"invitation": f"{V2_VENUE}/-/Submission", "offset": "0"}
    server.fault("/api2/notes", Fault(status=200, body=b"<html>oops</html>"), query=query)
    with pytest.raises(Exception, match="invalid JSON"):
        crawl_openreview(wh, config(server), home=tmp_path, venues=[V2_VENUE])
    [run] = [r for r in last_runs(wh) if r.flow == "crawl-openreview"]
    assert run.status == "failed"
    counts = crawl_openreview(wh, config(server), home=tmp_path, venues=[V2_VENUE])
    assert counts.papers_new == 3


def test_killed_crawl_rerun_adds_no_duplicates(
    server: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        **os.environ,
        "SCICURATE_OPENREVIEW_API_URL": f"{server.url}/api2",
        "SCICURATE_OPENREVIEW_API_V1_URL": f"{server.url}/api1",
        "SCICURATE_OPENREVIEW_WEB_URL": server.url,
        "SCICURATE_OPENREVIEW_MIN_INTERVAL_S": "0.01",
        "OPENREVIEW_USERNAME": USER,
        "OPENREVIEW_PASSWORD": PASSWORD,
    }
    exe = str(Path(sys.executable).with_name("scicurate"))
    args = ["crawl", "openreview", "--venue", V2_VENUE, "--venue", V1_VENUE, "--pdfs"]
    clean = tmp_path / "clean"
    done = subprocess.run([exe, "--home", str(clean), *args], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert PASSWORD not in done.stdout + done.stderr

    victim = f"/pdf/{PDF_HASHES[1]}.pdf"
    server.fault(victim, Fault(delay=30))
    crashed = tmp_path / "crashed"
    proc = subprocess.Popen([exe, "--home", str(crashed), *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    while len(server.requests_to(victim)) < 2:  # the clean run made the first request
        assert time.monotonic() < deadline, "the kill point was never reached"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    for route in server._routes:
        route.faults.clear()
    rerun = subprocess.run([exe, "--home", str(crashed), *args], env=env, capture_output=True,
                           text=True, timeout=300)  # fmt: skip
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert dump(Warehouse(crashed / "warehouse.duckdb")) == dump(
        Warehouse(clean / "warehouse.duckdb")
    )


def _env(server: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCICURATE_OPENREVIEW_API_URL", f"{server.url}/api2")
    monkeypatch.setenv("SCICURATE_OPENREVIEW_API_V1_URL", f"{server.url}/api1")
    monkeypatch.setenv("SCICURATE_OPENREVIEW_WEB_URL", server.url)
    monkeypatch.setenv("SCICURATE_OPENREVIEW_MIN_INTERVAL_S", "0.01")
    monkeypatch.setenv("OPENREVIEW_USERNAME", USER)
    monkeypatch.setenv("OPENREVIEW_PASSWORD", PASSWORD)


def test_cli_crawl_then_structure(
    server: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from cli.app import command
    from cli.errors import run_cli

    _env(server, monkeypatch)
    home = ["--home", str(tmp_path)]
    assert run_cli(command(), [*home, "crawl", "openreview", "--venue", V2_VENUE, "--pdfs"]) == 0
    out = capsys.readouterr().out
    assert "Accept (Spotlight)" in out and "replies new 21" in out
    assert PASSWORD not in out
    assert run_cli(command(), [*home, "reviews", "structure"]) == 0
    assert "9 structured" in capsys.readouterr().out
    wh = Warehouse(tmp_path / "warehouse.duckdb")
    with wh.read() as con:
        [(n, filled)] = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE significance IS NOT NULL AND reasons_accept "
            "IS NOT NULL AND reasons_reject IS NOT NULL AND suggestions IS NOT NULL) "
            "FROM reviews WHERE kind = 'review'"
        ).fetchall()
    assert n == filled == 9
    code = run_cli(command(), [*home, "reviews", "structure", "--method", "llm"])
    assert code == 2 and "SCICURATE_LLM_URL" in capsys.readouterr().err


@pytest.mark.usefixtures("prefect_harness")
def test_prefect_flow_artifact_per_venue_and_decision(
    server: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.crawl_openreview import crawl_openreview_flow
    from tests.prefect_helpers import artifact_rows

    _env(server, monkeypatch)
    state = crawl_openreview_flow(venues=[V2_VENUE], pdfs=False, home=str(tmp_path),
                                  return_state=True)  # fmt: skip
    assert state.is_completed(), state.message
    assert state.result()["papers_new"] == 3

    rows = artifact_rows("crawl-openreview", state.state_details.flow_run_id)
    assert {(r["venue"], r["decision"]): r["papers"] for r in rows} == {
        (V2_VENUE, "Accept (Spotlight)"): 1, (V2_VENUE, "Reject"): 2,
    }  # fmt: skip


def test_cli_crawl_openreview_mirrors_pdfs_to_the_store(
    server: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], s3: dict[str, Any],  # noqa: F811
) -> None:  # fmt: skip
    """Regression: `crawl openreview` used to skip the mirror that `crawl arxiv` ran."""
    from cli.app import command
    from cli.errors import run_cli

    _env(server, monkeypatch)
    monkeypatch.setenv("SCICURATE_PDF_STORE", "s3://scicurate-test/pdf-store")
    monkeypatch.setenv("SCICURATE_S3_ENDPOINT_URL", s3["client_kwargs"]["endpoint_url"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    home = ["--home", str(tmp_path)]
    assert run_cli(command(), [*home, "crawl", "openreview", "--venue", V2_VENUE, "--pdfs"]) == 0
    out = capsys.readouterr().out
    assert "pdfs mirrored 3" in out
    with Warehouse(tmp_path / "warehouse.duckdb").read() as con:
        uris = [
            r[0] for r in con.execute("SELECT store_uri FROM pdfs WHERE status = 'ok'").fetchall()
        ]
    assert len(uris) == 3 and all(u.startswith("s3://scicurate-test/pdf-store/") for u in uris)
