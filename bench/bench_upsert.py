"""Warehouse upsert throughput against a raw DuckDB insert of the same Arrow table.

Prints one JSON line. The baseline is `INSERT INTO papers SELECT * FROM <arrow>` into an empty
table in the same process; the figure is `upsert_papers` (dataclasses -> Arrow -> idempotent
upsert with change counting), first into an empty table, then again unchanged (a re-crawl).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa

from core.records import Paper, PaperVersion, papers_to_arrow
from warehouse import Warehouse, migrate
from warehouse.papers import upsert_papers
from warehouse.upsert import upsert_arrow

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000

BASE = Paper(
    paper_id="",
    source="arxiv-snapshot",
    title="A study of things " * 3,
    abstract="We study things. " * 60,
    authors="A. Author, B. Author and C. Author",
    authors_parsed=[["Author", "A.", ""], ["Author", "B.", ""], ["Author", "C.", ""]],
    categories=["cs.LG", "cs.AI"],
    primary_category="cs.LG",
    submitter="A. Author",
    versions=[PaperVersion("v1", datetime(2024, 1, 1), "100kb")],
    update_date=date(2024, 1, 2),
)


def main() -> None:
    papers = [
        dataclasses.replace(BASE, paper_id=f"24{i // 100000:02d}.{i % 100000:05d}")
        for i in range(N)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        table = papers_to_arrow(papers)
        to_arrow_s = time.perf_counter() - t0

        raw = Warehouse(Path(tmp) / "raw.duckdb")
        migrate(raw)
        with_hash = table.append_column("content_hash", pa.array(["x"] * N))
        t0 = time.perf_counter()
        with raw.write() as con:
            con.register("batch", with_hash)
            cols = ", ".join(f'"{c}"' for c in with_hash.column_names)
            con.execute(f"INSERT INTO papers ({cols}) SELECT {cols} FROM batch").fetchall()
        raw_s = time.perf_counter() - t0

        wh = Warehouse(Path(tmp) / "wh.duckdb")
        migrate(wh)
        t0 = time.perf_counter()
        with wh.write() as con:
            first = upsert_arrow(con, "papers", table, ["paper_id"], hash_exclude=["source"])
        first_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = upsert_papers(wh, papers)
        again_s = time.perf_counter() - t0
    assert first.inserted == N and again.unchanged == N
    print(
        json.dumps(
            {
                "bench": "warehouse_upsert_papers",
                "rows": N,
                "baseline_raw_insert_rows_per_s": round(N / raw_s),
                "upsert_arrow_new_rows_per_s": round(N / first_s),
                "ratio_upsert_vs_raw_insert": round(raw_s / first_s, 3),
                "dataclass_to_arrow_rows_per_s": round(N / to_arrow_s),
                "upsert_papers_unchanged_rows_per_s": round(N / again_s),
            }
        )
    )


if __name__ == "__main__":
    main()
