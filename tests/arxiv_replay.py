"""Serving arXiv over the replay server: the real recordings and the project's sample."""

from __future__ import annotations

import json
from pathlib import Path

from demo.sample import SamplePaper, oai_pages, sample_pdf
from tests.replay import ReplayServer, Response
from warehouse import Warehouse

ATOM = "application/atom+xml"
XML = "text/xml; charset=utf-8"


def serve_api_recordings(server: ReplayServer, shared: Path) -> None:
    """Every recorded arXiv API exchange, routed by its exact query."""
    for path in sorted((shared / "fixtures/arxiv_api/recorded_2026").glob("*.json")):
        rec = json.loads(path.read_text())
        server.add_recording(rec["url"], rec["status_code"], rec["body"].encode("latin-1"), ATOM)


def serve_sample_oai(
    server: ReplayServer, papers: list[SamplePaper], *, page_size: int = 25, set_spec: str = "cs"
) -> list[tuple[str | None, bytes]]:
    """ListRecords pages for ``papers`` at /oai: the first by set, the rest by token."""
    pages = oai_pages(papers, page_size=page_size)
    for token, body in pages:
        query = {"verb": "ListRecords"}
        query.update({"resumptionToken": token} if token else {"set": set_spec})
        server.add("/oai", Response(200, body, content_type=XML), query=query)
    return pages


_PDF_CACHE: dict[tuple[str, str], bytes] = {}


def cached_pdf(paper: SamplePaper) -> bytes:
    key = (paper.arxiv_id, paper.title)
    if key not in _PDF_CACHE:
        _PDF_CACHE[key] = sample_pdf(paper)
    return _PDF_CACHE[key]


def serve_sample_pdfs(server: ReplayServer, papers: list[SamplePaper]) -> dict[str, bytes]:
    """A generated PDF for each paper's latest version at /pdf/<id>v<N>."""
    served = {}
    for paper in papers:
        data = cached_pdf(paper)
        server.add(
            f"/pdf/{paper.arxiv_id}{paper.latest}",
            Response(200, data, content_type="application/pdf"),
        )
        served[paper.arxiv_id] = data
    return served


def crawl_sample(wh: Warehouse, home: Path, papers: list[SamplePaper]) -> None:
    """Crawl ``papers`` (metadata and PDFs) into ``wh``/``home`` from a local replay server."""
    from core.http import Politeness
    from jobs.crawl_arxiv import crawl_arxiv

    with ReplayServer() as srv:
        serve_sample_oai(srv, papers)
        serve_sample_pdfs(srv, papers)
        crawl_arxiv(
            wh, home=home, oai_url=f"{srv.url}/oai", pdf_url=f"{srv.url}/pdf/",
            politeness=Politeness(min_interval=0), categories=["cs"], pdfs=True,
        )  # fmt: skip
