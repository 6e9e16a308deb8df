"""The replay server itself: routing, recorded fixtures, every fault, and its observations."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.replay import Fault, ReplayServer, Response


@pytest.fixture
def server() -> ReplayServer:
    with ReplayServer() as srv:
        srv.add("/hello", Response(200, b"hello world", content_type="text/plain"))
        yield srv


def test_serves_route_and_404s_unknown(server: ReplayServer) -> None:
    ok = requests.get(f"{server.url}/hello", timeout=5)
    assert ok.status_code == 200
    assert ok.text == "hello world"
    assert ok.headers["Content-Type"] == "text/plain"
    missing = requests.get(f"{server.url}/nope", timeout=5)
    assert missing.status_code == 404
    assert "no replay route" in missing.text


def test_query_routes_pick_most_specific(server: ReplayServer) -> None:
    server.add("/q", Response(200, b"any"))
    server.add("/q", Response(200, b"page2"), query={"start": "2"})
    assert requests.get(f"{server.url}/q", params={"start": "0"}, timeout=5).text == "any"
    assert requests.get(f"{server.url}/q", params={"start": "2"}, timeout=5).text == "page2"


def test_handler_routes_see_the_request(server: ReplayServer) -> None:
    server.add(
        "/login",
        lambda req: Response.json({"user": json.loads(req.body)["id"]}),
        method="POST",
    )
    got = requests.post(f"{server.url}/login", json={"id": "ada"}, timeout=5)
    assert got.json() == {"user": "ada"}
    assert server.requests[-1].method == "POST"


def test_replays_a_real_arxiv_recording(shared: Path) -> None:
    recording = (
        shared / "fixtures/arxiv_api/recorded_2026/id_2104.12255v1_s0_m100_6ae69987ffe1.json"
    )
    rec = json.loads(recording.read_text())
    body = rec["body"].encode("latin-1")
    with ReplayServer() as srv:
        srv.add_recording(rec["url"], rec["status_code"], body, "application/atom+xml")
        from urllib.parse import urlsplit

        parts = urlsplit(rec["url"])
        got = requests.get(f"{srv.url}{parts.path}?{parts.query}", timeout=5)
    assert got.status_code == rec["status_code"]
    assert got.content == body
    assert b"2104.12255" in got.content


def test_status_fault_with_retry_after_then_recovers(server: ReplayServer) -> None:
    server.fault("/hello", Fault(status=503, headers={"Retry-After": "7"}), times=2)
    first = requests.get(f"{server.url}/hello", timeout=5)
    second = requests.get(f"{server.url}/hello", timeout=5)
    third = requests.get(f"{server.url}/hello", timeout=5)
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.headers["Retry-After"] == "7"
    assert third.text == "hello world"


def test_delay_fault(server: ReplayServer) -> None:
    server.fault("/hello", Fault(delay=0.3))
    start = time.monotonic()
    assert requests.get(f"{server.url}/hello", timeout=5).text == "hello world"
    assert time.monotonic() - start >= 0.3


def test_drop_fault_closes_without_response(server: ReplayServer) -> None:
    server.fault("/hello", Fault(drop=True))
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/hello", timeout=5)
    assert requests.get(f"{server.url}/hello", timeout=5).status_code == 200


def test_truncated_body_is_detected_by_clients(server: ReplayServer) -> None:
    server.fault("/hello", Fault(truncate_at=4))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(f"{server.url}/hello", timeout=5)


def test_reset_mid_body(server: ReplayServer) -> None:
    server.add("/big", Response(200, b"x" * 200_000))
    server.fault("/big", Fault(reset_at=1000))
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        requests.get(f"{server.url}/big", timeout=5)
    assert len(requests.get(f"{server.url}/big", timeout=5).content) == 200_000


def test_fault_on_unknown_route_is_an_error(server: ReplayServer) -> None:
    with pytest.raises(KeyError):
        server.fault("/missing", Fault(status=500))


def test_records_times_connections_and_concurrency(server: ReplayServer) -> None:
    with requests.Session() as session:
        for _ in range(3):
            session.get(f"{server.url}/hello", timeout=5)
            time.sleep(0.05)
    assert len(server.requests_to("/hello")) == 3
    assert server.min_gap("/hello") >= 0.05
    assert {r.connection for r in server.requests} == {server.requests[0].connection}
    assert server.max_concurrent_connections == 1

    server.add("/slow", Response(200, b"ok"))
    server.fault("/slow", Fault(delay=0.3), times=3)
    threads = [
        threading.Thread(target=requests.get, args=(f"{server.url}/slow",), kwargs={"timeout": 5})
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert server.max_concurrent_connections >= 2


def test_disconnects_are_quiet_and_handler_bugs_are_kept(
    server: ReplayServer, capfd: pytest.CaptureFixture[str]
) -> None:
    server.add("/big", Response(200, b"x" * 100_000))
    server.fault("/big", Fault(reset_at=10))
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        requests.get(f"{server.url}/big", timeout=5)

    def broken(req: object) -> Response:
        raise ValueError("bug in a test handler")

    server.add("/broken", broken)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/broken", timeout=5)
    time.sleep(0.1)
    assert "Traceback" not in capfd.readouterr().err
    assert [type(e) for e in server._httpd.errors] == [ValueError]  # type: ignore[union-attr]
