"""`crawl arxiv` against a hostile or broken OAI-PMH server, served over real HTTP on 127.0.0.1:
a list that never ends is stopped with a named error and leaves the watermark alone, `--max`
bounds a run whatever the pages hold, and an HTML page is called HTML."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from demo.sample import oai_pages, sample_papers
from sources.arxiv_oai import MAX_EMPTY_PAGES
from tests.arxiv_replay import XML, serve_sample_oai
from tests.hostile.conftest import Outcome
from tests.replay import ReplayServer, Request, Response
from warehouse import Warehouse

Cli = Callable[..., Outcome]
OLD = sample_papers(30, seed=11)  # harvested by a first, clean run
NEW = sample_papers(10, seed=12)  # the first page of the broken server's list
WATERMARK = "2026-11-20"
FIRST = {"verb": "ListRecords", "set": "cs"}  # the first page of the cs set


def _page(token: str, records: bytes = b"") -> bytes:
    """A ListRecords page holding ``records`` (arXivRaw record elements) and ``token``."""
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        b"<responseDate>2026-11-21T00:00:00Z</responseDate>"
        b'<request verb="ListRecords">https://oaipmh.arxiv.org/oai</request>'
        b"<ListRecords>" + records + b'<resumptionToken cursor="0" completeListSize="5000">'
        + token.encode() + b"</resumptionToken></ListRecords></OAI-PMH>"
    )  # fmt: skip


def _records(papers: list[object]) -> bytes:
    """The record elements of the sample's (single) page for ``papers``."""
    [(_, body)] = oai_pages(papers, page_size=len(papers))  # type: ignore[arg-type]
    return body[body.index(b"<record>") : body.rindex(b"</record>") + len(b"</record>")]


def _by_token(answer: Callable[[str], bytes]) -> Callable[[Request], Response]:
    def handle(req: Request) -> Response:
        return Response(200, answer(req.param("resumptionToken") or ""), content_type=XML)

    return handle


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[ReplayServer], None]:
    monkeypatch.chdir(tmp_path)  # no scicurate.toml of the caller's

    def point_at(srv: ReplayServer) -> None:
        monkeypatch.setenv("SCICURATE_ARXIV_OAI_URL", f"{srv.url}/oai")
        monkeypatch.setenv("SCICURATE_ARXIV_PDF_URL", f"{srv.url}/pdf/")
        monkeypatch.setenv("SCICURATE_ARXIV_MIN_INTERVAL_S", "0")

    return point_at


@pytest.fixture
def home(tmp_path: Path, cli: Cli, env: Callable[[ReplayServer], None]) -> Iterator[Path]:
    """A catalog holding OLD, harvested to the watermark WATERMARK by a clean run."""
    home = tmp_path / "home"
    with ReplayServer() as good:
        serve_sample_oai(good, OLD, page_size=10)
        env(good)
        result = _crawl(cli, home, "--until", WATERMARK)
        assert result.code == 0, result.err
    assert _state(home) == [("cs|", WATERMARK, None)]
    yield home


def _rows(home: Path, sql: str) -> list[tuple[object, ...]]:
    with Warehouse(home / "warehouse.duckdb").read() as con:
        return con.execute(sql).fetchall()


def _state(home: Path) -> list[tuple[object, ...]]:
    return _rows(home, "SELECT scope, watermark, cursor FROM crawl_state ORDER BY 1")


def _papers(home: Path) -> set[str]:
    rows = _rows(home, "SELECT paper_id FROM papers")
    assert len(rows) == len({r[0] for r in rows})  # nothing duplicated
    return {str(r[0]) for r in rows}


def _last_crawl(home: Path) -> tuple[object, ...]:
    [row] = _rows(
        home, "SELECT status, error FROM runs WHERE flow = 'crawl-arxiv' ORDER BY started_at DESC "
        "LIMIT 1",
    )  # fmt: skip
    return row


def _crawl(cli: Cli, home: Path, *args: str) -> Outcome:
    return cli("--home", str(home), "crawl", "arxiv", "--category", "cs", *args)


def test_a_repeated_resumption_token_stops_and_leaves_the_watermark(
    cli: Cli, home: Path, env: Callable[[ReplayServer], None]
) -> None:
    with ReplayServer() as srv:
        first = _page("loop|1", _records(NEW))
        srv.add("/oai", Response(200, first, content_type=XML), query=FIRST)
        srv.add("/oai", _by_token(lambda token: _page(token)))  # the same token, forever
        env(srv)
        result = _crawl(cli, home)
        asked = len(srv.requests_to("/oai"))
    assert result.code == 1
    line = result.one_line_error()
    assert "sent resumption token 'loop|1' again" in line, line
    assert asked == 2  # the first page, then the page that handed the same token back
    # The first page is stored (nothing lost), the watermark has not moved.
    assert _papers(home) == {p.arxiv_id for p in [*OLD, *NEW]}
    assert _state(home) == [("cs|", WATERMARK, "loop|1")]
    status, error = _last_crawl(home)
    assert status == "failed" and str(error).startswith("HarvestLoopError")
    # A rerun meets the same loop: it stops again, stores nothing twice, moves nothing.
    with ReplayServer() as srv:
        srv.add("/oai", _by_token(lambda token: _page(token)))
        env(srv)
        again = _crawl(cli, home)
    assert again.code == 1 and "again" in again.one_line_error()
    assert _papers(home) == {p.arxiv_id for p in [*OLD, *NEW]}
    assert _state(home) == [("cs|", WATERMARK, "loop|1")]


