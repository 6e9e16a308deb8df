"""arXiv HTML -> ``Document`` against BeautifulSoup's bare ``get_text()`` of the same pages.

Both run in the same process over the 7 real pages in ../shared/fixtures/arxiv_fulltext/html
(after one warm-up pass), best of ROUNDS, interleaved. The baseline is the least any
BeautifulSoup-based extractor pays: parse with lxml and take all the text. Also reported: the
parse through one isolated worker (the way a flow runs it, the page bytes pickled across).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from bs4 import BeautifulSoup

from parsers.arxiv_html import parse_arxiv_html
from parsers.isolate import IsolatedWorker, Limits

PAGES = (
    Path(os.environ.get("SCICURATE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
    / "fixtures"
    / "arxiv_fulltext"
    / "html"
)
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5


def get_text(pages: list[bytes]) -> int:
    return sum(len(BeautifulSoup(data, "lxml").get_text()) for data in pages)


def structured(pages: list[bytes]) -> int:
    return sum(len(parse_arxiv_html(data).elements) for data in pages)


def isolated(pages: list[bytes], worker: IsolatedWorker) -> int:
    return sum(len(worker.call(parse_arxiv_html, data).elements) for data in pages)


def best(*runs: tuple[object, tuple[object, ...]]) -> list[float]:
    """Best time of each run over ROUNDS, the runs interleaved within each round so that a
    shared machine's load drifts over all of them alike."""
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(ROUNDS):
        for k, (fn, args) in enumerate(runs):
            t0 = time.perf_counter()
            fn(*args)  # type: ignore[operator]
            times[k].append(time.perf_counter() - t0)
    return [min(t) for t in times]


def main() -> None:
    if not PAGES.is_dir():
        sys.exit(f"the pages are not at {PAGES}; set SCICURATE_SHARED")
    pages = [p.read_bytes() for p in sorted(PAGES.glob("*.html"))]
    get_text(pages)  # warm-up
    structured(pages)
    with IsolatedWorker(Limits(wall_s=120, memory_mb=2048)) as worker:
        isolated(pages[:1], worker)  # start the worker
        raw_s, doc_s, iso_s = best(
            (get_text, (pages,)), (structured, (pages,)), (isolated, (pages, worker))
        )
    n = len(pages)
    print(
        json.dumps(
            {
                "bench": "arxiv-html-parse",
                "pages": n,
                "megabytes": round(sum(map(len, pages)) / 1e6, 2),
                "bs4_get_text_docs_per_s": round(n / raw_s, 2),
                "structured_docs_per_s": round(n / doc_s, 2),
                "ratio_vs_get_text": round(raw_s / doc_s, 3),
                "isolated_docs_per_s": round(n / iso_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
