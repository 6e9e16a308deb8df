"""The LLM method against a small OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.errors import HTTPStatusError
from core.http import PoliteClient, Politeness
from jobs.crawl_openreview import crawl_openreview
from jobs.structure_reviews import structure_reviews
from reviews.base import StructureError
from reviews.fields import FieldsStructurer
from reviews.llm import PROMPT_VERSION, LLMStructurer
from tests.flows.test_crawl_openreview import config
from tests.openreview_replay import V2_VENUE, serve_openreview
from tests.replay import ReplayServer, Request, Response
from warehouse import Warehouse

GOOD = {
    "significance": "A new explainer for heterogeneous GNNs.",
    "reasons_accept": "Clearly written.",
    "reasons_reject": "Limited novelty.",
    "suggestions": "Compare with stronger baselines.",
}


class ChatServer:
    """Answers /v1/chat/completions with queued message contents, recording each request."""

    def __init__(self, server: ReplayServer) -> None:
        self.answers: list[str] = []
        self.default = json.dumps(GOOD)
        self.requests: list[dict[str, object]] = []
        server.add("/v1/chat/completions", self.handle, method="POST")

    def handle(self, req: Request) -> Response:
        body = json.loads(req.body)
        self.requests.append({"body": body, "auth": req.headers.get("authorization")})
        content = self.answers.pop(0) if self.answers else self.default
        return Response.json({
            "id": "chatcmpl-1", "object": "chat.completion", "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
        })  # fmt: skip


@pytest.fixture
def chat() -> Iterator[tuple[ReplayServer, ChatServer]]:
    with ReplayServer() as srv:
        yield srv, ChatServer(srv)


def llm(srv: ReplayServer) -> LLMStructurer:
    return LLMStructurer(
        PoliteClient(Politeness(min_interval=0)), url=f"{srv.url}/v1", model="tiny-reviewer",
        api_key=SecretStr("sk-test-secret"),
    )  # fmt: skip


def test_valid_answer(chat: tuple[ReplayServer, ChatServer]) -> None:
    srv, server = chat
    aspects = llm(srv).structure({"review": "Clearly written. Limited novelty.", "rating": "5"})
    assert aspects.as_dict() == GOOD
    [request] = server.requests
    body = request["body"]
    assert body["model"] == "tiny-reviewer" and body["temperature"] == 0  # type: ignore[index]
    assert body["response_format"] == {"type": "json_object"}  # type: ignore[index]
    assert "Clearly written." in body["messages"][1]["content"]  # type: ignore[index]
    assert request["auth"] == "Bearer sk-test-secret"


@pytest.mark.parametrize(
    "bad",
    ["Sure! Here is the JSON you asked for", json.dumps({"significance": "x"}),
     json.dumps({**GOOD, "extra": "no"}), json.dumps({**GOOD, "suggestions": 5}), "[]"],
    ids=["prose", "missing-keys", "extra-key", "wrong-type", "not-object"],
)  # fmt: skip
def test_invalid_answer_is_retried_once(chat: tuple[ReplayServer, ChatServer], bad: str) -> None:
    srv, server = chat
    server.answers = [bad]
    assert llm(srv).structure({"review": "text"}).as_dict() == GOOD
    assert len(server.requests) == 2
    retry_messages = server.requests[1]["body"]["messages"]  # type: ignore[index]
    assert retry_messages[-1]["content"].startswith("That answer was")


def test_invalid_twice_is_a_structure_error(chat: tuple[ReplayServer, ChatServer]) -> None:
    srv, server = chat
    server.answers = ["nope", "{still not json"]
    with pytest.raises(StructureError, match="twice"):
        llm(srv).structure({"review": "text"})


def test_the_key_never_reaches_an_error(chat: tuple[ReplayServer, ChatServer]) -> None:
    """Not even from an endpoint that echoes the request's headers in its error answer."""
    srv, _ = chat
    srv.add(
        "/v2/chat/completions",
        lambda req: Response(401, f"bad token in {req.headers['authorization']}".encode()),
        method="POST",
    )
    structurer = LLMStructurer(
        PoliteClient(Politeness(min_interval=0)), url=f"{srv.url}/v2", model="m",
        api_key=SecretStr("sk-test-secret"),
    )  # fmt: skip
    with pytest.raises(HTTPStatusError, match="HTTP 401") as caught:
        structurer.structure({"review": "text"})
    assert "bad token" in str(caught.value) and "***" in str(caught.value)
    assert "sk-test-secret" not in str(caught.value) and "sk-test" not in repr(caught.value.args)


def test_job_keeps_failures_and_records_method_and_prompt(
    wh: Warehouse, shared: Path, tmp_path: Path, chat: tuple[ReplayServer, ChatServer]
) -> None:
    srv, server = chat
    with ReplayServer() as openreview:
        serve_openreview(openreview, shared)
        crawl_openreview(wh, config(openreview), home=tmp_path, venues=[V2_VENUE])
    server.answers = ["bad", "bad again"]  # the first review fails, the others succeed
    counts = structure_reviews(wh, llm(srv))
    assert (counts.structured, counts.failed) == (8, 1)
    with wh.read() as con:
        rows = con.execute(
            "SELECT structure_method, prompt_version, structure_error IS NOT NULL, "
            "reasons_reject FROM reviews WHERE kind = 'review' ORDER BY review_id"
        ).fetchall()
    assert rows[0][:3] == ("llm", PROMPT_VERSION, True)
    assert all(r == ("llm", PROMPT_VERSION, False, "Limited novelty.") for r in rows[1:])
    # A rerun retries only the failure; the fields method then redoes them all.
    again = structure_reviews(wh, llm(srv))
    assert (again.structured, again.failed) == (1, 0)
    fields = structure_reviews(wh, FieldsStructurer())
    assert fields.structured == 9
    with wh.read() as con:
        [(method, version, accept)] = con.execute(
            "SELECT DISTINCT structure_method, prompt_version, reasons_accept FROM reviews "
            "WHERE kind = 'review'"
        ).fetchall()
    assert (method, version) == ("fields", None)
    assert accept == "The paper is well written. The experiments are thorough."
