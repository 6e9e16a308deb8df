"""The Label Studio client's retry policy and error texts, against a real HTTP server on
127.0.0.1 that answers like Label Studio and fails on demand (tests/replay.py)."""

from __future__ import annotations

import json
import logging
import socket
import time
import traceback
from collections.abc import Iterator

import pytest

from annotation.client import LabelStudioClient, RetryPolicy
from annotation.errors import LabelStudioAPIError, LabelStudioUnavailableError
from core.errors import is_transient
from tests.replay import Fault, ReplayServer, Request, Response

KEY = "k3y-" + "5" * 36  # 40 characters, like a legacy Label Studio token
PROJECT = "/api/projects/7/"
# Quick: three attempts, 3 s of waiting at most, a first backoff too short to notice.
QUICK = RetryPolicy(timeout=10.0, max_attempts=3, max_retry_wait=3.0, backoff_first=0.05)


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as srv:
        srv.add(PROJECT, Response.json({"id": 7, "title": "t", "task_number": 3}))
        srv.add("/health", Response.json({"status": "UP"}))
        yield srv


@pytest.fixture
def client(server: ReplayServer) -> Iterator[LabelStudioClient]:
    with LabelStudioClient(server.url, KEY, QUICK) as c:
        yield c


def test_retries_503_then_succeeds(server: ReplayServer, client: LabelStudioClient) -> None:
    server.fault(PROJECT, Fault(status=503, body=b"restarting"), times=2)
    assert client.task_count(7) == 3
    assert len(server.requests_to(PROJECT)) == 3
    assert all(r.headers["authorization"] == f"Token {KEY}" for r in server.requests)


def test_retries_dropped_connections_and_bodies_cut_short(
    server: ReplayServer, client: LabelStudioClient
) -> None:
    server.fault(PROJECT, Fault(drop=True))
    server.fault(PROJECT, Fault(truncate_at=5))
    assert client.task_count(7) == 3
    assert len(server.requests_to(PROJECT)) == 3


def test_honours_retry_after_on_429(server: ReplayServer, client: LabelStudioClient) -> None:
    server.fault(PROJECT, Fault(status=429, headers={"Retry-After": "1"}))
    assert client.task_count(7) == 3
    first, second = server.requests_to(PROJECT)
    assert second.time - first.time >= 0.95  # the backoff alone would be about 0.05 s


def test_retry_after_past_the_budget_fails_at_once(
    server: ReplayServer, client: LabelStudioClient
) -> None:
    server.fault(PROJECT, Fault(status=429, headers={"Retry-After": "60"}), times=5)
    start = time.monotonic()
    with pytest.raises(LabelStudioUnavailableError, match=r"HTTP 429 after 1 attempt"):
        client.task_count(7)
    assert time.monotonic() - start < 2
    assert len(server.requests_to(PROJECT)) == 1


@pytest.mark.parametrize("status", [400, 401, 404, 409])
def test_no_retry_on_other_errors(
    server: ReplayServer, client: LabelStudioClient, status: int
) -> None:
    server.fault(PROJECT, Fault(status=status, body=b'{"detail": "no such project"}'))
    with pytest.raises(LabelStudioAPIError, match=f"HTTP {status}") as caught:
        client.task_count(7)
    assert caught.value.status == status and "no such project" in str(caught.value)
    assert not is_transient(caught.value)
    assert len(server.requests_to(PROJECT)) == 1


def test_outage_past_the_budget_is_unavailable(
    server: ReplayServer, client: LabelStudioClient
) -> None:
    server.fault(PROJECT, Fault(status=503), times=10)
    with pytest.raises(LabelStudioUnavailableError, match="unavailable") as caught:
        client.task_count(7)
    assert "HTTP 503 after 3 attempt(s)" in str(caught.value)
    assert is_transient(caught.value)  # a Prefect task may retry it later
    assert len(server.requests_to(PROJECT)) == 3


def test_nothing_listening_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens
    with LabelStudioClient(f"http://127.0.0.1:{port}", KEY, QUICK) as c:
        with pytest.raises(LabelStudioUnavailableError, match="ConnectError after 3 attempt"):
            c.task_count(7)
        assert c.health() is False


def test_a_retried_import_sends_the_same_body_again(server: ReplayServer) -> None:
    path = "/api/projects/7/import"
    server.add(path, lambda req: Response.json({"task_count": 1, "task_ids": [41]}), method="POST")
    server.fault(path, Fault(status=502), method="POST")
    with LabelStudioClient(server.url, KEY, QUICK) as c:
        assert c.import_tasks(7, [{"data": {"feedback_id": "f1"}}]) == [41]
    first, second = server.requests_to(path)
    assert first.body == second.body and json.loads(second.body) == [
        {"data": {"feedback_id": "f1"}}
    ]
    assert second.param("return_task_ids") == "true"


def test_health_check_retries_too(server: ReplayServer, client: LabelStudioClient) -> None:
    server.fault("/health", Fault(status=503))
    assert client.health() is True
    assert len(server.requests_to("/health")) == 2


def test_the_key_never_reaches_an_error_or_a_log(
    server: ReplayServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Even a server that echoes the request's headers (a proxy's error page) in its answer,
    in an error status, an outage, and a refusal."""

    def echo(req: Request) -> Response:
        return Response.json({"detail": f"bad request, headers were {req.headers}"}, status=400)

    server.add("/api/projects/8/", echo)
    server.add("/api/projects/9/", lambda req: Response(503, repr(req.headers).encode()))
    server.fault("/api/projects/9/", Fault(status=429, body=KEY.encode()))
    caplog.set_level(logging.DEBUG)
    texts = []
    with LabelStudioClient(server.url, KEY, QUICK) as c:
        for project, error in ((8, LabelStudioAPIError), (9, LabelStudioUnavailableError)):
            with pytest.raises(error) as caught:
                c.task_count(project)
            texts += [str(caught.value), repr(caught.value.args)]
            # what a log of the error shows: the traceback, without the SDK's error behind it
            texts.append("".join(traceback.format_exception(caught.value)))
            logging.getLogger("test").exception("failed", exc_info=caught.value)
    assert "headers were" in texts[0] and "***" in texts[0]  # the detail, masked
    texts.append(caplog.text)
    for text in texts:
        assert KEY not in text


def test_an_answer_that_is_not_json_is_an_api_error(server: ReplayServer) -> None:
    server.add("/api/projects/10/", Response(200, b"<html>a login page</html>", {}, "text/html"))
    with (
        LabelStudioClient(server.url, KEY, QUICK) as c,
        pytest.raises(LabelStudioAPIError, match=r"HTTP 200.*not JSON"),
    ):
        c.task_count(10)
    assert len(server.requests_to("/api/projects/10/")) == 1
