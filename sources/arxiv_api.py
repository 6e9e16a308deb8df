"""Ad-hoc queries and id lookups through the ``arxiv`` package.

The package builds the query URLs and parses the Atom feed; its HTTP layer is replaced by the
polite client, so requests honour the 3 s gap, retry only transient failures (429, 5xx, broken
connections) and respect Retry-After. The API's HTTP 400 "Error" feed becomes
``ArxivAPIError``; an empty result is just empty.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import arxiv
from arxiv import _feed  # the package's lxml Atom parser (no entities, no network)

from core.http import PoliteClient
from core.records import Paper, PaperVersion
from sources.arxiv_ids import parse_arxiv_id
from sources.arxiv_record import clean_text, parse_authors, to_naive_utc
from sources.errors import (
    ArxivAPIError,
    HTTPStatusError,
    MalformedResponseError,
    ResultLimitError,
)
from sources.xml import parse_xml

MAX_PAGE = 2000  # the API's largest page
MAX_TOTAL = 30000  # the API's largest result window
_ATOM = "{http://www.w3.org/2005/Atom}"
_EMPTY_PAGE_RETRIES = 2  # arXiv sporadically answers a later page with no entries


class _PoliteArxivClient(arxiv.Client):  # type: ignore[misc]
    """``arxiv.Client`` whose requests go through the polite client."""

    def __init__(self, http: PoliteClient, base_url: str, page_size: int) -> None:
        super().__init__(page_size=page_size, delay_seconds=0, num_retries=0)
        self._http = http
        self.query_url_format = base_url.rstrip("?") + "?{}"

    def _parse_feed(self, url: str, first_page: bool = True, _try_index: int = 0) -> Any:
        for _attempt in range(_EMPTY_PAGE_RETRIES + 1):
            resp = self._http.get(url)
            if resp.status_code == 400:
                raise ArxivAPIError(f"arXiv API refused the query: {_error_message(resp.content)}")
            if resp.status_code != 200:
                raise HTTPStatusError(url, resp.status_code, resp.text[:200])
            # Strict: catches truncation, and an HTML page where the feed should be.
            parse_xml(resp.content, what=f"arXiv API page {url}", expected="an Atom feed")
            feed = _feed.parse(resp.content)
            if feed.results or first_page:
                return feed
        return feed  # still empty: treat as the end of the results


def _error_message(body: bytes) -> str:
    try:
        root = parse_xml(body, what="arXiv API error feed")
    except MalformedResponseError:
        return "HTTP 400 with an unreadable body"
    for entry in root.iter(f"{_ATOM}entry"):
        if (entry.findtext(f"{_ATOM}title") or "").strip() == "Error":
            return (entry.findtext(f"{_ATOM}summary") or "unknown error").strip()
    return "HTTP 400"


def result_to_paper(result: arxiv.Result) -> Paper:
    """Map an API result onto the canonical record (fields the API lacks stay empty)."""
    short = result.entry_id.rsplit("/abs/", 1)[-1]
    arxiv_id = parse_arxiv_id(short)
    names = [a.name for a in result.authors]
    versions = []
    if arxiv_id.version == 1:
        versions = [PaperVersion("v1", to_naive_utc(result.published), None)]
    return Paper(
        paper_id=arxiv_id.base,
        source="arxiv-api",
        title=clean_text(result.title),
        abstract=clean_text(result.summary),
        authors=", ".join(names) or None,
        authors_parsed=parse_authors(", ".join(names)),
        categories=list(result.categories),
        primary_category=result.primary_category or None,
        comments=clean_text(result.comment),
        journal_ref=clean_text(result.journal_ref),
        doi=clean_text(result.doi),
        versions=versions,
        published=to_naive_utc(result.published),
        updated=to_naive_utc(result.updated),
    )


class ArxivAPI:
    """Queries and id lookups against one arXiv API endpoint."""

    def __init__(self, http: PoliteClient, base_url: str, *, page_size: int = 100) -> None:
        if not 1 <= page_size <= MAX_PAGE:
            raise ResultLimitError(f"page size must be 1..{MAX_PAGE}, got {page_size}")
        self._client = _PoliteArxivClient(http, base_url, page_size)

    def results(self, search: arxiv.Search) -> Iterator[arxiv.Result]:
        if search.max_results is None or search.max_results > MAX_TOTAL:
            raise ResultLimitError(
                f"the arXiv API returns at most {MAX_TOTAL} results per query; narrow the "
                "query or harvest with OAI-PMH (`scicurate crawl arxiv --category …`)"
            )
        results: Iterator[arxiv.Result] = self._client.results(search)
        return results

    def search(self, query: str, *, max_results: int = 100) -> Iterator[Paper]:
        search = arxiv.Search(query=query, max_results=max_results)
        return (result_to_paper(r) for r in self.results(search))

    def lookup(self, ids: Sequence[str]) -> list[Paper]:
        """Papers for the given ids (``2104.12255v1``, ``hep-th/9901001``); unknown ids are
        simply absent from the result."""
        parsed = [parse_arxiv_id(i) for i in ids]  # InvalidIdError before any request
        if len(parsed) > MAX_TOTAL:
            raise ResultLimitError(f"at most {MAX_TOTAL} ids per lookup")
        search = arxiv.Search(id_list=[p.versioned for p in parsed], max_results=len(parsed))
        return [result_to_paper(r) for r in self.results(search)]
