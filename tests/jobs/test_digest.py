"""`scicurate digest` on a replayed crawl: the window's papers, grouping, order, links, the
empty window, hostile titles, and LLM summaries from a local OpenAI-compatible endpoint."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from cli.app import command
from cli.errors import run_cli
from core.http import Politeness
from core.records import Paper, PaperVersion
from demo.sample import sample_papers
from jobs.crawl_arxiv import crawl_arxiv_ids
from jobs.digest import build_digest
from report.digest import lead
from tests.arxiv_replay import crawl_sample, serve_api_recordings
from tests.replay import ReplayServer, Request, Response
from warehouse import Warehouse
from warehouse.papers import upsert_papers

SAMPLE = sample_papers(40)  # first versions spread over 2026-11-01 .. 2026-11-19


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def digest(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    code = run_cli(command(), ["--home", str(home), "digest", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_replayed_api_crawl_gives_the_window_s_papers(
    home: Path, shared: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wh = Warehouse(home / "warehouse.duckdb")
    assert run_cli(command(), ["--home", str(home), "status"]) == 0
    capsys.readouterr()
    with ReplayServer() as srv:
        serve_api_recordings(srv, shared)
        for ids in (["quant-ph/0201082v1"], ["1605.08386"], ["1707.08567"], ["2104.12255v1"]):
            crawl_arxiv_ids(
                wh, home=home, api_url=f"{srv.url}/api/query", pdf_url=f"{srv.url}/pdf/",
                politeness=Politeness(min_interval=0), ids=ids,
            )  # fmt: skip
    # An old-style id, cross-listed: its link keeps the slash, its cross-list is shown.
    code, out, _ = digest(capsys, home, "--date", "2002-01-18")
    assert code == 0
    assert "(<https://arxiv.org/abs/quant-ph/0201082>)" in out
    assert "quant-ph (also cs.PL)" in out and "## quant-ph (1)" in out
    assert "1605.08386" not in out
    # A window holds exactly the papers first announced in it.
    code, out, _ = digest(capsys, home, "--from", "2016-05-20", "--until", "2016-06-15",
                          "--format", "jsonl")  # fmt: skip
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["paper_id"] for r in rows] == ["1605.08386"]
    assert rows[0]["url"] == "https://arxiv.org/abs/1605.08386"
    assert rows[0]["group"] == "math.CO" and rows[0]["summary_source"] == "abstract"
    # A category filter lists a cross-listed paper under the asked-for category.
    code, out, _ = digest(capsys, home, "--date", "2002-01-18", "-c", "cs.PL", "-f", "jsonl")
    assert [json.loads(line)["group"] for line in out.splitlines()] == ["cs.PL"]
    # An empty window says so.
    code, out, _ = digest(capsys, home, "--from", "2019-03-01", "--until", "2019-03-31")
    assert code == 0 and "No papers were announced in this window." in out
    code, _, err = digest(capsys, home, "--from", "2019-03-01", "--until", "2019-05-31")
    assert code == 1 and "at most 31 days" in err
    code, _, err = digest(capsys, home, "--date", "yesterday")
    assert code == 2 and "not a date" in err


def test_grouping_and_order(wh: Warehouse, tmp_path: Path) -> None:
    crawl_sample(wh, tmp_path, SAMPLE)
    day = [p for p in SAMPLE if p.versions[0].date() == date(2026, 11, 1)]
    assert len(day) >= 3
    # One of the day's papers is on OpenReview, another has a parsed document.
    reviewed, parsed = day[-1], day[-2]
    upsert_papers(wh, [Paper(paper_id="openreview:abcd1234", source="openreview",
                             title=reviewed.title, arxiv_id=reviewed.arxiv_id)])  # fmt: skip
    from jobs.parse_pdfs import parse_pdfs
    from parsers.run import ParseSpec

    parse_pdfs(wh, tmp_path, ParseSpec(), paper_ids=[parsed.arxiv_id], workers=1)
    result = build_digest(wh, date(2026, 11, 1), date(2026, 11, 1))
    assert result.count == len(day)
    assert list(result.groups) == sorted(result.groups)  # groups in a stable order
    entries = [e for group in result.groups.values() for e in group]
    assert {e.paper_id for e in entries} == {p.arxiv_id for p in day}
    for group in result.groups.values():
        keys = [(not e.on_openreview, not e.parsed) for e in group]
        assert keys == sorted(keys)  # OpenReview first, then parsed, then the rest
        rest = [e.published for e in group if not e.on_openreview and not e.parsed]
        assert rest == sorted(rest, reverse=True)
    flagged = {e.paper_id: (e.on_openreview, e.parsed) for e in entries}
    assert flagged[reviewed.arxiv_id][0] and flagged[parsed.arxiv_id][1]
    for e in entries:
        assert e.summary == lead(next(p.abstract for p in day if p.arxiv_id == e.paper_id))


def test_leads_end_at_a_sentence_boundary() -> None:
    text = ("We follow Smith et al. in using e.g. sparse codes. Our model reaches 3.5 points more "
            "than the baseline of Fig. 2 on every benchmark we tried, with a fraction of the "
            "compute. It also transfers to new domains without any tuning at all, which we "
            "show on five more datasets. Finally we release code.")  # fmt: skip
    out = lead(text, max_chars=200)
    assert out.endswith(("sparse codes.", "of the compute.")) and len(out) <= 200
    assert "et al. in using" in out  # not cut after an abbreviation
    assert lead("Short abstract.") == "Short abstract."


HOSTILE = (
    "<script>alert(1)</script> [click](javascript:alert(2)) **bold** <img src=x>"
    " \x1b]0;owned\x07\x1b[2J \u202eevil"
)


def test_hostile_titles_render_inert(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.warehouse.test_papers import FULL

    wh = Warehouse(home / "warehouse.duckdb")
    assert run_cli(command(), ["--home", str(home), "status"]) == 0
    when = datetime(2026, 11, 20, 10, 0)
    upsert_papers(wh, [dataclasses.replace(
        FULL, paper_id="2611.09999", source="arxiv-oai", title=HOSTILE,
        authors="Eve <eve@x> and [Mallory](javascript:x)", abstract=f"{HOSTILE}. Then more.",
        versions=[PaperVersion("v1", when, "1kb")], published=when,
    )])  # fmt: skip
    capsys.readouterr()
    code, html_out, _ = digest(capsys, home, "--date", "2026-11-20", "--format", "html")
    assert code == 0
    assert "<script" not in html_out and "<img" not in html_out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_out
    assert 'href="https://arxiv.org/abs/2611.09999"' in html_out
    assert html_out.count("href=") == 1  # the arXiv link is the only link; text stays text
    for fmt in ("html", "md", "jsonl"):
        _, shown, _ = digest(capsys, home, "--date", "2026-11-20", "--format", fmt)
        assert "\x1b" not in shown and "\u202e" not in shown, fmt
        assert "x1b" in shown and "owned" in shown, fmt  # visible, not obeyed
    code, md_out, _ = digest(capsys, home, "--date", "2026-11-20")
    assert "\\[click\\](javascript:alert(2))" in md_out  # a link no more
    assert "\\<script\\>" in md_out and "\\*\\*bold\\*\\*" in md_out
    out = home / "d.html"
    code, text, _ = digest(capsys, home, "--date", "2026-11-20", "-f", "html", "-o", str(out))
    assert code == 0 and out.read_text() == html_out and "1 paper(s)" in text


class Chat:
    """A local OpenAI-compatible endpoint: queued behaviours, then real-shaped answers."""

    def __init__(self, server: ReplayServer) -> None:
        self.plan: list[Callable[[dict[str, object]], Response]] = []
        self.requests: list[dict[str, object]] = []
        server.add("/v1/chat/completions", self.handle, method="POST")

    def handle(self, req: Request) -> Response:
        body = json.loads(req.body)
        self.requests.append({"body": body, "auth": req.headers.get("authorization")})
        if self.plan:
            return self.plan.pop(0)(body)
        return self.answer(body)

    @staticmethod
    def answer(body: dict[str, object]) -> Response:
        messages = body["messages"]
        assert isinstance(messages, list)
        title = str(messages[-1]["content"]).splitlines()[0].removeprefix("Title: ")
        return Response.json({
            "id": "chatcmpl-7", "object": "chat.completion", "created": 1764000000,
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "message": {
                "role": "assistant", "content": f"  Summary of {title}.\n"}}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 9, "total_tokens": 59},
        })  # fmt: skip


@pytest.fixture
def chat() -> Iterator[tuple[ReplayServer, Chat]]:
    with ReplayServer() as srv:
        yield srv, Chat(srv)


def test_llm_summaries_are_cached_and_fall_back(
    home: Path, tmp_path: Path, chat: tuple[ReplayServer, Chat],
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    srv, endpoint = chat
    wh = Warehouse(home / "warehouse.duckdb")
    assert run_cli(command(), ["--home", str(home), "status"]) == 0
    crawl_sample(wh, tmp_path, SAMPLE)
    day = [p for p in SAMPLE if p.versions[0].date() == date(2026, 11, 1)]
    monkeypatch.setenv("SCICURATE_LLM_URL", f"{srv.url}/v1")
    monkeypatch.setenv("SCICURATE_LLM_MODEL", "tiny-summarizer")
    monkeypatch.setenv("SCICURATE_LLM_API_KEY", "sk-digest-secret")
    # First a 429 with Retry-After (waited out), then a 500 that outlasts nothing: the client
    # retries it too; then an answer that is not a chat completion (a fallback).
    endpoint.plan = [
        lambda b: Response.json({"error": {"message": "slow down"}}, 429, **{"Retry-After": "1"}),
        lambda b: Response.json({"unexpected": True}),
    ]
    args = ["--date", "2026-11-01", "--summarize", "llm", "--language", "zh", "-f", "jsonl"]
    capsys.readouterr()
    code, out, err = digest(capsys, home, *args)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == len(day)
    sources = [r["summary_source"] for r in rows]
    assert sources.count("llm") == len(day) - 1
    [fallback] = [r for r in rows if r["summary_source"] != "llm"]
    assert "not a chat completion" in fallback["summary_source"]
    assert fallback["summary"] == lead(next(p.abstract for p in day
                                            if p.arxiv_id == fallback["paper_id"]))  # fmt: skip
    for r in rows:
        if r["summary_source"] == "llm":
            assert r["summary"] == f"Summary of {r['title']}."
    first = endpoint.requests[0]
    assert first["auth"] == "Bearer sk-digest-secret"
    assert "Simplified Chinese" in json.dumps(first["body"])
    assert "sk-digest-secret" not in out + err
    asked = len(endpoint.requests)
    assert asked == len(day) + 1  # one 429 retried, one failed answer, the rest answered
    # A rerun asks only for the one that failed; the others come from the cache.
    code, out, _ = digest(capsys, home, *args)
    assert len(endpoint.requests) == asked + 1
    assert all(json.loads(line)["summary_source"] == "llm" for line in out.splitlines())
    # Another language is another cache entry; a server that is down falls back for all.
    endpoint.plan = [lambda b: Response.json({"error": "down"}, 404)] * len(day)
    code, out, _ = digest(capsys, home, "--date", "2026-11-01", "--summarize", "llm",
                          "--language", "de", "-f", "jsonl")  # fmt: skip
    assert code == 0
    assert all("HTTP 404" in json.loads(line)["summary_source"] for line in out.splitlines())
    with wh.read() as con:
        cached = con.execute(
            "SELECT language, count(*) FROM digest_summaries GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert cached == [("zh", len(day))]


def test_llm_summaries_need_an_endpoint(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = digest(capsys, home, "--summarize", "llm")
    assert code == 2 and "SCICURATE_LLM_URL" in err
