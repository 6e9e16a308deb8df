"""sft-review: structured reviews + parsed text, accepted and rejected, within a budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.crawl_openreview import crawl_openreview
from jobs.structure_reviews import structure_reviews
from reviews.fields import FieldsStructurer
from tests.flows.test_crawl_openreview import config
from tests.openreview_replay import V2_VENUE, serve_openreview
from tests.replay import ReplayServer
from warehouse import Warehouse
from warehouse.builders.base import BuildError
from warehouse.builders.sft_review import SftReviewBuilder, paper_input

BODY = "# 1 Introduction\n" + "Graph networks matter. " * 300 + "\n# 2 Method\nWe do things.\n"


def test_reviews_become_rows_with_decisions(wh: Warehouse, shared: Path, tmp_path: Path) -> None:
    with ReplayServer() as srv:
        serve_openreview(srv, shared)
        crawl_openreview(wh, config(srv), home=tmp_path, venues=[V2_VENUE])
    builder = SftReviewBuilder()
    with pytest.raises(BuildError, match="reviews structure"):
        builder.build(wh, builder.defaults)
    structure_reviews(wh, FieldsStructurer())
    with wh.write() as con:  # parsed text for two of the three papers
        for forum in ("Gj5JTAwdoy", "IMWYNVBHob"):
            con.execute(
                "INSERT INTO documents (doc_id, paper_id, pdf_sha256, parser, parser_version, "
                "status, markdown) VALUES (?, ?, 'x', 'pymupdf', '1', 'ok', ?)",
                [f"doc-{forum}", f"openreview:{forum}", BODY],
            )
    out = builder.build(wh, {**builder.defaults, "max_input_tokens": 200})
    rows = [r for t in out.splits.values() for r in t.to_pylist()]
    assert len(rows) == 6 and out.stats["skipped"] == {"no parsed text": 3}
    assert {r["decision"] for r in rows} == {"Accept (Spotlight)", "Reject"}
    row = next(r for r in rows if r["review_id"] == "Gj5JTAwdoyR0")
    assert row["rating"] == 6.0
    assert row["output"].startswith("## Significance and novelty\nThis paper proposes")
    assert "## Reasons for rejection\nThe novelty is limited" in row["output"]
    assert "How does the method scale to larger graphs?" in row["output"]
    assert len(row["input"]) <= 200 * 4 + 2
    assert "Sections: 1 Introduction; 2 Method" in row["input"]
    ids = {s: {r["paper_id"] for r in t.to_pylist()} for s, t in out.splits.items()}
    for a in ids:
        for b in ids:
            assert a == b or not ids[a] & ids[b]  # one paper, one split


def test_truncation_keeps_title_abstract_and_heads() -> None:
    text = paper_input("A title", "An abstract.", BODY, budget_chars=300)
    assert text.startswith("Title: A title\n\nSections: 1 Introduction; 2 Method\n\nAbstract: ")
    assert len(text) <= 302 and text.endswith("…")
    assert paper_input("T", "A", "short body", 1000).endswith("short body")
