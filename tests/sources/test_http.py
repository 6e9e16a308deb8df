"""The polite client: pacing, one connection, transient-only retries, Retry-After, budgets."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from core.errors import TransientHTTPError
from core.http import PoliteClient, Politeness, retry_after_seconds
from tests.replay import Fault, ReplayServer, Response

FAST = Politeness(min_interval=0.0, backoff_first=0.01, backoff_max=0.05, max_retry_wait=5)


@pytest.fixture
def server() -> ReplayServer:
    with ReplayServer() as srv:
        srv.add("/ok", Response(200, b"payload" * 100, content_type="text/plain"))
        yield srv


def test_min_interval_and_single_connection(server: ReplayServer) -> None:
    with PoliteClient(Politeness(min_interval=0.25)) as client:
        for _ in range(4):
            assert client.get(f"{server.url}/ok").status_code == 200
    assert server.min_gap("/ok") >= 0.24
    assert server.max_concurrent_connections == 1
    assert len({r.connection for r in server.requests}) == 1  # kept alive, one connection


def test_503_with_retry_after_is_waited_out(server: ReplayServer) -> None:
    server.fault("/ok", Fault(status=503, headers={"Retry-After": "1"}))
    with PoliteClient(FAST) as client:
        start = time.monotonic()
        resp = client.get(f"{server.url}/ok")
        elapsed = time.monotonic() - start
    assert resp.status_code == 200 and resp.content == b"payload" * 100
    assert elapsed >= 1.0
    reqs = server.requests_to("/ok")
    assert len(reqs) == 2 and reqs[1].time - reqs[0].time >= 1.0
    assert client.waited == pytest.approx(1.0)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_statuses_are_retried(server: ReplayServer, status: int) -> None:
    server.fault("/ok", Fault(status=status), times=2)
    with PoliteClient(FAST) as client:
        assert client.get(f"{server.url}/ok").status_code == 200
    assert len(server.requests_to("/ok")) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_other_statuses_are_returned_not_retried(server: ReplayServer, status: int) -> None:
    server.fault("/ok", Fault(status=status, body=b"nope"))
    with PoliteClient(FAST) as client:
        resp = client.get(f"{server.url}/ok")
    assert resp.status_code == status
    assert len(server.requests_to("/ok")) == 1


@pytest.mark.parametrize(
    "fault", [Fault(drop=True), Fault(truncate_at=10), Fault(reset_at=50)], ids=str
)
def test_broken_connections_and_short_bodies_are_retried(
    server: ReplayServer, fault: Fault
) -> None:
    server.fault("/ok", fault)
    with PoliteClient(FAST) as client:
        resp = client.get(f"{server.url}/ok")
    assert resp.content == b"payload" * 100
    assert len(server.requests_to("/ok")) == 2


def test_retry_budget_ends_in_a_named_error(server: ReplayServer) -> None:
    server.fault("/ok", Fault(status=503, headers={"Retry-After": "2"}), times=10)
    with PoliteClient(Politeness(min_interval=0, max_retry_wait=3)) as client:
        start = time.monotonic()
        with pytest.raises(TransientHTTPError, match="HTTP 503") as info:
            client.get(f"{server.url}/ok?token=s3cr3t-value")
        assert time.monotonic() - start < 6
    assert "s3cr3t-value" not in str(info.value)  # credentials in URLs are redacted
    assert "rerun later" in str(info.value)


def test_max_attempts(server: ReplayServer) -> None:
    server.fault("/ok", Fault(status=500), times=10)
    with (
        PoliteClient(Politeness(min_interval=0, max_attempts=3, backoff_first=0.01)) as client,
        pytest.raises(TransientHTTPError, match="after 3 attempt"),
    ):
        client.get(f"{server.url}/ok")
    assert len(server.requests_to("/ok")) == 3


def test_oversized_body_is_refused(server: ReplayServer) -> None:
    with (
        PoliteClient(Politeness(min_interval=0, max_attempts=1, max_body_bytes=100)) as client,
        pytest.raises(TransientHTTPError, match="larger than 100 bytes"),
    ):
        client.get(f"{server.url}/ok")


def test_retry_after_parsing() -> None:
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("120") == 120
    assert (
        retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now)
        == 30
    )
    assert (
        retry_after_seconds(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0
    )
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
