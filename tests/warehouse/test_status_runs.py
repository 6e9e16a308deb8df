"""Status counts and run lineage."""

from __future__ import annotations

import dataclasses

from tests.warehouse.test_papers import FULL
from warehouse import Warehouse
from warehouse.papers import upsert_papers
from warehouse.runs import finish_run, get_run, last_runs, start_run
from warehouse.status import collect_status


def test_empty_warehouse_counts_zero(mem_wh: Warehouse) -> None:
    report = collect_status(mem_wh)
    assert report.stages and all(s.count == 0 for s in report.stages)
    assert report.runs == [] and report.problems == []


def test_counts_per_stage_and_problems(mem_wh: Warehouse) -> None:
    upsert_papers(mem_wh, [dataclasses.replace(FULL, paper_id=f"p{i}") for i in range(3)])
    with mem_wh.write() as con:
        con.execute(
            "INSERT INTO pdfs (paper_id, version, url, status, reason) VALUES "
            "('p0', 'v1', 'u', 'ok', NULL), ('p1', 'v1', 'u', 'quarantined', 'html body'), "
            "('p2', 'v1', 'u', 'quarantined', 'html body')"
        )
        con.execute(
            "INSERT INTO rejects (source, input, line_no, reason) VALUES "
            "('arxiv-snapshot', 'f.json', 7, 'invalid JSON')"
        )
        con.execute(
            "INSERT INTO feedback (feedback_id, created_at, task, query, answer, rating, state) "
            "VALUES ('f1', now(), 'qa', 'q', 'a', 'up', 'pool'), "
            "('f2', now(), 'qa', 'q', 'a', 'down', 'queued')"
        )
    report = collect_status(mem_wh)
    assert report.count("papers") == 3
    assert report.count("pdfs ok") == 1
    assert report.count("pdfs quarantined") == 2
    assert report.count("rejected records") == 1
    assert report.count("positives in pool") == 1
    assert report.count("negatives queued") == 1
    problems = {(p.where, p.reason): p.count for p in report.problems}
    assert problems == {
        ("pdfs", "html body"): 2,
        ("rejects", "arxiv-snapshot: invalid JSON"): 1,
    }


def test_runs_lineage(mem_wh: Warehouse) -> None:
    a = start_run(mem_wh, "crawl-arxiv", {"max": 5})
    finish_run(mem_wh, a.run_id, counts={"new": 5})
    b = start_run(mem_wh, "crawl-arxiv", {"max": 6})
    finish_run(mem_wh, b.run_id, counts={"new": 0}, error="503 from arXiv")
    c = start_run(mem_wh, "parse-pdfs", {})
    stored = get_run(mem_wh, a.run_id)
    assert stored is not None
    assert stored.status == "completed" and stored.counts == {"new": 5}
    assert stored.params == {"max": 5} and stored.finished_at is not None
    latest = {r.flow: r for r in last_runs(mem_wh)}
    assert latest["crawl-arxiv"].run_id == b.run_id
    assert latest["crawl-arxiv"].status == "failed"
    assert latest["crawl-arxiv"].error == "503 from arXiv"
    assert latest["parse-pdfs"].run_id == c.run_id and latest["parse-pdfs"].status == "running"
    assert get_run(mem_wh, "missing") is None
