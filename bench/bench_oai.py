"""OAI-PMH parse + upsert throughput from local pages (network excluded).

Generates arXivRaw ListRecords pages of 1000 records (the size arXiv serves), then measures in
the same process:
- baseline: raw lxml iterparse over the same bytes, touching every record element;
- parse: scicurate's streaming parser into canonical Paper records;
- parse + upsert: the same, stored into a fresh warehouse (one transaction per page).
Target: >= 20,000 records/s for parse + upsert.
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree

from flows.sample import oai_pages, sample_papers
from flows.sources.arxiv_oai import OAI, parse_list_records
from warehouse import Warehouse, migrate
from warehouse.papers import PREFER_EXISTING
from warehouse.records import papers_to_arrow
from warehouse.upsert import upsert_arrow

N = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000


def main() -> None:
    papers = sample_papers(N, seed=3, month="2611")
    papers = [p for p in papers]  # ids 2611.01001.. are unique up to 98999 records
    pages = [body for _, body in oai_pages(papers, page_size=1000)]

    t0 = time.perf_counter()
    seen = 0
    for body in pages:
        for _, elem in etree.iterparse(
            io.BytesIO(body), tag=f"{OAI}record", resolve_entities=False
        ):
            seen += 1
            elem.clear()
    raw_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    parsed = [parse_list_records(body) for body in pages]
    parse_s = time.perf_counter() - t0
    assert sum(len(p.records) for p in parsed) == N == seen

    with tempfile.TemporaryDirectory() as tmp:
        wh = Warehouse(Path(tmp) / "w.duckdb")
        migrate(wh)
        t0 = time.perf_counter()
        stored = 0
        for body in pages:
            page = parse_list_records(body)
            batch = [r.paper for r in page.records if r.paper is not None]
            with wh.write() as con:
                stored += upsert_arrow(
                    con, "papers", papers_to_arrow(batch), ["paper_id"], hash_exclude=["source"],
                    touch=["last_changed"], merge_prefer_existing=PREFER_EXISTING,
                ).inserted  # fmt: skip
        total_s = time.perf_counter() - t0
    assert stored == N
    print(
        json.dumps(
            {
                "bench": "arxiv_oai_parse_upsert",
                "records": N,
                "baseline_lxml_iterparse_records_per_s": round(N / raw_s),
                "parse_records_per_s": round(N / parse_s),
                "parse_upsert_records_per_s": round(N / total_s),
                "ratio_parse_upsert_vs_iterparse": round(raw_s / total_s, 3),
                "target_records_per_s": 20000,
            }
        )
    )


if __name__ == "__main__":
    main()
