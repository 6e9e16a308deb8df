"""``--method llm``: any OpenAI-compatible chat endpoint, with a versioned prompt.

The answer must be a JSON object that validates against ``LLMAspects``. An invalid answer is
retried once, with the validation error shown to the model; a second invalid answer raises
``StructureError``, which the job keeps with the review as its failure reason.

Why not the ``openai`` package (judged at 3.57, which resolves with the pins): its built-in
retries also retry 408 and 409, obey a server's ``x-should-retry`` on any status and have no
total wait budget, so keeping the project's rule (only 429/5xx/broken connections, within a
budget, then a ``Transient`` error for the step's retry) means ``max_retries=0`` plus a retry
transport of our own written for ``httpx2``, the HTTP stack it is built on (a third one beside
requests and httpx). What would be left for it to do is one POST and reading
``choices[0].message.content``: a dozen lines here, on the polite client every source uses.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from core.errors import HTTPStatusError
from core.http import PoliteClient
from reviews.base import Aspects, StructureError

PROMPT_VERSION = "review-aspects-v1"
SYSTEM_PROMPT = """You organise peer reviews of scientific papers.
Read the review and answer with one JSON object and nothing else, with exactly these keys:
  "significance": what the review says about the paper's significance and novelty,
  "reasons_accept": the reviewer's reasons to accept,
  "reasons_reject": the reviewer's reasons to reject,
  "suggestions": the reviewer's questions and suggestions for improvement.
Each value is a string in the reviewer's own words (quote, do not invent), or null when the
review says nothing on that aspect."""
MAX_REVIEW_CHARS = 24000


class LLMAspects(BaseModel):
    """The schema an answer must match."""

    model_config = ConfigDict(extra="forbid")

    significance: str | None = Field(max_length=20000)
    reasons_accept: str | None = Field(max_length=20000)
    reasons_reject: str | None = Field(max_length=20000)
    suggestions: str | None = Field(max_length=20000)


def render_review(content: dict[str, Any]) -> str:
    lines = []
    for key, value in content.items():
        if value is None or key.startswith("_"):
            continue
        text = "\n".join(map(str, value)) if isinstance(value, list) else str(value)
        lines.append(f"## {key.replace('_', ' ')}\n{text}")
    return "\n\n".join(lines)[:MAX_REVIEW_CHARS]


class LLMStructurer:
    method = "llm"
    prompt_version: str | None = PROMPT_VERSION

    def __init__(
        self, http: PoliteClient, *, url: str, model: str, api_key: SecretStr | None = None
    ) -> None:
        self.http = http
        self.endpoint = url.rstrip("/") + "/chat/completions"
        self.model = model
        self._key = api_key.get_secret_value() if api_key is not None else ""
        if self._key:
            http.set_header("Authorization", f"Bearer {self._key}")

    def _ask(self, messages: list[dict[str, str]]) -> str:
        resp = self.http.post(
            self.endpoint,
            json={
                "model": self.model,
                "messages": messages,
                "temperature": 0,
                "response_format": {"type": "json_object"},
            },
        )
        if resp.status_code != 200:
            # Mask the key before shortening the text (a cut key would no longer match): an
            # endpoint or a proxy in front of it may echo the request's headers.
            text = resp.text.replace(self._key, "***") if self._key else resp.text
            raise HTTPStatusError(self.endpoint, resp.status_code, text[:200])
        try:
            return str(resp.json()["choices"][0]["message"]["content"])
        except (ValueError, KeyError, IndexError, TypeError):
            raise StructureError("the endpoint's answer is not a chat completion") from None

    def structure(self, content: dict[str, Any]) -> Aspects:
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": render_review(content)},
        ]
        problem = ""
        for attempt in range(2):
            answer = self._ask(messages)
            try:
                parsed = LLMAspects.model_validate(json.loads(answer))
            except json.JSONDecodeError as exc:
                problem = f"not JSON ({exc.msg} at char {exc.pos})"
            except ValidationError as exc:
                problem = "JSON that does not match the schema: " + "; ".join(
                    f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors()
                )
            else:
                return Aspects(**parsed.model_dump())
            if attempt == 0:
                messages += [
                    {"role": "assistant", "content": answer[:4000]},
                    {
                        "role": "user",
                        "content": f"That answer was {problem}. Answer again with only the "
                        "JSON object described, with exactly the four keys.",
                    },
                ]
        raise StructureError(f"the model answered {problem} twice")
