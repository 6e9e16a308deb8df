"""The ``Structurer`` protocol and the four-aspect record every method produces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from core.errors import ScicurateError


class StructureError(ScicurateError):
    """A review could not be structured; ``str()`` is the reason kept with the review."""


@dataclass(frozen=True)
class Aspects:
    significance: str | None = None  # significance and novelty
    reasons_accept: str | None = None
    reasons_reject: str | None = None
    suggestions: str | None = None  # suggestions for improvement (questions included)

    def as_dict(self) -> dict[str, str | None]:
        return dict(self.__dict__)

    def is_empty(self) -> bool:
        return not any(self.__dict__.values())


class Structurer(Protocol):
    """Fills the four aspects from a review's (unwrapped) content."""

    method: str  # "fields", "model" or "llm"
    prompt_version: str | None  # the prompt (llm) or model (model) version, else None

    def structure(self, content: dict[str, Any]) -> Aspects: ...