def test_empty_pages_with_the_same_token_are_not_followed_even_with_max(
    cli: Cli, tmp_path: Path, env: Callable[[ReplayServer], None]
) -> None:
    """The reported case: empty pages and one token forever, with --max (which bounds
    records, and there are none)."""
    home = tmp_path / "home"
    with ReplayServer() as srv:
        srv.add("/oai", Response(200, _page("same"), content_type=XML), query=FIRST)
        srv.add("/oai", _by_token(lambda token: _page("same")))
        env(srv)
        result = _crawl(cli, home, "--max", "5")
        asked = len(srv.requests_to("/oai"))
    assert result.code == 1
    assert "resumption token 'same' again" in result.one_line_error()
    assert asked == 2
    assert _papers(home) == set()
    assert _rows(home, "SELECT count(*) FROM crawl_state WHERE watermark IS NOT NULL") == [(0,)]


def test_a_run_of_empty_pages_with_fresh_tokens_is_stopped(
    cli: Cli, home: Path, env: Callable[[ReplayServer], None]
) -> None:
    counter = itertools.count(1)
    with ReplayServer() as srv:
        srv.add("/oai", _by_token(lambda _token: _page(f"fresh|{next(counter)}")))
        env(srv)
        result = _crawl(cli, home)
        asked = len(srv.requests_to("/oai"))
    assert result.code == 1
    assert f"sent {MAX_EMPTY_PAGES} empty pages in a row" in result.one_line_error()
    assert asked == MAX_EMPTY_PAGES
    assert _papers(home) == {p.arxiv_id for p in OLD}
    [(scope, watermark, _cursor)] = _state(home)
    assert (scope, watermark) == ("cs|", WATERMARK)


def test_max_stops_at_a_page_that_reaches_it_before_any_empty_page(
    cli: Cli, tmp_path: Path, env: Callable[[ReplayServer], None]
) -> None:
    """A first page of exactly --max records, then empty pages that point on forever: the run
    stops after that page, keeps its place, and does not move the watermark."""
    home = tmp_path / "home"
    counter = itertools.count(2)
    with ReplayServer() as srv:
        srv.add("/oai", Response(200, _page("e|1", _records(NEW)), content_type=XML), query=FIRST)
        srv.add("/oai", _by_token(lambda _token: _page(f"e|{next(counter)}")))
        env(srv)
        result = _crawl(cli, home, "--max", str(len(NEW)))
        asked = len(srv.requests_to("/oai"))
    assert result.code == 0, result.err
    assert "stopped at --max" in result.out
    assert asked == 1
    assert _papers(home) == {p.arxiv_id for p in NEW}
    assert _state(home) == [("cs|", None, "e|1")]  # the next run continues after that page


def test_an_html_page_is_called_html_not_a_dtd(
    cli: Cli, home: Path, env: Callable[[ReplayServer], None]
) -> None:
    html = (
        b"<!DOCTYPE html>\n<html><head><title>Service unavailable</title></head>"
        b"<body><h1>We are down for maintenance</h1></body></html>"
    )
    with ReplayServer() as srv:
        srv.add("/oai", Response(200, html, content_type="text/html"))
        env(srv)
        result = _crawl(cli, home)
    assert result.code == 1
    line = result.one_line_error()
    assert "the server sent an HTML page, not OAI-PMH" in line, line
    assert "DTD" not in line
    assert _papers(home) == {p.arxiv_id for p in OLD}
    assert _state(home) == [("cs|", WATERMARK, None)]


def test_a_hostile_record_id_is_an_escaped_excerpt_in_its_reason(
    cli: Cli, tmp_path: Path, env: Callable[[ReplayServer], None]
) -> None:
    """An id with a right-to-left override: the reject reason quotes it escaped, and neither
    `status` nor `warehouse sql` prints the raw character."""
    home = tmp_path / "home"
    hostile = "../etc/\u202egnp.exe"
    # The first record's header identifier and arXiv id both become the hostile text.
    records = _records(NEW[:2]).replace(NEW[0].arxiv_id.encode(), hostile.encode(), 2)
    with ReplayServer() as srv:
        srv.add("/oai", Response(200, _page("", records), content_type=XML), query=FIRST)
        env(srv)
        result = _crawl(cli, home)
    assert result.code == 0, result.err
    assert _papers(home) == {NEW[1].arxiv_id}
    [(raw, reason)] = _rows(home, "SELECT raw, reason FROM rejects")
    assert raw == f"oai:arXiv.org:{hostile}"  # the input, kept as it came
    assert "\u202e" not in str(reason) and "\\u202e" in str(reason)  # the reason, escaped
    status = cli("--home", str(home), "status")
    assert status.code == 0 and "\u202e" not in status.out
    sql = ("warehouse", "sql", "SELECT raw, reason FROM rejects")
    for shown in (cli("--home", str(home), *sql), cli("--home", str(home), *sql, "--csv")):
        assert shown.code == 0, shown.err
        assert "\u202e" not in shown.out and "\\u202e" in shown.out
