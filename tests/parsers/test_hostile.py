"""Hostile PDFs: each ends as a failed parse with a reason, inside its limits; nothing hangs."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from parsers.isolate import IsolatedWorker
from parsers.ocr import OcrOptions
from parsers.pymupdf import PyMuPDFOptions
from parsers.run import ParseSpec, parse_isolated
from tests.parsers import hostile

SPEC = ParseSpec(wall_s=20, memory_mb=1024, max_pages=500)

CASES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("truncated", hostile.truncated, "truncated: no %%EOF trailer"),
    ("random bytes", hostile.random_bytes, "no %PDF- header"),
    ("zero length", hostile.zero_length, "empty file (0 bytes)"),
    ("encrypted", hostile.encrypted, "encrypted PDF (needs a password)"),
    ("thousands of pages", hostile.many_pages, "3000 pages, over the limit of 500"),
    ("deeply nested objects", hostile.deeply_nested, "MuPDF hit a limit"),
    ("huge embedded image", hostile.huge_image, "would decode to 1,526 MB, over the 512 MB"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("case", "make", "reason"), CASES, ids=[c[0] for c in CASES])
def test_hostile_pdf_fails_cleanly(
    tmp_path: Path, case: str, make: Callable[[Path], Path], reason: str
) -> None:
    path = make(tmp_path / "hostile.pdf")
    start = time.monotonic()
    with IsolatedWorker(SPEC.limits()) as worker:
        doc = parse_isolated(path, SPEC, worker)
        assert doc.status == "failed"
        assert doc.reason is not None and reason in doc.reason
        assert doc.elements == []
        # the same worker (or its replacement) parses a good file right after
        good = tmp_path / "good.pdf"
        good.write_bytes(hostile.good_pdf())
        assert parse_isolated(good, SPEC, worker).status == "ok"
    assert time.monotonic() - start < SPEC.wall_s


def test_wall_time_limit_kills_a_slow_parse(tmp_path: Path) -> None:
    path = hostile.many_pages(tmp_path / "long.pdf", pages=3000)
    spec = ParseSpec(wall_s=0.5, max_pages=10_000, pymupdf=PyMuPDFOptions(tables=False))
    start = time.monotonic()
    with IsolatedWorker(spec.limits()) as worker:
        doc = parse_isolated(path, spec, worker)
    assert doc.status == "failed" and doc.reason == "timed out after 0.5s"
    assert time.monotonic() - start < 5


def test_memory_limit_is_a_failed_parse_not_a_crash(tmp_path: Path) -> None:
    path = hostile.huge_image(tmp_path / "bomb.pdf")
    # let the bomb through the decode check so the address-space limit has to catch it
    spec = ParseSpec(
        memory_mb=400,
        pymupdf=PyMuPDFOptions(
            max_image_mb=100_000,
            figures_dir=tmp_path / "figs",
            figure_dpi=2400,
            ocr=OcrOptions(enabled=False),  # OCR renders within its pixel budget
        ),
    )
    with IsolatedWorker(spec.limits()) as worker:
        doc = parse_isolated(path, spec, worker)
    assert doc.status == "failed"
    assert doc.reason and ("malloc" in doc.reason or "memory" in doc.reason), doc.reason
