"""sft-title: filters, dedup, category caps, and splits that never leak a paper."""

from __future__ import annotations

import pytest

from core.records import Paper
from warehouse import Warehouse
from warehouse.builders.base import BuildError, merge_params
from warehouse.builders.sft_title import INSTRUCTION, SftTitleBuilder
from warehouse.builders.splits import sample_id, split_of
from warehouse.papers import upsert_papers

ABSTRACT = "We study a problem and propose a method that works well on benchmarks. " * 5


def paper(i: int, **kw: object) -> Paper:
    values: dict[str, object] = {
        "paper_id": f"2401.{i:05d}", "source": "arxiv-oai", "title": f"A study of topic {i}",
        "abstract": ABSTRACT + f" Paper {i}.", "primary_category": "cs.LG",
    }  # fmt: skip
    values.update(kw)
    return Paper(**values)  # type: ignore[arg-type]


def build(wh: Warehouse, **params: str) -> dict[str, list[dict[str, object]]]:
    builder = SftTitleBuilder()
    out = builder.build(wh, merge_params(builder.defaults, params))
    return {split: table.to_pylist() for split, table in out.splits.items()}


def test_rows_filters_and_dedup(mem_wh: Warehouse) -> None:
    upsert_papers(mem_wh, [
        paper(1), paper(2),
        paper(3, title="Short"),                                    # title too short
        paper(4, abstract="Too short."),                            # abstract too short
        paper(5, title=r"The \alpha \beta \gamma \delta of $x"),    # LaTeX noise
        paper(6, title="A Study of Topic 1!"),                      # same title, normalised
        paper(7, abstract=ABSTRACT + " Paper 2."),                  # same abstract as 2
        paper(8, source="openreview", paper_id="openreview:abc"),   # not arXiv
    ])  # fmt: skip
    rows = [r for split in build(mem_wh).values() for r in split]
    assert sorted(r["paper_id"] for r in rows) == ["2401.00001", "2401.00002"]
    row = next(r for r in rows if r["paper_id"] == "2401.00001")
    assert row["instruction"] == INSTRUCTION
    assert row["input"] == ABSTRACT + " Paper 1."  # as stored in the warehouse
    assert row["output"] == "A study of topic 1"
    assert row["sample_id"] == sample_id("sft-title", "2401.00001")
    stats = SftTitleBuilder().build(mem_wh, SftTitleBuilder.defaults).stats
    assert stats["dropped"] == {
        "title length": 1, "abstract length": 1, "LaTeX noise": 1, "duplicate": 2,
    }  # fmt: skip


def test_category_cap(mem_wh: Warehouse) -> None:
    upsert_papers(
        mem_wh, [paper(i, primary_category="cs.LG" if i < 8 else "cs.CV") for i in range(10)]
    )
    rows = [r for split in build(mem_wh, max_per_category="3").values() for r in split]
    per = {c: sum(r["primary_category"] == c for r in rows) for c in ("cs.LG", "cs.CV")}
    assert per == {"cs.LG": 3, "cs.CV": 2}


def test_splits_are_deterministic_and_never_leak(mem_wh: Warehouse) -> None:
    upsert_papers(mem_wh, [paper(i) for i in range(2000)])
    first = build(mem_wh, validation="0.05", test="0.05")
    second = build(mem_wh, validation="0.05", test="0.05")
    assert first == second
    ids = {split: {r["paper_id"] for r in rows} for split, rows in first.items()}
    assert set(ids) == {"train", "validation", "test"}
    assert not ids["train"] & ids["validation"] and not ids["train"] & ids["test"]
    assert not ids["validation"] & ids["test"]
    assert 50 <= len(ids["test"]) <= 150  # about 5%
    for split, members in ids.items():  # the same rule any other builder uses
        assert all(split_of(pid, validation=0.05, test=0.05) == split for pid in members)


def test_parameters_are_checked(mem_wh: Warehouse) -> None:
    with pytest.raises(BuildError, match="unknown parameter"):
        merge_params(SftTitleBuilder.defaults, {"nope": "1"})
    with pytest.raises(BuildError, match="not a valid int"):
        merge_params(SftTitleBuilder.defaults, {"max_per_category": "many"})
    with pytest.raises(BuildError, match="crawl some first"):
        SftTitleBuilder().build(mem_wh, SftTitleBuilder.defaults)
