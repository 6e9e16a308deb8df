"""Per-document quality metrics and the status they imply (``ok``, ``low_quality`` or, when
no page survived, ``failed``).

Builders train only on documents with status ``ok``; the thresholds are parameters so a data
engineer can tighten them per run, and the metrics are stored with every document. A document
with a ``failed`` page (one that lost its content, e.g. in MuPDF's repair of a truncated file)
is never ``ok``, whatever its average text per page, and neither is one with a page whose OCR
text is unreliable (low word confidence: handwriting, noise).
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

from parsers.base import Document
from parsers.text import math_share

_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
# Very common function words: a cheap language guess that needs no model.
_STOPWORDS = {
    "en": {"the", "of", "and", "to", "in", "is", "that", "for", "we", "with", "this", "are", "on"},
    "de": {"der", "die", "und", "das", "ist", "nicht", "mit", "von", "den", "für", "wir", "ein"},
    "fr": {"le", "la", "les", "et", "des", "est", "une", "pour", "dans", "que", "nous", "du"},
    "es": {"el", "la", "los", "las", "y", "es", "una", "para", "que", "del", "con", "por"},
}


@dataclass(frozen=True)
class QualityThresholds:
    min_chars_per_page: float = 200.0
    max_non_printable: float = 0.02
    max_repetition: float = 0.5
    languages: tuple[str, ...] = ()  # empty: any language is fine


def non_printable_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for c in text if (not c.isprintable() and c not in "\n\t") or c == "\ufffd")
    return bad / len(text)


def repetition_score(text: str) -> float:
    """1 - compressed/raw size of the text's lines, deduplicated: near 0 for prose, toward 1
    for text that loops ("the the the ..." or one line repeated down a page)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return 0.0
    counts = Counter(lines)
    repeated_lines = sum(n - 1 for n in counts.values()) / len(lines)
    words = text.split()
    if len(words) < 50:
        return repeated_lines
    raw = " ".join(words).encode()
    ratio = len(zlib.compress(raw, 6)) / len(raw)
    # Prose compresses to about 0.35-0.45 of its size; loops compress to almost nothing.
    looping = max(0.0, min(1.0, (0.3 - ratio) / 0.25))
    return max(repeated_lines, looping)


def guess_language(text: str) -> str:
    words = [w.lower() for w in _WORD.findall(text[:20000])]
    if not words:
        return "unknown"
    scores = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOPWORDS.items()}
    lang, hits = max(scores.items(), key=lambda kv: kv[1])
    return lang if hits / len(words) > 0.05 else "unknown"


def measure(doc: Document) -> dict[str, Any]:
    text = doc.text()
    pages = max(len(doc.pages), 1)
    return {
        "chars_per_page": round(len(text) / pages, 1),
        "non_printable": round(non_printable_share(text), 5),
        "repetition": round(repetition_score(text), 4),
        "math_share": round(math_share(text), 4),
        "language": guess_language(text),
        "needs_ocr_pages": sum(1 for p in doc.pages if p.status == "needs_ocr"),
        "failed_pages": sum(1 for p in doc.pages if p.status == "failed"),
        "ocr_pages": sum(1 for p in doc.pages if p.ocr),
        "ocr_unreliable_pages": sum(1 for p in doc.pages if p.ocr and p.ocr["low_confidence"]),
    }


def assess(doc: Document, thresholds: QualityThresholds | None = None) -> Document:
    """Fill ``doc.quality`` and demote an ``ok`` document that misses a threshold."""
    t = thresholds or QualityThresholds()
    q = measure(doc)
    doc.quality = q
    if doc.status != "ok":
        return doc
    failed = [p for p in doc.pages if p.status == "failed"]
    if failed and len(failed) == len(doc.pages):
        doc.status, doc.reason = "failed", f"every page failed: {failed[0].reason}"[:300]
        return doc
    reasons = []
    if failed:
        numbers = ", ".join(str(p.number + 1) for p in failed[:10])
        more = ", ..." if len(failed) > 10 else ""
        reasons.append(
            f"{len(failed)} of {len(doc.pages)} pages failed (page {numbers}{more}): "
            f"{failed[0].reason}"
        )
    unreliable = [p for p in doc.pages if p.ocr and p.ocr["low_confidence"]]
    if unreliable:
        reasons.append(
            f"{len(unreliable)} of {len(doc.pages)} pages have unreliable OCR text "
            f"(page {unreliable[0].number + 1}: {unreliable[0].ocr['why']})"  # type: ignore[index]
        )
    if q["chars_per_page"] < t.min_chars_per_page:
        reasons.append(f"{q['chars_per_page']:g} chars/page < {t.min_chars_per_page:g}")
    if q["non_printable"] > t.max_non_printable:
        reasons.append(f"non-printable share {q['non_printable']:.3f} > {t.max_non_printable}")
    if q["repetition"] > t.max_repetition:
        reasons.append(f"repetition {q['repetition']:.2f} > {t.max_repetition}")
    if t.languages and q["language"] not in t.languages:
        reasons.append(f"language {q['language']} not in {', '.join(t.languages)}")
    if reasons:
        doc.status, doc.reason = "low_quality", "; ".join(reasons)
    return doc
