"""Serving arXiv over the replay server: the real recordings and the project's sample."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


HTML_IDS = ["2510.11973", "2510.12049", "2510.13989", "2510.14430", "2510.14472",
            "2510.14943", "2510.14969"]  # fmt: skip
SRC_IDS = ["2502.07870", "2506.02070", "2508.20357"]


def pack_eprint(tree: Path) -> bytes:
    """An e-print tree packed as arXiv serves it: a gzipped tar (a one-file paper: that
    file gzipped), names relative to the tree, in a stable order."""
    import gzip
    import io
    import tarfile

    files = sorted(p for p in tree.rglob("*") if p.is_file())
    if len(files) == 1:
        return gzip.compress(files[0].read_bytes(), mtime=0)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path in files:
            info = tarfile.TarInfo(str(path.relative_to(tree)))
            info.size = path.stat().st_size
            with path.open("rb") as handle:
                tar.addfile(info, handle)
    return gzip.compress(buf.getvalue(), mtime=0)


def _src_tree(shared: Path, paper_id: str) -> Path:
    root = shared / "fixtures/arxiv_fulltext/src"
    return next(p for p in sorted(root.iterdir()) if p.name.startswith(paper_id))


def atom_for(ids: list[str], template: bytes) -> bytes:
    """The real recorded Atom entry of 1605.08386, once per id (its id swapped in): the API's
    answer to ``id_list=...`` for papers the recordings lack."""
    text = template.decode()
    head, rest = text.split("<entry>", 1)
    entry, tail = rest.split("</entry>", 1)
    entries = []
    for versioned in ids:
        base = versioned.split("v")[0] if "v" in versioned else versioned
        version = versioned[len(base) :] or "v1"
        entries.append(
            "<entry>"
            + entry.replace("1605.08386v1", f"{base}{version}").replace("math.CO", "cs.LG")
            + "</entry>"
        )
    head = head.replace("<opensearch:totalResults>1<", f"<opensearch:totalResults>{len(ids)}<")
    return (head + "".join(entries) + tail).encode()


def serve_fulltext(server: ReplayServer, shared: Path) -> dict[str, bytes]:
    """arXiv's full-text routes for the shared pages and sources: /html/<id>v1 (the real
    LaTeXML pages; the project's "no HTML" page, written from arXiv's wording, for papers
    without one), /e-print/<id>v1 (the shared trees, packed; 404 for the others), and
    /api/query answering id lookups for all of them. Returns the bodies by URL path."""
    from tests.parsers.arxiv_pages import NO_HTML_PAGE

    served: dict[str, bytes] = {}
    for pid in HTML_IDS:
        body = (shared / f"fixtures/arxiv_fulltext/html/{pid}.html").read_bytes()
        server.add(f"/html/{pid}v1", Response(200, body, content_type="text/html"))
        served[f"/html/{pid}v1"] = body
    for pid in SRC_IDS:
        server.add(f"/html/{pid}v1", Response(200, NO_HTML_PAGE, content_type="text/html"))
        body = pack_eprint(_src_tree(shared, pid))
        server.add(f"/e-print/{pid}v1", Response(200, body, content_type="application/gzip"))
        served[f"/e-print/{pid}v1"] = body
    for pid in HTML_IDS:
        server.add(f"/e-print/{pid}v1", Response(404, b"not found", content_type="text/plain"))
    record = shared / "fixtures/arxiv_api/recorded_2026/id_1605.08386_s0_m100_199195aa31ad.json"
    template = json.loads(record.read_text())["body"].encode("latin-1")

    def api(request: Any) -> Response:
        ids = [i for i in (request.param("id_list") or "").split(",") if i]
        return Response(200, atom_for(ids, template), content_type=ATOM)

    server.add("/api/query", api)
    return served
