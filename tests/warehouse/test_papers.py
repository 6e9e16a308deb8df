"""Papers round-trip through Arrow and DuckDB without losing a field."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

from core.records import Paper, PaperVersion
from warehouse import Warehouse
from warehouse.papers import count_papers, get_paper, upsert_papers
from warehouse.upsert import UpsertResult

FULL = Paper(
    paper_id="hep-th/9901001",
    source="arxiv-snapshot",
    title="Quantum gravity, briefly",
    abstract="We show things.",
    authors="A. Einstein and N. Bohr",
    authors_parsed=[["Einstein", "A.", ""], ["Bohr", "N.", "Jr"]],
    categories=["hep-th", "gr-qc"],
    primary_category="hep-th",
    submitter="Albert Einstein",
    comments="10 pages",
    journal_ref="Phys. Rev. D 1 (1999) 1",
    doi="10.1000/xyz",
    report_no="IAS-99-1",
    license="http://creativecommons.org/licenses/by/4.0/",
    versions=[
        PaperVersion("v1", datetime(1999, 1, 1, 12, 0), "10kb"),
        PaperVersion("v2", datetime(1999, 2, 1, 8, 30), "12kb"),
    ],
    update_date=date(1999, 2, 2),
    published=datetime(1999, 1, 1, 12, 0),
    updated=datetime(1999, 2, 1, 8, 30),
)


def test_round_trip_every_field(mem_wh: Warehouse) -> None:
    assert upsert_papers(mem_wh, [FULL]) == UpsertResult(inserted=1)
    assert get_paper(mem_wh, FULL.paper_id) == FULL
    assert get_paper(mem_wh, "0000.00000") is None


def test_rerun_changes_nothing_and_changes_are_updates(wh: Warehouse) -> None:
    upsert_papers(wh, [FULL])
    assert upsert_papers(wh, [FULL]) == UpsertResult(unchanged=1)
    changed = dataclasses.replace(FULL, title="Quantum gravity, at length")
    assert upsert_papers(wh, [changed]) == UpsertResult(updated=1)
    assert get_paper(wh, FULL.paper_id) == changed
    assert count_papers(wh) == 1


def test_source_alone_does_not_count_as_a_change(mem_wh: Warehouse) -> None:
    upsert_papers(mem_wh, [FULL])
    same_from_oai = dataclasses.replace(FULL, source="arxiv-oai")
    assert upsert_papers(mem_wh, [same_from_oai]) == UpsertResult(unchanged=1)


def test_batches_are_split_and_counted(wh: Warehouse) -> None:
    papers = [dataclasses.replace(FULL, paper_id=f"2401.{i:05d}") for i in range(2500)]
    assert upsert_papers(wh, papers, batch_size=1000) == UpsertResult(inserted=2500)
    assert count_papers(wh) == 2500
