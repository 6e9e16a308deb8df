"""A local HTTP server for the bundled sample: arXiv-style OAI-PMH pages and PDFs.

``scicurate demo`` points the crawlers at it, so the whole pipeline runs offline with real
HTTP, real paging and real PDFs, exactly as it would against arXiv.
"""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from demo.sample import SamplePaper, oai_pages, sample_pdf


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up (a killed crawl) are normal here; do not print tracebacks."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class SampleServer:
    """Serves ``/oai`` (ListRecords by set or resumption token) and ``/pdf/<id>v<N>``."""

    def __init__(self, papers: list[SamplePaper], *, page_size: int = 25) -> None:
        self.pages = {token: body for token, body in oai_pages(papers, page_size=page_size)}
        self.pdfs = {f"/pdf/{p.arxiv_id}{p.latest}": sample_pdf(p) for p in papers}
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> SampleServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                status, body, kind = 404, b"not found", "text/plain"
                if parts.path == "/oai" and query.get("verb") == "ListRecords":
                    token = query.get("resumptionToken")
                    if token in server.pages:
                        status, body, kind = 200, server.pages[token], "text/xml"
                elif parts.path in server.pdfs:
                    status, body, kind = 200, server.pdfs[parts.path], "application/pdf"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
