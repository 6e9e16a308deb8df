"""Structured PyMuPDF parsing of ../shared/corpus against raw ``page.get_text()``.

Both run in the same process over the same files (after one warm-up pass that loads fonts and
the OS cache). Reported: pages/s for raw text, the structured parse without and with the
budgeted ``find_tables()``, and the structured parse on all cores through isolated workers
(the way the flow runs it). Targets: >= 100 pages/s per core and >= 0.25x raw.
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pymupdf

from parsers.isolate import IsolatedWorker
from parsers.pymupdf import PyMuPDFOptions, PyMuPDFParser
from parsers.run import ParseSpec, parse_isolated

CORPUS = (
    Path(os.environ.get("SCICURATE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
    / "corpus"
)
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3


def raw(files: list[Path]) -> int:
    pages = 0
    for path in files:
        with pymupdf.open(path) as doc:
            for page in doc:
                page.get_text()
                pages += 1
    return pages


def structured(files: list[Path], parser: PyMuPDFParser) -> int:
    return sum(len(parser.parse(path).pages) for path in files)


def timed(fn: object, *args: object) -> tuple[int, float]:
    best = float("inf")
    pages = 0
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        pages = fn(*args)  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return pages, best


def all_cores(files: list[Path], cores: int) -> tuple[int, float]:
    spec = ParseSpec()
    workers = [IsolatedWorker(spec.limits()) for _ in range(cores)]
    try:
        with ThreadPoolExecutor(cores) as pool:  # warm the workers (fork + first import)
            list(pool.map(lambda w: parse_isolated(files[0], spec, w), workers))
        t0 = time.perf_counter()
        jobs = [(files[i], workers[i % cores]) for i in range(len(files))]
        by_worker: dict[int, list[Path]] = {}
        for i, (path, _) in enumerate(jobs):
            by_worker.setdefault(i % cores, []).append(path)

        def run(k: int) -> int:
            return sum(len(parse_isolated(p, spec, workers[k]).pages) for p in by_worker[k])

        with ThreadPoolExecutor(cores) as pool:
            pages = sum(pool.map(run, range(cores)))
        return pages, time.perf_counter() - t0
    finally:
        for w in workers:
            w.close()


def main() -> None:
    if not CORPUS.is_dir():
        sys.exit(f"the corpus is not at {CORPUS}; set SCICURATE_SHARED")
    files = sorted(CORPUS.glob("*.pdf"))
    raw(files)  # warm-up
    structured(files, PyMuPDFParser())
    raw_pages, raw_s = timed(raw, files)
    no_tab_pages, no_tab_s = timed(structured, files, PyMuPDFParser(PyMuPDFOptions(tables=False)))
    tab_pages, tab_s = timed(structured, files, PyMuPDFParser())
    cores = os.cpu_count() or 1
    par_pages, par_s = all_cores(files, cores)
    out = {
        "bench": "pymupdf-structured-parse",
        "files": len(files),
        "pages": raw_pages,
        "raw_get_text_pages_per_s": round(raw_pages / raw_s, 1),
        "structured_no_tables_pages_per_s": round(no_tab_pages / no_tab_s, 1),
        "structured_pages_per_s": round(tab_pages / tab_s, 1),
        "ratio_no_tables_vs_raw": round(raw_s / no_tab_s, 3),
        "ratio_vs_raw": round(raw_s / tab_s, 3),
        "cores": cores,
        "all_cores_isolated_pages_per_s": round(par_pages / par_s, 1),
        "target": ">= 100 pages/s per core and >= 0.25x raw",
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
