"""One-paragraph paper summaries from an OpenAI-compatible chat endpoint, cached in the
catalog by paper version, prompt version and language (``digest_summaries``).

The HTTP client retries 429 (honouring Retry-After), 5xx and broken connections within its
budget; any failure after that is reported to the caller, which falls back to the abstract's
lead and says so. The API key travels only in the Authorization header.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from core.errors import HTTPError, ScicurateError
from core.http import PoliteClient
from warehouse.db import Warehouse

PROMPT_VERSION = "digest-summary-v1"
LANGUAGES = {"en": "English", "zh": "Simplified Chinese", "de": "German", "fr": "French",
             "es": "Spanish", "ja": "Japanese"}  # fmt: skip
MAX_SUMMARY_CHARS = 1200


class SummaryError(ScicurateError):
    """The endpoint did not give a usable summary."""


@dataclass(frozen=True)
class Paper:
    paper_id: str
    version: str
    title: str
    abstract: str


def prompt(paper: Paper, language: str) -> list[dict[str, str]]:
    name = LANGUAGES.get(language, language)
    return [
        {
            "role": "system",
            "content": "You write one-paragraph summaries of scientific papers for a daily "
            f"digest, in {name}. Say what the paper does and finds, in at most three "
            "sentences, using only the title and abstract given. Answer with the paragraph "
            "alone.",
        },
        {"role": "user", "content": f"Title: {paper.title}\n\nAbstract: {paper.abstract}"},
    ]


class LLMSummarizer:
    """Summaries from ``url`` (an OpenAI-compatible ``/v1`` base) with a cache in ``wh``."""

    def __init__(
        self,
        http: PoliteClient,
        wh: Warehouse,
        *,
        url: str,
        model: str,
        api_key: SecretStr | None = None,
        language: str = "en",
    ) -> None:
        self.http, self.wh = http, wh
        self.endpoint = url.rstrip("/") + "/chat/completions"
        self.model, self.language = model, language
        self.requests = 0
        if api_key is not None:
            http.set_header("Authorization", f"Bearer {api_key.get_secret_value()}")

    def cached(self, paper: Paper) -> str | None:
        with self.wh.read() as con:
            rows = con.execute(
                'SELECT summary FROM digest_summaries WHERE paper_id = ? AND "version" = ? '
                "AND prompt_version = ? AND language = ?",
                [paper.paper_id, paper.version, PROMPT_VERSION, self.language],
            ).fetchall()
        return str(rows[0][0]) if rows else None

    def summarize(self, paper: Paper) -> str:
        """The cached summary, or a new one (stored); ``SummaryError`` when there is none."""
        hit = self.cached(paper)
        if hit is not None:
            return hit
        summary = self._ask(paper)
        with self.wh.write() as con:
            con.execute(
                "INSERT OR REPLACE INTO digest_summaries (paper_id, \"version\", prompt_version, "
                "language, model, summary) VALUES (?, ?, ?, ?, ?, ?)",
                [paper.paper_id, paper.version, PROMPT_VERSION, self.language, self.model,
                 summary],
            )  # fmt: skip
        return summary

    def _ask(self, paper: Paper) -> str:
        self.requests += 1
        try:
            resp = self.http.post(
                self.endpoint,
                json={"model": self.model, "messages": prompt(paper, self.language),
                      "temperature": 0},
            )  # fmt: skip
        except HTTPError as exc:
            raise SummaryError(f"the endpoint is unavailable ({type(exc).__name__})") from None
        if resp.status_code != 200:
            raise SummaryError(f"the endpoint answered HTTP {resp.status_code}")
        try:
            text = str(resp.json()["choices"][0]["message"]["content"]).strip()
        except (ValueError, KeyError, IndexError, TypeError):
            raise SummaryError("the endpoint's answer is not a chat completion") from None
        if not text:
            raise SummaryError("the endpoint gave an empty summary")
        return " ".join(text.split())[:MAX_SUMMARY_CHARS]
