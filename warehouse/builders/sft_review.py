"""``sft-review``: paper text in, a structured four-aspect review out (OpenReview).

Each official review that ``reviews structure`` has filled becomes one row. The input is the
paper's parsed text cut to a token budget, putting the title, the abstract and the section
headings first so a truncated paper still shows its shape; the output is the review as four
sections. The decision and the rating are columns, and accepted and rejected papers are both
kept.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pyarrow as pa

from reviews.shipped import shipped_figures
from warehouse.best_source import best_ok_documents_sql
from warehouse.builders.base import (
    ALPACA_COLUMNS,
    ALPACA_FIELDS,
    BuildOutput,
    Mapper,
    NothingToBuildError,
    local_map,
)
from warehouse.builders.splits import sample_id, split_of
from warehouse.datasets.model import DatasetCard
from warehouse.db import Warehouse

INSTRUCTION = (
    "You are an expert reviewer for a machine learning conference. Read the paper below and "
    "write a review with four sections: significance and novelty, reasons for acceptance, "
    "reasons for rejection, and suggestions for improvement."
)
# Phrasings a mixture may vary between (``datasets mix --instructions varied``).
INSTRUCTIONS = (
    INSTRUCTION,
    "Review this machine learning paper as a conference reviewer would. Cover its significance "
    "and novelty, reasons to accept, reasons to reject, and suggestions for improvement.",
    "Act as a careful peer reviewer. For the paper below, write sections on significance and "
    "novelty, reasons for acceptance, reasons for rejection, and suggestions for improvement.",
)
SECTIONS = (
    ("significance", "Significance and novelty"),
    ("reasons_accept", "Reasons for acceptance"),
    ("reasons_reject", "Reasons for rejection"),
    ("suggestions", "Suggestions for improvement"),
)
CHARS_PER_TOKEN = 4  # a rough budget; the exact count depends on the trainer's tokenizer
_HEADING = re.compile(r"^#{1,6}\s+(.+)$", re.MULTILINE)
SCHEMA = pa.schema(
    [
        *ALPACA_FIELDS,
        ("paper_id", pa.string()),
        ("review_id", pa.string()),
        ("venue", pa.string()),
        ("decision", pa.string()),
        ("rating", pa.float64()),
    ]
)


def paper_input(title: str, abstract: str, markdown: str, budget_chars: int) -> str:
    """Title, section heads and abstract first, then as much body text as the budget allows.

    The heads come before the abstract so that even a tight budget keeps the paper's outline.
    """
    heads = [h.strip() for h in _HEADING.findall(markdown)]
    head = f"Title: {title}\n\nSections: {'; '.join(heads)}\n\nAbstract: {abstract}\n\n"
    if len(head) >= budget_chars:
        return head[:budget_chars]
    room = budget_chars - len(head)
    body = markdown if len(markdown) <= room else markdown[:room].rsplit(" ", 1)[0] + " …"
    return head + body


def review_output(aspects: dict[str, str | None]) -> str:
    return "\n\n".join(
        f"## {label}\n{(aspects.get(key) or 'None noted.').strip()}" for key, label in SECTIONS
    )


def _method_line(m: dict[str, Any]) -> str:
    line = f"{m['method']}" + (f" {m['version']}" if m["version"] else "")
    line += f" ({m['reviews']} reviews)"
    if f := m.get("figures"):
        f1 = ", ".join(f"{k} {v:.2f}" for k, v in f["f1"].items())
        line += f", held-out F1 {f1}, dropped {f['dropped']:.3f}"
    return line


class SftReviewBuilder:
    name = "sft-review"
    version = "1"
    defaults: dict[str, Any] = {"max_input_tokens": 6000, "validation": 0.02, "test": 0.02}

    def build(
        self, wh: Warehouse, params: dict[str, Any], mapper: Mapper = local_map
    ) -> BuildOutput:
        with wh.read() as con:
            rows = con.execute(
                f"""
                WITH doc AS ({best_ok_documents_sql("d.paper_id, d.markdown")})
                SELECT p.paper_id, coalesce(p.arxiv_id, p.paper_id) AS split_key, p.title,
                       p.abstract, p.venue, p.decision, r.review_id, r.rating,
                       r.significance, r.reasons_accept, r.reasons_reject, r.suggestions,
                       coalesce(d1.markdown, d2.markdown) AS markdown
                FROM reviews r
                JOIN papers p ON p.paper_id = r.paper_id
                LEFT JOIN doc d1 ON d1.paper_id = p.paper_id
                LEFT JOIN doc d2 ON d2.paper_id = p.arxiv_id
                WHERE r.kind = 'review' AND r.structure_method IS NOT NULL
                  AND r.structure_error IS NULL
                ORDER BY r.review_id
                """
            ).fetchall()
            methods = con.execute(
                "SELECT structure_method, prompt_version, count(*) FROM reviews "
                "WHERE kind = 'review' AND structure_method IS NOT NULL "
                "AND structure_error IS NULL GROUP BY ALL ORDER BY ALL"
            ).fetchall()
        if not rows:
            raise NothingToBuildError(
                "no structured reviews; run `scicurate crawl openreview` and "
                "`scicurate reviews structure` first"
            )
        budget = int(params["max_input_tokens"]) * CHARS_PER_TOKEN
        kept: dict[str, list[dict[str, Any]]] = {"train": [], "validation": [], "test": []}
        skipped: Counter[str] = Counter()
        decisions: Counter[str] = Counter()
        for (paper_id, key, title, abstract, venue, decision, review_id, rating,
             sig, acc, rej, sug, markdown) in rows:  # fmt: skip
            if not markdown:
                skipped["no parsed text"] += 1
                continue
            aspects = {"significance": sig, "reasons_accept": acc, "reasons_reject": rej,
                       "suggestions": sug}  # fmt: skip
            if not any(aspects.values()):
                skipped["empty review"] += 1
                continue
            decisions[decision or "undecided"] += 1
            split = split_of(key, validation=params["validation"], test=params["test"])
            kept[split].append(
                {
                    "sample_id": sample_id(self.name, review_id),
                    "instruction": INSTRUCTION,
                    "input": paper_input(title or "", abstract or "", markdown, budget),
                    "output": review_output(aspects),
                    "paper_id": paper_id,
                    "review_id": review_id,
                    "venue": venue,
                    "decision": decision,
                    "rating": rating,
                }
            )
        splits = {s: pa.Table.from_pylist(r, schema=SCHEMA) for s, r in kept.items() if r}
        if not splits:
            raise NothingToBuildError(f"every structured review was skipped: {dict(skipped)}")
        structured_by = [
            {"method": m, "version": v, "reviews": n, **(
                {"figures": f} if m == "model" and (f := shipped_figures(v)) else {}
            )}
            for m, v, n in methods
        ]  # fmt: skip
        stats = {
            "reviews": len(rows),
            "structured_by": structured_by,
            "rows": {s: t.num_rows for s, t in splits.items()},
            "skipped": dict(skipped),
            "decisions": dict(decisions),
        }
        card = DatasetCard(
            description="Paper-review generation: the paper's text in, a review organised in "
            "four aspects out (OpenReview official reviews, accepted and rejected papers).",
            license_notes="Reviews are OpenReview content under the venue's terms; papers keep "
            "their own licences.",
            how_built=(
                "Official reviews structured by `scicurate reviews structure`, joined with the "
                "latest good parse of the paper (or of its linked arXiv version); the input is "
                f"cut to about {params['max_input_tokens']} tokens with the title, abstract and "
                "section heads first; splits by paper, consistent with the other datasets. "
                "Aspects by " + "; ".join(_method_line(m) for m in structured_by) + ". "
                "Measured on held-out structured reviews (bench/bench_review_structure.py): "
                "`model` is the best method there is without an LLM endpoint, `fields` is exact "
                "only for forms with separate strengths/weaknesses/questions fields."
            ),
            source_stats=stats,
            formatting="alpaca",
            columns=ALPACA_COLUMNS,
        )
        return BuildOutput(splits=splits, card=card, params=params, stats=stats)
