"""OAI-PMH parse + upsert throughput from local pages (network excluded).

Generates arXivRaw ListRecords pages of 1000 records (the size arXiv serves), then measures in
the same process:
- baseline: raw lxml iterparse over the same bytes, touching every record element;
- parse: scicurate's streaming parser into canonical Paper records;
- parse + upsert: the real ``harvest()`` of the crawl-arxiv job (pages, rejects, cursor and
  watermark in the warehouse) over a harvester that serves the pages from memory, into a fresh
  warehouse; then the same harvest again, where every record is unchanged.
Target: >= 20,000 records/s for parse + upsert.

A process's first Arrow conversion imports pandas (about a second, through pyarrow); it is
done once before timing, since it is a start-up cost and not a per-record one.

Usage: python bench/bench_oai.py [N]   (default 50000 records)
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import cast

from lxml import etree

from core.records import papers_to_arrow
from demo.sample import oai_pages, sample_papers
from jobs.crawl_arxiv import harvest
from sources.arxiv_oai import OAI, OAIHarvester, OAIPage, parse_list_records
from warehouse import Warehouse, migrate

N = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000


class MemoryHarvester:
    """``OAIHarvester.list_records`` over pages held in memory: parsing included, no network."""

    base_url = "memory://oai"

    def __init__(self, pages: list[tuple[str | None, bytes]]) -> None:
        self._pages = dict(pages)

    def list_records(self, *, resumption_token: str | None = None, **_: object) -> OAIPage:
        return parse_list_records(self._pages[resumption_token])


def _quiet(_: str) -> None:
    return None


def main() -> None:
    papers = sample_papers(N, seed=3, month="2611")  # ids 2611.01001.. unique up to 98999
    pages = oai_pages(papers, page_size=1000)
    bodies = [body for _, body in pages]
    papers_to_arrow([r.paper for r in parse_list_records(bodies[0]).records if r.paper])

    t0 = time.perf_counter()
    seen = 0
    for body in bodies:
        for _, elem in etree.iterparse(
            io.BytesIO(body), tag=f"{OAI}record", resolve_entities=False
        ):
            seen += 1
            elem.clear()
    raw_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    parsed = sum(len(parse_list_records(body).records) for body in bodies)
    parse_s = time.perf_counter() - t0
    assert parsed == N == seen

    replay = cast(OAIHarvester, MemoryHarvester(pages))
    with tempfile.TemporaryDirectory() as tmp:
        wh = Warehouse(Path(tmp) / "w.duckdb")
        migrate(wh)
        t0 = time.perf_counter()
        first = harvest(wh, replay, ["cs"], echo=_quiet)
        total_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = harvest(wh, replay, ["cs"], from_date="2026-11-01", echo=_quiet)
        again_s = time.perf_counter() - t0
    assert first.new == N and again.unchanged == N, (first, again)
    print(
        json.dumps(
            {
                "bench": "arxiv_oai_parse_upsert",
                "records": N,
                "baseline_lxml_iterparse_records_per_s": round(N / raw_s),
                "parse_records_per_s": round(N / parse_s),
                "parse_upsert_records_per_s": round(N / total_s),
                "ratio_parse_upsert_vs_iterparse": round(raw_s / total_s, 3),
                "rerun_unchanged_records_per_s": round(N / again_s),
                "target_records_per_s": 20000,
            }
        )
    )


if __name__ == "__main__":
    main()
