"""Review structuring on held-out reviews: ``fields`` and ``model`` side by side (and ``llm``
when SCICURATE_LLM_URL is set), per-aspect precision/recall/F1, dropped share, confusion.

1. ICLR 2024 reviews with separate summary/strengths/weaknesses/questions fields, from forums
   the model never trained on (the forum-hash split of ``reviews.corpus.is_heldout``). Each is
   joined into one free text as an API v1 reviewer would write it, twice: with the headings
   removed, with free-form headings that no training review used ("What I liked",
   "Main criticisms" …), and run together (no headings, and a field that starts in prose goes
   on in the paragraph where the one before it ended, so the aspect changes inside a
   paragraph). Every unit of a field is labelled with that field's aspect.
2. ICLR 2023 reviews, whose ``strength_and_weaknesses`` is one combined field: partial labels.
   The text is ``summary_of_the_paper`` (labelled significance) followed by the combined
   field; units of the combined field that sit under the reviewer's own strengths or weaknesses
   heading are labelled reasons to accept or reject, and those headings are removed from the
   text the methods see. Units under no such heading are in the text but not scored.

Every method is scored only from its output aspects (``labels_from_aspects``).
Usage: python bench/bench_review_structure.py [N_2024] [N_2023] [MODEL_DIR]
       (defaults 400, 300, the shipped default model)
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from reviews.base import Structurer
from reviews.corpus import FREE_HEADINGS, read_reviews
from reviews.fields import _HEADER, FieldsStructurer
from reviews.learned import (
    ModelStructurer,
    labels_from_aspects,
    load_model,
    method_pairs,
    split_records,
    unit_scores,
)
from reviews.model import ReviewModel
from reviews.segment import segment

DATA = Path(__file__).resolve().parents[1] / (
    "../shared/fixtures/openreview/reviews_v2/iclr2023_2024_official_reviews.jsonl.gz"
)
N_2024 = int(sys.argv[1]) if len(sys.argv) > 1 else 400
N_2023 = int(sys.argv[2]) if len(sys.argv) > 2 else 300
MODEL_DIR = Path(sys.argv[3]) if len(sys.argv) > 3 else None


def combined_2023(record: dict[str, Any]) -> tuple[str, list[str], list[str | None]] | None:
    """Text with the reviewer's strengths/weaknesses headings removed, unit texts, labels."""
    content = record["content"]
    summary = str(content.get("summary_of_the_paper") or "").strip()
    units = segment(str(content.get("strength_and_weaknesses") or ""))
    labels: list[str | None] = []
    seen = set()
    for unit in units:
        m = _HEADER.match((unit.heading or "") + ":")
        aspect = None
        if m and (m.group("reasons_accept") or m.group("reasons_reject")):
            aspect = "reasons_accept" if m.group("reasons_accept") else "reasons_reject"
            seen.add(aspect)
        labels.append(aspect)
    if seen != {"reasons_accept", "reasons_reject"} or not summary:
        return None
    paragraphs: list[list[str]] = []
    for unit in units:
        if unit.first_in_block or not paragraphs:
            paragraphs.append([])
        paragraphs[-1].append(("- " if unit.item and unit.first_in_block else "") + unit.text)
    text = summary + "\n\n" + "\n\n".join(" ".join(p) for p in paragraphs)
    summary_units = segment(summary)
    return (
        text,
        [u.text for u in summary_units] + [u.text for u in units],
        ["significance"] * len(summary_units) + labels,
    )


def score_2023(structurer: Structurer, records: list[dict[str, Any]]) -> dict[str, Any]:
    pairs = []
    for record in records:
        made = combined_2023(record)
        if made is None:
            continue
        text, texts, labels = made
        aspects = structurer.structure(
            {"review": text, "rating": record["content"].get("recommendation")}
        )
        for gold, pred in zip(labels, labels_from_aspects(texts, aspects), strict=True):
            if gold is not None:
                pairs.append((gold, pred))
    return unit_scores(pairs)


def main() -> None:
    records = list(read_reviews(DATA))
    _, heldout = split_records(records, max_heldout=N_2024)
    # No 2023 review has separate fields, so none was trained on.
    r2023 = [r for r in records if "strength_and_weaknesses" in r["content"]][:N_2023]
    model = ReviewModel.load(MODEL_DIR) if MODEL_DIR else load_model(None)
    methods: dict[str, Structurer] = {
        "fields": FieldsStructurer(), "model": ModelStructurer(model),
    }  # fmt: skip
    if os.environ.get("SCICURATE_LLM_URL"):
        from cli.reviews import Method, make_structurer
        from settings import load_settings

        methods["llm"] = make_structurer(Method.llm, load_settings())
    else:
        print(json.dumps({"bench": "review_structure", "method": "llm",
                          "skipped": "SCICURATE_LLM_URL is not set"}))  # fmt: skip
    random.seed(0)
    for name, structurer in methods.items():
        for case, headings, run_together in (
            ("2024 headings removed", None, False),
            ("2024 free-form headings", FREE_HEADINGS, False),
            ("2024 run together", None, True),
        ):
            t0 = time.perf_counter()
            scores = unit_scores(method_pairs(
                structurer, heldout, headings=headings, seed=1, run_together=run_together
            ))  # fmt: skip
            print(json.dumps({
                "bench": "review_structure", "case": case, "method": name,
                "version": structurer.prompt_version, "reviews": len(heldout),
                "seconds": round(time.perf_counter() - t0, 1), **scores,
            }))  # fmt: skip
        t0 = time.perf_counter()
        scores = score_2023(structurer, r2023)
        print(json.dumps({
            "bench": "review_structure", "case": "2023 strength_and_weaknesses (partial labels)",
            "method": name, "version": structurer.prompt_version,
            "seconds": round(time.perf_counter() - t0, 1), **scores,
        }))  # fmt: skip


if __name__ == "__main__":
    main()
