"""Deterministic sample feedback for the demo, the tests and the benchmarks.

A mix a deployed model would see: answers rated up and down, contexts of every element type,
users who did not consent, free text with e-mail addresses and phone numbers, and queries
with formatting instructions.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_TOPICS = [
    ("diffusion models", "cs.CV", "denoising score matching"),
    ("graph neural networks", "cs.LG", "message passing"),
    ("protein folding", "q-bio.BM", "contact maps"),
    ("retrieval augmented generation", "cs.CL", "dense passage retrieval"),
    ("reinforcement learning", "cs.LG", "policy gradients"),
]
_KINDS = ["paragraph", "table", "equation", "figure", "chemical_structure", "caption"]
# A 1x1 PNG page image (the demo's tasks show it; experts box regions on real page renders).
PAGE_IMAGE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Dw"
    "HwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def sample_feedback(n: int, *, seed: int = 7, negative_share: float = 0.6) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    start = datetime(2026, 11, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        topic, category, term = _TOPICS[i % len(_TOPICS)]
        paper = f"2611.{10000 + (i * 37) % 9000:05d}"
        kind = _KINDS[i % len(_KINDS)]
        down = rng.random() < negative_share
        query = f"How does {term} work in {topic}?"
        if i % 7 == 3:
            query = f"Explain {term} for {topic} in 3 bullet points."
        answer = (
            f"{term.capitalize()} in {topic} works by iteratively refining estimates; "
            f"see the paper's section {1 + i % 5} for the derivation and results."
        )
        record: dict[str, Any] = {
            "id": f"fb-{seed}-{i:06d}",
            "created_at": (start + timedelta(minutes=7 * i)).isoformat(),
            "user_consent": i % 23 != 5,
            "model_version": "sci-llm-2026.11",
            "task": ["qa", "summary", "extraction", "review"][i % 4],
            "query": query,
            "contexts": [
                {
                    "paper_id": paper,
                    "page": 1 + i % 9,
                    "text": f"We study {term} in {topic}. Table {1 + i % 3} reports the results.",
                    "element_type": kind,
                    "bbox": [72.0, 100.0 + i % 50, 300.0, 180.0],
                }
            ],
            "answer": answer,
            "rating": "down" if down else "up",
            "paper_id": paper,
            "metadata": {"category": category, "session": i // 10},
        }
        if i % 11 == 2:
            record["comment"] = (
                "Wrong! Contact me at alice.researcher@example.org or +1 (555) 123-4567."
            )
        if down and kind in ("table", "equation", "chemical_structure"):
            record["page_image"] = PAGE_IMAGE
        out.append(record)
    return out


def write_jsonl(records: list[dict[str, Any]], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec) + "\n")
    return path
