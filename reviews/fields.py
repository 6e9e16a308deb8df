"""``--method fields``: deterministic mapping of review forms, with a sentence heuristic
for free-text reviews.

Structured forms map field by field: summary and contribution -> significance and novelty,
strengths -> reasons to accept, weaknesses -> reasons to reject, questions -> suggestions.
Suggestion sentences inside the weaknesses ("the authors should …") also go to suggestions.
A free-text review (API v1's ``review``, or a combined strengths-and-weaknesses field) is
split into sentences and each one goes to the aspect its wording signals.
"""

from __future__ import annotations

import re
from typing import Any

from reviews.base import Aspects

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9])|\n\s*\n|\n\s*(?:[-*•]|\d+[.)])\s+")
_SUGGEST = re.compile(
    r"\?\s*$|\b(should|suggest\w*|recommend(?:ed|s)? (?:that|to|the|adding|including)|"
    r"encourage\w*|consider|please|would (?:be|like|benefit|help|strengthen|improve)|it might|"
    r"might want|could (?:be|also|have)|need(?:s)? to|would(?:'ve| have) (?:also )?liked|"
    r"it is worth)\b",
    re.IGNORECASE,
)
_NEGATIVE = re.compile(
    r"\b(however|concern\w*|unclear|not (?:clear|convincing|enough|sufficient|novel|obvious)|"
    r"limited|limitation\w*|weak\w*|lack\w*|missing|(?:major|main|key|serious|several) "
    r"(?:issue|problem|concern)s?|issues with|problems with|fail\w*|unfortunately|"
    r"not (?:\W*\w+\W+){0,2}(?:interesting|novel|convincing|clear|fair|well|good enough)|"
    r"questionable|restrictive|too (?:small|simple|strong)|incremental|unconvincing|confus\w*|"
    r"no comparison|hard to|difficult to|doubt\w*|flaw\w*|overclaim\w*|drawback\w*)\b",
    re.IGNORECASE,
)
_POSITIVE = re.compile(
    r"\b(well[- ]written|well[- ]motivated?|clearly written|interesting|novel(?:ty)?|strong|"
    r"impressive|convincing|elegant|solid|thorough|intuitive|compelling|nice|good|"
    r"(?:significant|substantial|consistent) (?:improvement|gains?)|state[- ]of[- ]the[- ]art|"
    r"strength\w*|original\w*|valuable|insightful|easy to follow)\b",
    re.IGNORECASE,
)
_SUMMARY = re.compile(
    r"\b(this (?:paper|work|submission)|the (?:paper|authors|work|submission)|they|authors)\s+"
    r"(?:\w+\s+)?(propose|present|introduce|stud(?:y|ies)|investigate|develop|address|"
    r"consider|describe|tackle|show|extend|formulate|use|aim)s?\b|\bcontribution\w*\b",
    re.IGNORECASE,
)

SIGNIFICANCE_FIELDS = (
    "summary", "summary_of_the_paper", "contribution", "contributions",
    "technical_novelty_and_significance", "empirical_novelty_and_significance",
    "clarity,_quality,_novelty_and_reproducibility", "summary_of_contributions",
)  # fmt: skip
ACCEPT_FIELDS = ("strengths", "reasons_to_accept", "pros")
REJECT_FIELDS = ("weaknesses", "reasons_to_reject", "cons")
SUGGEST_FIELDS = ("questions", "questions_for_authors", "suggestions", "requested_changes")
FREE_TEXT_FIELDS = ("review", "strength_and_weaknesses", "main_review", "comment")


def sentences(text: str) -> list[str]:
    parts = (p.strip(" \n\t-*•") for p in _SENTENCE.split(text))
    return [p for p in parts if p and len(p) > 2]


_HEADERS = {
    "significance": r"summary|major contributions?|contributions?|overview|paper summary",
    "reasons_accept": r"strengths?|strong points?|pros|positives?|advantages?|merits",
    "reasons_reject": r"weakness(?:es)?|weak points?|cons|negatives?|concerns|issues|drawbacks",
    "suggestions": r"questions?|suggestions?|specific comments(?:/questions)?|minor(?: points| "
    r"comments)?|comments|requests?|typos",
}
_HEADER = re.compile(
    r"^\s*#*\s*(?P<name>(?:[A-Za-z/ ]{0,20}?)(?:"
    + "|".join(f"(?P<{k}>{v})" for k, v in _HEADERS.items())
    + r")(?: of the paper)?)[ \t]*(?::|\n|$)\s*",
    re.IGNORECASE,
)


def classify(sentence: str, *, section: str | None = None, opening: bool = False) -> str | None:
    """The aspect a sentence signals, or None when it signals none.

    A suggestion or question always counts as a suggestion. Otherwise the section the sentence
    sits under ("Weaknesses:") decides, and without one its wording does; a summary-like
    sentence at the opening of a review is about significance whatever else it says.
    """
    if _SUGGEST.search(sentence):
        return "suggestions"
    if section:
        return section
    if opening and _SUMMARY.search(sentence):
        return "significance"
    if _NEGATIVE.search(sentence):
        return "reasons_reject"
    if _POSITIVE.search(sentence):
        return "reasons_accept"
    if _SUMMARY.search(sentence):
        return "significance"
    return None


def classify_text(text: str) -> dict[str, list[str]]:
    """Every sentence of a free-text review under the aspect it belongs to."""
    out: dict[str, list[str]] = {k: [] for k in _HEADERS}
    section: str | None = None
    for position, raw in enumerate(sentences(text)):
        sentence = raw
        header = _HEADER.match(sentence)
        if header:
            section = next(k for k in _HEADERS if header.group(k))
            sentence = sentence[header.end() :].strip()
            if not sentence:
                continue
        aspect = classify(sentence, section=section, opening=position < 2)
        if aspect:
            out[aspect].append(sentence)
    return out


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool | int | float):
        return None
    if isinstance(value, list):
        value = "\n".join(str(v) for v in value)
    text = str(value).strip()
    # Scored fields ("3 good", "8: accept") carry no text worth structuring.
    if re.fullmatch(r"\d+(?:\.\d+)?(?::.*|\s+\w+)?", text) and len(text) < 60:
        return None
    return text or None


def _join(parts: list[str]) -> str | None:
    kept = [p for p in parts if p]
    return "\n".join(kept) if kept else None


class FieldsStructurer:
    """The default, deterministic method."""

    method = "fields"
    prompt_version: str | None = None

    def structure(self, content: dict[str, Any]) -> Aspects:
        out: dict[str, list[str]] = {
            "significance": [], "reasons_accept": [], "reasons_reject": [], "suggestions": [],
        }  # fmt: skip
        for key in SIGNIFICANCE_FIELDS:
            if text := _text(content.get(key)):
                out["significance"].append(text)
        for key in ACCEPT_FIELDS:
            if text := _text(content.get(key)):
                out["reasons_accept"].append(text)
        for key in REJECT_FIELDS:
            if text := _text(content.get(key)):
                out["reasons_reject"].append(text)
                out["suggestions"] += [s for s in sentences(text) if _SUGGEST.search(s)]
        for key in SUGGEST_FIELDS:
            if text := _text(content.get(key)):
                out["suggestions"].append(text)
        for key in FREE_TEXT_FIELDS:
            if text := _text(content.get(key)):
                for aspect, found in classify_text(text).items():
                    out[aspect] += found
        return Aspects(**{k: _join(v) for k, v in out.items()})
