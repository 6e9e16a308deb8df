"""Structured reviews (separate summary/strengths/weaknesses/questions fields) as labelled
free text, for training the review model and for scoring any method without flattering it.

Each field becomes a section of one free text, the way an API v1 reviewer would write it:
with no headings, with the usual headings ("Strengths:", "## Weaknesses"), or with free-form
ones. Every unit the segmenter finds in a section is labelled with that section's aspect.

Where "none" examples come from: the form's scored and boilerplate fields (soundness,
presentation, contribution, rating, confidence, the ethics flag, the code of conduct) written
as lines ("Rating: 6: marginally above the acceptance threshold"), which is how they appear
when a review is pasted or dumped as text. A sentence inside a reviewer's own field keeps that
field's aspect even when it is boilerplate ("See weaknesses."): the reviewer put it there.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reviews.model import LabelledReview, rating_of
from reviews.segment import _ITEM, segment

FIELD_LABELS = {
    "summary": "significance",
    "strengths": "reasons_accept",
    "weaknesses": "reasons_reject",
    "questions": "suggestions",
}
NONE_FIELDS = (
    "soundness", "presentation", "contribution", "flag_for_ethics_review", "rating",
    "confidence", "code_of_conduct",
)  # fmt: skip

# Headings the model may see in training.
TRAIN_HEADINGS: dict[str, tuple[str, ...]] = {
    "significance": ("Summary", "Summary of the paper", "Paper summary", "Overview",
                     "Summary of contributions", "Contributions"),
    "reasons_accept": ("Strengths", "Pros", "Strong points", "Positives", "Reasons to accept"),
    "reasons_reject": ("Weaknesses", "Cons", "Weak points", "Negatives", "Reasons to reject",
                       "Concerns"),
    "suggestions": ("Questions", "Questions for the authors", "Suggestions", "Minor comments",
                    "Requested changes"),
}  # fmt: skip
# Headings that say nothing of an aspect, so the model learns to read past a heading it does
# not know.
NEUTRAL_HEADINGS: dict[str, tuple[str, ...]] = dict.fromkeys(
    TRAIN_HEADINGS, ("Review", "Comments", "Remarks", "Part I", "Section 2", "Notes", "Details",
                     "Main review", "Assessment", "My thoughts")
)  # fmt: skip
# Free-form headings for evaluation only: none of them is a training heading.
FREE_HEADINGS: dict[str, tuple[str, ...]] = {
    "significance": ("What the paper does", "Brief recap", "Synopsis"),
    "reasons_accept": ("What I liked", "Positive aspects", "Merits of the work"),
    "reasons_reject": ("What I did not like", "Main criticisms", "Shortcomings"),
    "suggestions": ("Things to clarify", "Points for the rebuttal", "Detailed remarks"),
}
_FORMATS = ("{h}:", "## {h}", "**{h}**", "{H}:", "### {h}")


def read_reviews(path: Path) -> Iterator[dict[str, Any]]:
    """The review objects of a JSON-lines file (gzip when the name ends in .gz)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def is_heldout(forum: str, *, share: int = 10) -> bool:
    """Whether a forum belongs to the held-out split (one in ``share``, fixed by its hash)."""
    return int(hashlib.sha256(forum.encode()).hexdigest(), 16) % share == 0


def is_structured(content: dict[str, Any]) -> bool:
    return all(isinstance(content.get(k), str) for k in FIELD_LABELS)


def _prose_end(text: str, *, first: bool) -> bool:
    """Whether the first (or last) line of ``text`` is prose, not a list item or heading."""
    lines = [line for line in text.splitlines() if line.strip()]
    line = lines[0] if first else lines[-1]
    return not _ITEM.match(line) and not line.lstrip().startswith(("#", "*", ">", "|"))


def render(
    content: dict[str, Any],
    *,
    headings: dict[str, tuple[str, ...]] | None,
    rng: random.Random,
    none_lines: bool,
    run_together: bool = False,
) -> tuple[str, list[tuple[str, str]]]:
    """One free text for a structured review, and its (label, section text) parts in order.

    ``headings`` None writes the sections with no headings at all. ``run_together`` (with no
    headings) also runs a section on in the paragraph where the one before it ended when both
    are prose there, as reviewers who write one flowing text do ("... is well written. However,
    the experiments ..."), so the aspect changes inside a paragraph.
    """
    parts: list[tuple[str, str]] = []
    chunks: list[str] = []
    fmt = rng.choice(_FORMATS)
    for key, label in FIELD_LABELS.items():
        body = str(content.get(key) or "").strip()
        if not body:
            continue
        if headings is not None:
            h = rng.choice(headings[label])
            chunks.append(fmt.format(h=h, H=h.upper()))
        if (
            run_together and headings is None and chunks
            and _prose_end(chunks[-1], first=False) and _prose_end(body, first=True)
        ):  # fmt: skip
            chunks[-1] = f"{chunks[-1]} {body}"
        else:
            chunks.append(body)
        parts.append((label, body))
    if none_lines:
        for key in NONE_FIELDS:
            value = str(content.get(key) or "").strip()
            if value:
                line = f"{key.replace('_', ' ').capitalize()}: {value}"
                chunks.append(line)
                parts.append(("none", line))
    return "\n\n".join(chunks), parts


def labelled(
    record: dict[str, Any],
    *,
    headings: dict[str, tuple[str, ...]] | None,
    rng: random.Random,
    none_lines: bool,
    run_together: bool = False,
) -> LabelledReview | None:
    """A structured review as labelled units, or None when its parts cannot be aligned."""
    content = record.get("content") or {}
    text, parts = render(
        content, headings=headings, rng=rng, none_lines=none_lines, run_together=run_together
    )
    units = segment(text)
    labels = [label for label, body in parts for _ in segment(body)]
    if len(labels) != len(units) or not units:
        return None
    return LabelledReview(units, labels, rating_of(content), str(record.get("forum", "")), text)


def training_reviews(records: list[dict[str, Any]], *, seed: int) -> list[LabelledReview]:
    """Structured records rendered as a mix: two fifths with no headings (a third of those run
    together), two fifths with training headings, a fifth with headings that name no aspect;
    half of them with the form's boilerplate lines."""
    rng = random.Random(seed)  # noqa: S311 - sampling, not secrets
    out = []
    for record in records:
        if not is_structured(record.get("content") or {}):
            continue
        style = rng.random()
        headings = None if style < 0.4 else TRAIN_HEADINGS if style < 0.8 else NEUTRAL_HEADINGS
        review = labelled(
            record, headings=headings, rng=rng, none_lines=rng.random() < 0.5,
            run_together=style < 0.4 / 3,
        )  # fmt: skip
        if review is not None:
            out.append(review)
    return out
