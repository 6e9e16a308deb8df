"""A replay HTTP server for contract tests: recorded responses over real HTTP on 127.0.0.1.

Routes map a method, a path and (optionally) a subset of query parameters to a response. A
response is either fixed bytes (usually a real recording from ../shared/fixtures) or a
function of the request. Faults can be queued on a route to make the next N matching requests
fail in a chosen way: another status (503 with Retry-After, 429), a delay, a dropped
connection, a body cut short, or a TCP reset mid-body.

Every request is logged with its arrival time and connection id, and the server tracks how many
connections were open at once, so politeness (gaps, one connection) can be asserted.
"""

from __future__ import annotations

import itertools
import json
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/octet-stream"

    @classmethod
    def json(cls, payload: Any, status: int = 200, **headers: str) -> Response:
        return cls(status, json.dumps(payload).encode(), dict(headers), "application/json")

    @classmethod
    def file(cls, path: Path, content_type: str, status: int = 200) -> Response:
        return cls(status, path.read_bytes(), {}, content_type)


@dataclass
class Fault:
    """What goes wrong with one request. Fields combine: a delay, then the failure."""

    status: int | None = None  # answer with this status and ``body`` instead of the route
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    drop: bool = False  # close the connection without a response
    truncate_at: int | None = None  # send the full Content-Length, then only N bytes, then close
    reset_at: int | None = None  # like truncate_at, but end with a TCP reset (RST)


@dataclass
class Request:
    time: float  # time.monotonic() at arrival
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    connection: int

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


Handler = Callable[[Request], Response]


@dataclass
class _Route:
    method: str
    path: str
    query: dict[str, str]
    response: Response | Handler
    faults: list[Fault] = field(default_factory=list)

    def matches(self, req: Request) -> bool:
        if req.method != self.method or req.path != self.path:
            return False
        return all(req.param(k) == v for k, v in self.query.items())


class _QuietServer(ThreadingHTTPServer):
    """Client disconnects (expected around faults and shutdown) are not printed to stderr,
    where they would leak into other tests' captured output; anything else is kept."""

    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.errors: list[BaseException] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if error is not None and not isinstance(error, ConnectionError | TimeoutError):
            self.errors.append(error)


class ReplayServer:
    """Serve routes on 127.0.0.1 from a background thread. Use as a context manager."""

    def __init__(self) -> None:
        self._routes: list[_Route] = []
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self._active = 0
        self.max_concurrent_connections = 0
        self._next_connection = 0
        self._httpd: _QuietServer | None = None
        self._thread: threading.Thread | None = None

    # -- routes ---------------------------------------------------------------------------
    def add(
        self,
        path: str,
        response: Response | Handler,
        *,
        method: str = "GET",
        query: dict[str, str] | None = None,
    ) -> None:
        with self._lock:
            self._routes.append(_Route(method, path, dict(query or {}), response))

    def add_recording(self, url: str, status: int, body: bytes, content_type: str) -> None:
        """Serve a recorded exchange: the recorded URL's path and query select the route."""
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self.add(parts.path, Response(status, body, {}, content_type), query=query)

    def fault(
        self,
        path: str,
        fault: Fault,
        *,
        times: int = 1,
        method: str = "GET",
        query: dict[str, str] | None = None,
    ) -> None:
        """Make the next ``times`` requests matching the route fail as ``fault`` says."""
        with self._lock:
            route = self._find_route(method, path, query or {})
            route.faults.extend([fault] * times)

    def _find_route(self, method: str, path: str, query: dict[str, str]) -> _Route:
        for route in self._routes:
            if route.method == method and route.path == path and route.query == query:
                return route
        raise KeyError(f"no route {method} {path} {query}; add it before queueing faults")

    def _match(self, req: Request) -> tuple[_Route | None, Fault | None]:
        with self._lock:
            candidates = [r for r in self._routes if r.matches(req)]
            if not candidates:
                return None, None
            route = max(candidates, key=lambda r: len(r.query))
            fault = route.faults.pop(0) if route.faults else None
            return route, fault

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ReplayServer:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with server._lock:
                    server._active += 1
                    server.max_concurrent_connections = max(
                        server.max_concurrent_connections, server._active
                    )
                    server._next_connection += 1
                    self.connection_id = server._next_connection

            def finish(self) -> None:
                try:
                    super().finish()
                finally:
                    with server._lock:
                        server._active -= 1

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep test output clean; requests are in server.requests

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                req = Request(
                    time=time.monotonic(),
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                    connection=self.connection_id,
                )
                with server._lock:
                    server.requests.append(req)
                route, fault = server._match(req)
                if fault and fault.delay:
                    time.sleep(fault.delay)
                if fault and fault.drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if route is None:
                    resp = Response(404, f"no replay route for {req.method} {self.path}".encode())
                elif fault and fault.status is not None:
                    resp = Response(fault.status, fault.body, dict(fault.headers), "text/plain")
                else:
                    resp = (
                        route.response
                        if isinstance(route.response, Response)
                        else (route.response(req))
                    )
                    if fault:
                        resp = Response(
                            resp.status,
                            resp.body,
                            {**resp.headers, **fault.headers},
                            resp.content_type,
                        )
                self._write(resp, fault)

            def _write(self, resp: Response, fault: Fault | None) -> None:
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.content_type)
                self.send_header("Content-Length", str(len(resp.body)))
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                cut = None
                if fault and fault.truncate_at is not None:
                    cut = fault.truncate_at
                if fault and fault.reset_at is not None:
                    cut = fault.reset_at
                if cut is None:
                    self.wfile.write(resp.body)
                    return
                self.wfile.write(resp.body[:cut])
                self.wfile.flush()
                self.close_connection = True
                if fault and fault.reset_at is not None:
                    # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                else:
                    self.connection.shutdown(socket.SHUT_RDWR)

            do_GET = _serve  # noqa: N815 - http.server's naming
            do_POST = _serve  # noqa: N815 - http.server's naming
            do_PUT = _serve  # noqa: N815 - http.server's naming
            do_PATCH = _serve  # noqa: N815 - http.server's naming
            do_DELETE = _serve  # noqa: N815 - http.server's naming

        self._httpd = _QuietServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- observations ---------------------------------------------------------------------
    def requests_to(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def min_gap(self, path: str | None = None) -> float:
        """The smallest time between two consecutive requests (to ``path``, if given)."""
        with self._lock:
            times = [r.time for r in self.requests if path is None or r.path == path]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        return min(gaps) if gaps else float("inf")
