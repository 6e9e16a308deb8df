"""Pre-annotation: a first guess at the error type, sent to Label Studio as a prediction.

Three cheap signals, no model: the element types of the contexts (a table, formula, figure or
molecule points at misread multimodal content), the overlap between query and contexts (low
overlap points at retrieval), and instruction cues in the query that the answer ignores (a
requested format or length). Whatever is left is most likely a domain-knowledge error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from annotation.config import ERROR_TYPES

SUGGESTER_VERSION = "scicurate-suggester-1"
_MULTIMODAL = {"table", "equation", "formula", "figure", "chemical_structure", "caption"}
_WORD = re.compile(r"[a-z0-9]{3,}")
_STOP = {
    "the", "and", "for", "with", "that", "this", "what", "which", "how", "are", "was", "does",
    "from", "into", "about", "paper", "please", "give", "explain", "describe",
}  # fmt: skip
_CUES = {
    "bullets": re.compile(r"\b(bullet|bullets|bullet points|list)\b", re.I),
    "length": re.compile(
        r"\b(in|within|under|at most|no more than)\s+\d+\s+(words|sentences)\b", re.I
    ),
    "json": re.compile(r"\bjson\b", re.I),
    "table": re.compile(r"\b(as a table|in a table|tabular)\b", re.I),
    "language": re.compile(r"\b(in (french|german|chinese|spanish|japanese))\b", re.I),
}


@dataclass(frozen=True)
class Suggestion:
    error_type: str
    score: float
    reasons: tuple[str, ...]


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def _instruction_miss(query: str, answer: str) -> str | None:
    for cue, pattern in _CUES.items():
        m = pattern.search(query)
        if not m:
            continue
        if cue == "bullets" and not re.search(r"^\s*([-*•]|\d+[.)])\s", answer, re.M):
            return "asked for a list, got prose"
        if cue == "json" and not answer.lstrip().startswith(("{", "[")):
            return "asked for JSON"
        if cue == "table" and "|" not in answer:
            return "asked for a table"
        if cue == "length":
            limit = int(re.search(r"\d+", m.group(0)).group(0))  # type: ignore[union-attr]
            unit = m.group(2).lower()
            count = (
                len(answer.split()) if unit == "words" else len(re.findall(r"[.!?](\s|$)", answer))
            )
            if count > limit:
                return f"asked for at most {limit} {unit}, got {count}"
        if cue == "language":
            return "asked for another language"
    return None


def suggest(query: str, answer: str, contexts: list[dict[str, Any]]) -> Suggestion:
    scores = dict.fromkeys(ERROR_TYPES, 0.05)
    reasons: dict[str, list[str]] = {k: [] for k in ERROR_TYPES}
    kinds = {str(c["element_type"]) for c in contexts if c.get("element_type")}
    if kinds & _MULTIMODAL:
        scores["multimodal"] += 0.6
        reasons["multimodal"].append(f"contexts hold {', '.join(sorted(kinds & _MULTIMODAL))}")
    q_words = _words(query)
    c_words = _words(" ".join(str(c.get("text", "")) for c in contexts))
    overlap = len(q_words & c_words) / len(q_words) if q_words else 0.0
    if not contexts:
        scores["retrieval"] += 0.6
        reasons["retrieval"].append("no contexts were retrieved")
    elif overlap < 0.2:
        scores["retrieval"] += 0.7 - overlap
        reasons["retrieval"].append(f"query/context overlap {overlap:.2f}")
    miss = _instruction_miss(query, answer)
    if miss:
        scores["instruction_following"] += 0.65
        reasons["instruction_following"].append(miss)
    scores["domain_knowledge"] += 0.3  # the prior: what is left is usually the science
    best = max(scores, key=lambda k: scores[k])
    total = sum(scores.values())
    return Suggestion(best, round(scores[best] / total, 3), tuple(reasons[best]))


def prediction(sug: Suggestion) -> dict[str, Any]:
    """A Label Studio prediction for the ``error_type`` choices."""
    return {
        "model_version": SUGGESTER_VERSION,
        "score": sug.score,
        "result": [
            {
                "from_name": "error_type",
                "to_name": "answer",
                "type": "choices",
                "value": {"choices": [sug.error_type]},
            }
        ],
    }
