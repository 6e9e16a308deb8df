"""OpenReview contract tests: real notes, real v1 review contents, the client over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.http import PoliteClient, Politeness
from sources.errors import (
    AuthRequiredError,
    MalformedResponseError,
    RateLimitedError,
)
from sources.openreview import (
    OpenReviewClient,
    decision_from_venue,
    forum_from_note,
    leading_number,
    rate_limit_wait,
    reply_kind,
    unwrap,
)
from tests.openreview_replay import (
    PASSWORD,
    USER,
    V1_VENUE,
    V2_VENUE,
    real_v2_submissions,
    serve_openreview,
    v1_venue_page,
)
from tests.replay import Fault, ReplayServer, Response


def test_real_v2_notes_map_to_papers(shared: Path) -> None:
    by_id = {n["id"]: n for n in real_v2_submissions(shared)}
    rejected = forum_from_note(by_id["IMWYNVBHob"], web_url="https://openreview.net").paper
    assert rejected.paper_id == "openreview:IMWYNVBHob" and rejected.forum_id == "IMWYNVBHob"
    assert rejected.source == "openreview"
    assert (
        rejected.title
        == "Robust Heterogeneous Graph Neural Network Explainer with Graph Information Bottleneck"
    )
    assert rejected.venue == "Submitted to ICLR 2025"
    assert rejected.venueid == "ICLR.cc/2025/Conference/Rejected_Submission"
    assert rejected.decision == "Reject"  # from the venue id: no decision note in the recording
    assert rejected.keywords == ["Trustworthy", "Robust", "Graph Neural Network"]
    assert rejected.authors is not None and rejected.authors.startswith("Yifan Lu, Pengfei Jiao")
    assert rejected.authors_parsed[0] == ["Lu", "Yifan", ""]
    assert (
        rejected.pdf_url
        == "https://openreview.net/pdf/c9e03e112ac11f84a5acb4a2bdedd97fe7ff422b.pdf"
    )
    assert rejected.abstract and "\n" not in rejected.abstract

    spotlight = forum_from_note(by_id["Gj5JTAwdoy"], web_url="https://openreview.net").paper
    assert spotlight.venue == "ICLR 2025 Spotlight" and spotlight.decision == "Accept (Spotlight)"

    under_review = forum_from_note(by_id["tVNZj27pb3"], web_url="https://openreview.net").paper
    assert under_review.title == "Do We Really Need Parameter-Isolation to Protect Task Knowledge?"
    assert under_review.venueid == "ICLR.cc/2025/Conference/Submission"
    assert under_review.decision is None
    assert under_review.published == datetime(2024, 10, 4, 2, 22, 45, 725000)  # odate
    assert under_review.keywords and under_review.pdf_url


def test_real_v1_review_contents(shared: Path) -> None:
    page = v1_venue_page(shared)
    forum = forum_from_note(page["notes"][0], web_url="https://openreview.net", venue_id=V1_VENUE)
    reviews = [r for r in forum.replies if r.kind == "review"]
    assert [(r.review_id, r.rating, r.confidence) for r in reviews] == [
        ("BJlOnG0gTX", 4.0, 5.0), ("BkeWgLUpnX", 4.0, 4.0), ("BylNfGini7", 8.0, 4.0),
    ]  # fmt: skip
    first = reviews[0]
    assert first.content["title"] == (
        "An interesting approach ; some concerns regarding assumptions and experiments"
    )
    assert first.content["rating"] == "4: Ok but not good enough - rejection"
    assert first.invitation == "ICLR.cc/2019/Conference/-/Paper1/Official_Review"
    assert forum.paper.decision == "Reject" and forum.paper.venueid == V1_VENUE


@pytest.mark.parametrize(
    ("value", "expected"),
    [(8, 8.0), ("8: accept, good paper", 8.0), ("3 good", 3.0), ("10: Top 5%", 10.0),
     (3.5, 3.5), ("N/A", None), (None, None), (True, None), ("", None)],
)  # fmt: skip
def test_leading_number(value: object, expected: float | None) -> None:
    assert leading_number(value) == expected


def test_reply_kinds_and_decisions() -> None:
    s = "ICLR.cc/2025/Conference/Submission1"
    assert reply_kind([f"{s}/-/Official_Review"], []) == "review"
    assert reply_kind([f"{s}/-/Meta_Review"], []) == "meta_review"
    assert reply_kind([f"{s}/-/Decision"], []) == "decision"
    assert reply_kind([f"{s}/-/Official_Comment"], [f"{s}/Authors"]) == "rebuttal"
    assert reply_kind([f"{s}/-/Official_Comment"], [f"{s}/Reviewer_x"]) == "comment"
    assert reply_kind(["ICLR.cc/2019/Conference/-/Paper3/Official_Review"], []) == "review"
    assert reply_kind([f"{s}/-/Rebuttal_Revision"], []) is None
    assert decision_from_venue("ICLR 2024 oral", "ICLR.cc/2024/Conference") == "Accept (Oral)"
    assert decision_from_venue("x", "ICLR.cc/2024/Conference/Withdrawn_Submission") == "Withdrawn"
    assert decision_from_venue("x", "ICLR.cc/2024/Conference/Submission") is None
    assert unwrap({"a": {"value": 1}, "b": 2, "c": {"value": [1], "readers": ["x"]}}) == {
        "a": 1, "b": 2, "c": [1],
    }  # fmt: skip


def _client(server: ReplayServer, *, creds: bool = True, **politeness: float) -> OpenReviewClient:
    http = PoliteClient(
        Politeness(**{"min_interval": 0, "backoff_first": 0.01, "max_retry_wait": 5, **politeness}),
        wait_hint=rate_limit_wait,
    )
    return OpenReviewClient(
        http, api_url=f"{server.url}/api2", api_v1_url=f"{server.url}/api1",
        username=USER if creds else None, password=SecretStr(PASSWORD) if creds else None,
    )  # fmt: skip


@pytest.fixture
def server(shared: Path) -> ReplayServer:
    with ReplayServer() as srv:
        srv.state = serve_openreview(srv, shared)  # type: ignore[attr-defined]
        yield srv


def test_venue_v2_and_v1_fallback(server: ReplayServer) -> None:
    client = _client(server, creds=False)
    [(api, notes)] = list(client.venue_forums(V2_VENUE))
    assert api == "v2" and len(notes) == 3
    first = server.requests_to("/api2/notes")[0]
    assert first.param("details") == "replies" and first.param("limit") == "1000"
    [(api1, notes1)] = list(client.venue_forums(V1_VENUE))
    assert api1 == "v1" and len(notes1) == 6
    assert client.logins == 0  # anonymous access was enough


def test_challenge_without_credentials_is_a_clear_error(server: ReplayServer) -> None:
    server.state["require_login"] = True  # type: ignore[attr-defined]
    with pytest.raises(AuthRequiredError, match="OPENREVIEW_USERNAME and OPENREVIEW_PASSWORD"):
        list(_client(server, creds=False).venue_forums(V2_VENUE))


def test_challenge_logs_in_and_expired_token_logs_in_again(server: ReplayServer) -> None:
    state = server.state  # type: ignore[attr-defined]
    state["require_login"] = True
    client = _client(server)
    assert len(list(client.venue_forums(V2_VENUE))) == 1
    assert client.logins == 1
    login = server.requests_to("/api2/login")[0]
    assert json.loads(login.body) == {"id": USER, "password": PASSWORD}
    assert server.requests_to("/api2/notes")[-1].headers["authorization"] == "Bearer or-token-1"
    state["valid_tokens"].clear()  # the token expires
    assert len(list(client.venue_forums(V2_VENUE))) == 1
    assert client.logins == 2
    assert server.requests_to("/api2/notes")[-1].headers["authorization"] == "Bearer or-token-2"


def test_failed_login_never_shows_the_password(server: ReplayServer) -> None:
    server.state["require_login"] = True  # type: ignore[attr-defined]
    http = PoliteClient(Politeness(min_interval=0))
    client = OpenReviewClient(
        http, api_url=f"{server.url}/api2", api_v1_url=f"{server.url}/api1",
        username=USER, password=SecretStr("wrong-secret-123"),
    )  # fmt: skip
    with pytest.raises(AuthRequiredError) as info:
        list(client.venue_forums(V2_VENUE))
    assert "login" in str(info.value) and "wrong-secret-123" not in str(info.value)
    assert "wrong-secret-123" not in repr(client.__dict__)


def _rate_limit_body(seconds: float) -> bytes:
    reset = (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")
    return json.dumps({
        "name": "RateLimitError", "status": 429,
        "message": "Too many requests: You have made 37 requests, surpassing the limit of 36",
        "details": {"limit": 36, "remaining": 0, "resetTime": reset, "used": 37},
    }).encode()  # fmt: skip


def test_rate_limit_waits_until_reset_time(server: ReplayServer) -> None:
    query = {"invitation": f"{V2_VENUE}/-/Submission", "offset": "0"}
    server.fault("/api2/notes", Fault(status=429, body=_rate_limit_body(1.2)), query=query)
    client = _client(server)
    assert len(list(client.venue_forums(V2_VENUE))) == 1
    first, second = server.requests_to("/api2/notes")[:2]
    assert second.time - first.time >= 1.0


def test_rate_limit_beyond_the_budget_is_named(server: ReplayServer) -> None:
    query = {"invitation": f"{V2_VENUE}/-/Submission", "offset": "0"}
    server.fault("/api2/notes", Fault(status=429, body=_rate_limit_body(3600)), query=query)
    with pytest.raises(RateLimitedError, match="HTTP 429"):
        list(_client(server, max_retry_wait=2).venue_forums(V2_VENUE))


def test_reset_connection_is_retried_and_bad_json_is_named(server: ReplayServer) -> None:
    query = {"invitation": f"{V2_VENUE}/-/Submission", "offset": "0"}
    server.fault("/api2/notes", Fault(reset_at=100), query=query)
    assert len(list(_client(server).venue_forums(V2_VENUE))) == 1
    server.fault("/api2/notes", Fault(status=200, body=b'{"notes": [{"id": '), query=query)
    with pytest.raises(MalformedResponseError, match="invalid JSON"):
        list(_client(server).venue_forums(V2_VENUE))


def test_paging_by_offset() -> None:
    notes = [{"id": f"f{i:05d}", "forum": f"f{i:05d}", "content": {"title": {"value": "t"}}}
             for i in range(1500)]  # fmt: skip
    with ReplayServer() as srv:
        for offset in (0, 1000):
            srv.add("/api2/notes", Response.json({"notes": notes[offset : offset + 1000]}),
                    query={"offset": str(offset)})  # fmt: skip
        pages = list(_client(srv).venue_forums("X/2026/Conference"))
    assert [len(p) for _, p in pages] == [1000, 500]
    assert [r.param("offset") for r in srv.requests_to("/api2/notes")] == ["0", "1000"]
