"""Contract tests: the real recorded arXiv API responses, replayed over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import arxiv
import pytest

from core.http import PoliteClient, Politeness
from sources.arxiv_api import ArxivAPI
from sources.errors import (
    ArxivAPIError,
    InvalidIdError,
    MalformedResponseError,
    ResultLimitError,
)
from tests.arxiv_replay import serve_api_recordings
from tests.replay import Fault, ReplayServer, Response

GAP = 0.2


@pytest.fixture
def server(shared: Path) -> Iterator[ReplayServer]:
    with ReplayServer() as srv:
        serve_api_recordings(srv, shared)
        yield srv


def api(server: ReplayServer, page_size: int = 100) -> ArxivAPI:
    http = PoliteClient(Politeness(min_interval=GAP, backoff_first=0.01, max_retry_wait=5))
    return ArxivAPI(http, f"{server.url}/api/query", page_size=page_size)


def test_versioned_id_lookup_every_field(server: ReplayServer) -> None:
    [paper] = api(server).lookup(["2104.12255v1"])
    assert paper.paper_id == "2104.12255"
    assert paper.source == "arxiv-api"
    assert paper.title == "0"
    assert paper.abstract is not None
    assert paper.abstract.startswith("What is the funniest number in cryptography? 0.")
    assert paper.abstract.endswith("awarded $35,000 in total for the reported bugs.")
    assert paper.authors == "Quan Thoi Minh Nguyen"
    assert paper.authors_parsed == [["Nguyen", "Quan Thoi Minh", ""]]
    assert paper.categories == ["cs.CR"]
    assert paper.primary_category == "cs.CR"
    assert paper.published == datetime(2021, 4, 20, 16, 7, 14)
    assert paper.updated == datetime(2021, 4, 20, 16, 7, 14)
    assert [v.version for v in paper.versions] == ["v1"]
    assert paper.comments is None and paper.journal_ref is None and paper.doi is None
    assert paper.submitter is None and paper.license is None  # the API does not carry them


def test_old_style_ids(server: ReplayServer) -> None:
    client = api(server)
    [astro] = client.lookup(["astro-ph/0601001"])
    assert astro.paper_id == "astro-ph/0601001"
    assert astro.title == (
        "Frequency of Hot Jupiters and Very Hot Jupiters from the OGLE-III Transit Surveys "
        "Toward the Galactic Bulge and Carina"
    )
    assert astro.authors == "Andrew Gould, Susan Dorsher, B. Scott Gaudi, Andrzej Udalski"
    assert astro.journal_ref == "ActaAstron.56:1-50,2006"
    assert astro.comments is not None and astro.comments.startswith("62 pages including 16 figures")
    assert astro.categories == ["astro-ph"]
    [quant] = client.lookup(["quant-ph/0201082v1"])
    assert quant.paper_id == "quant-ph/0201082"
    assert quant.categories == ["quant-ph", "cs.PL"]
    assert quant.primary_category == "quant-ph"
    assert quant.published == datetime(2002, 1, 18, 15, 8, 5)


def test_more_id_lookups(server: ReplayServer) -> None:
    client = api(server)
    [a] = client.lookup(["1605.08386"])
    [b] = client.lookup(["1707.08567"])
    assert a.paper_id == "1605.08386" and a.title
    assert (
        b.title
        == "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"
    )
    assert b.comments == "44 pages, editors for the proceedings: Yanling Chen and A. J. Han Vinck"
    assert b.categories == ["cs.IT"] and b.doi is None
    assert b.authors_parsed[0] == ["Immink", "Kees A. Schouhamer", ""]
    assert ["de With", "Peter H. N.", ""] in b.authors_parsed
    # A list in which one id does not exist returns the one that does.
    assert [p.paper_id for p in client.lookup(["0808.05394", "1707.08567"])] == ["1707.08567"]


def test_empty_result_is_not_an_error(server: ReplayServer) -> None:
    assert api(server).lookup(["0000.0000"]) == []
    assert api(server).lookup(["0808.05394"]) == []


def test_error_feed_becomes_a_named_error(server: ReplayServer) -> None:
    with pytest.raises(ArxivAPIError, match="incorrect id format for abc"):
        list(api(server).results(arxiv.Search(id_list=["abc"])))
    # Validated ids never reach the server.
    before = len(server.requests)
    with pytest.raises(InvalidIdError):
        api(server).lookup(["abc"])
    assert len(server.requests) == before


def test_paging_across_start_offsets(server: ReplayServer) -> None:
    papers = list(api(server, page_size=10).search("testing", max_results=60))
    assert len(papers) == 60
    assert len({p.paper_id for p in papers}) == 60
    starts = [r.param("start") for r in server.requests_to("/api/query")]
    assert starts == ["0", "10", "20", "30", "40", "50"]
    assert all(r.param("max_results") == "10" for r in server.requests_to("/api/query"))
    assert server.min_gap("/api/query") >= GAP - 0.01
    assert server.max_concurrent_connections == 1


def test_limits_are_clear_errors(server: ReplayServer) -> None:
    with pytest.raises(ResultLimitError, match="2000"):
        api(server, page_size=2001)
    with pytest.raises(ResultLimitError, match="30000"):
        list(api(server).results(arxiv.Search(query="x", max_results=30001)))
    with pytest.raises(ResultLimitError):
        list(api(server).results(arxiv.Search(query="x", max_results=None)))


def test_transient_faults_then_success(server: ReplayServer) -> None:
    route = {
        "search_query": "",
        "id_list": "2104.12255v1",
        "sortBy": "relevance",
        "sortOrder": "descending",
        "start": "0",
        "max_results": "100",
    }
    server.fault("/api/query", Fault(status=503, headers={"Retry-After": "0"}), query=route)
    server.fault("/api/query", Fault(truncate_at=300), query=route)
    server.fault("/api/query", Fault(status=429), query=route)
    [paper] = api(server).lookup(["2104.12255v1"])
    assert paper.paper_id == "2104.12255"
    assert len(server.requests_to("/api/query")) == 4


def test_invalid_xml_page_is_a_named_error() -> None:
    with ReplayServer() as srv:
        srv.add(
            "/api/query", Response(200, b"<feed><entry>oops", content_type="application/atom+xml")
        )
        with pytest.raises(MalformedResponseError, match="invalid XML"):
            api(srv).lookup(["2104.12255"])
