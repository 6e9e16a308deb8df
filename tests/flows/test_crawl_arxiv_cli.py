"""The crawl as users run it: the CLI against the replay server, killed and rerun."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.app import command
from cli.errors import run_cli
from demo.sample import sample_papers
from tests.arxiv_replay import serve_sample_oai, serve_sample_pdfs
from tests.flows.test_crawl_arxiv import snapshot
from tests.replay import Fault, ReplayServer
from warehouse import Warehouse

PAPERS = sample_papers(30, seed=11)
AI = [p for p in PAPERS if "cs.AI" in p.categories]
EXE = str(Path(sys.executable).with_name("scicurate"))
ARGS = ["crawl", "arxiv", "--category", "cs.AI", "--from", "2026-11-01", "--max", "50", "--pdfs"]


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as srv:
        serve_sample_oai(srv, PAPERS, page_size=10)
        serve_sample_pdfs(srv, PAPERS)
        yield srv


@pytest.fixture
def env(server: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "SCICURATE_ARXIV_OAI_URL": f"{server.url}/oai",
        "SCICURATE_ARXIV_PDF_URL": f"{server.url}/pdf/",
        "SCICURATE_ARXIV_MIN_INTERVAL_S": "0.02",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return {**os.environ, **values, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}


def test_crawl_then_status_shows_papers_and_pdfs(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(command(), ["--home", str(tmp_path), *ARGS]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"new\s*│\s*{len(AI)}\s*│", out), out
    assert run_cli(command(), ["--home", str(tmp_path), "status", "--json"]) == 0
    import json

    stages = {s["stage"]: s["count"] for s in json.loads(capsys.readouterr().out)["stages"]}
    assert stages["papers"] == len(AI)
    assert stages["pdfs ok"] == len(AI)
    before = snapshot(Warehouse(tmp_path / "warehouse.duckdb"))
    # A second identical run adds nothing.
    assert run_cli(command(), ["--home", str(tmp_path), *ARGS]) == 0
    capsys.readouterr()
    after = snapshot(Warehouse(tmp_path / "warehouse.duckdb"))
    assert after == before


def test_bad_arguments_are_clear(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_cli(command(), ["--home", str(tmp_path), "crawl", "arxiv", "--id", "../../etc"])
    assert code == 1 and "not an arXiv id" in capsys.readouterr().err
    code = run_cli(
        command(), ["--home", str(tmp_path), "crawl", "arxiv", "--category", "astrology"]
    )
    assert code == 1 and "unknown arXiv category" in capsys.readouterr().err
    code = run_cli(command(), ["--home", str(tmp_path), "crawl", "arxiv", "--from", "yesterday"])
    assert code == 1 and "--from must be a date" in capsys.readouterr().err


def _start(home: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [EXE, "--home", str(home), *ARGS],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(predicate: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("the kill point was never reached")
        time.sleep(0.01)


def _kill_mid_page(proc: subprocess.Popen[str], server: ReplayServer) -> None:
    query = {"verb": "ListRecords", "resumptionToken": "sample|11"}
    server.fault("/oai", Fault(delay=30), query=query)
    _wait_for(lambda: any(r.param("resumptionToken") == "sample|11" for r in server.requests))


def _kill_mid_pdf(proc: subprocess.Popen[str], server: ReplayServer) -> None:
    victim = f"/pdf/{AI[2].arxiv_id}{AI[2].latest}"
    server.fault(victim, Fault(delay=30))
    _wait_for(lambda: bool(server.requests_to(victim)))


def _kill_after_last_page(proc: subprocess.Popen[str], server: ReplayServer) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:  # the last page is stored; the watermark write comes next
        if line.startswith("stored page 3"):
            return
    raise AssertionError("the crawl ended before its last page")


@pytest.mark.parametrize(
    "kill_point",
    [_kill_mid_page, _kill_mid_pdf, _kill_after_last_page],
    ids=["mid-page", "mid-pdf", "between-page-and-watermark"],
)
def test_sigkill_and_rerun_equals_an_uninterrupted_run(
    env: dict[str, str], server: ReplayServer, tmp_path: Path, kill_point: object
) -> None:
    clean_home, crashed_home = tmp_path / "clean", tmp_path / "crashed"
    done = subprocess.run(
        [EXE, "--home", str(clean_home), *ARGS],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    proc = _start(crashed_home, env)
    try:
        kill_point(proc, server)  # type: ignore[operator]
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    server._routes = [r for r in server._routes]  # faults left unused are cleared below
    for route in server._routes:
        route.faults.clear()

    rerun = subprocess.run(
        [EXE, "--home", str(crashed_home), *ARGS],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    clean, crashed = (
        snapshot(Warehouse(clean_home / "warehouse.duckdb")),
        snapshot(Warehouse(crashed_home / "warehouse.duckdb")),
    )
    assert crashed == clean
    assert len(clean["papers"]) == len(AI) and len(clean["pdfs"]) == len(AI)
    pdf_files = sorted(
        p.relative_to(crashed_home) for p in (crashed_home / "pdfs").rglob("*") if p.is_file()
    )
    assert pdf_files == sorted(
        p.relative_to(clean_home) for p in (clean_home / "pdfs").rglob("*") if p.is_file()
    )
