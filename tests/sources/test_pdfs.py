"""PDF download: validation, atomic storage, quarantine with backoff, retries, adoption."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pymupdf
import pytest

from core.http import PoliteClient, Politeness
from core.records import Paper, PaperVersion
from demo.sample import sample_papers, sample_pdf
from sources.errors import InvalidIdError, TransientHTTPError
from sources.pdfs import (
    InvalidPdfError,
    PdfCounts,
    PdfTarget,
    fetch_pdfs,
    remove_stale_parts,
    validate_pdf,
)
from tests.replay import Fault, ReplayServer, Response
from warehouse import Warehouse
from warehouse.papers import upsert_papers
from warehouse.pdfs import PdfLedger, due_targets

PAPERS = sample_papers(3)
PDF = sample_pdf(PAPERS[0])


def _encrypted_pdf() -> bytes:
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "secret")
    data: bytes = doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    return data


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"<!DOCTYPE html><html><body>Please solve the captcha</body></html>", "HTML"),
        (b"  <html><head></head></html>", "HTML"),
        (b"GIF89a....", "no %PDF- header"),
        (PDF[: len(PDF) // 2], "truncated"),
        (b"%PDF-1.7\nthis is not really a pdf\n%%EOF\n", "PyMuPDF cannot open it"),
        (_encrypted_pdf(), "encrypted"),
    ],
    ids=["empty", "html", "html-leading-space", "not-pdf", "truncated", "garbage", "encrypted"],
)
def test_validation_names_the_problem(tmp_path: Path, body: bytes, reason: str) -> None:
    with pytest.raises(InvalidPdfError, match=reason):
        validate_pdf(body, tmp_path / "scratch.pdf")
    assert not (tmp_path / "scratch.pdf").exists()


def test_a_real_pdf_validates(tmp_path: Path, shared: Path) -> None:
    data = (shared / "corpus/sp_map-reduce.pdf").read_bytes()
    assert validate_pdf(data, tmp_path / "s.pdf") == 13
    assert validate_pdf(PDF, tmp_path / "s.pdf") == 2


@pytest.fixture
def setup(wh: Warehouse) -> Iterator[tuple[Warehouse, ReplayServer]]:
    papers = [
        Paper(
            paper_id=p.arxiv_id,
            source="arxiv-oai",
            title=p.title,
            versions=[PaperVersion(f"v{i + 1}", t) for i, t in enumerate(p.versions)],
        )
        for p in PAPERS
    ] + [
        Paper(
            paper_id="hep-th/9901001",
            source="arxiv-oai",
            title="old",
            versions=[PaperVersion("v2", datetime(1999, 1, 2))],
        )
    ]
    upsert_papers(wh, papers)
    with ReplayServer() as srv:
        for p in PAPERS:
            srv.add(
                f"/pdf/{p.arxiv_id}{p.latest}",
                Response(200, sample_pdf(p), content_type="application/pdf"),
            )
        srv.add("/pdf/hep-th/9901001v2", Response(200, PDF, content_type="application/pdf"))
        yield wh, srv


def _fetch(wh: Warehouse, srv: ReplayServer, home: Path, ids: list[str] | None = None) -> PdfCounts:
    client = PoliteClient(
        Politeness(min_interval=0, backoff_first=0.01, max_retry_wait=2, max_attempts=3)
    )
    targets = due_targets(wh, ids, arxiv_pdf_url=f"{srv.url}/pdf/")
    return fetch_pdfs(PdfLedger(wh), client, home, targets)


def test_download_store_and_skip(setup: tuple[Warehouse, ReplayServer], tmp_path: Path) -> None:
    wh, srv = setup
    counts = _fetch(wh, srv, tmp_path)
    assert (counts.ok, counts.quarantined) == (4, 0)
    with wh.read() as con:
        rows = con.execute(
            'SELECT paper_id, "version", path, sha256, bytes, pages, status, url '
            "FROM pdfs ORDER BY 1"
        ).fetchall()
    by_id = {r[0]: r for r in rows}
    old = by_id["hep-th/9901001"]
    assert old[1] == "v2" and old[2] == "pdfs/hep-th/9901/9901001/v2.pdf"
    first = by_id[PAPERS[0].arxiv_id]
    stored = tmp_path / first[2]
    assert stored.read_bytes() == sample_pdf(PAPERS[0])
    assert first[3] == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert first[4] == stored.stat().st_size and first[5] == 2 and first[6] == "ok"
    assert first[7].endswith(f"/pdf/{PAPERS[0].arxiv_id}{PAPERS[0].latest}")
    # Nothing is due any more: a rerun downloads nothing.
    before = len(srv.requests)
    assert _fetch(wh, srv, tmp_path).ok == 0
    assert len(srv.requests) == before
    assert not list(tmp_path.rglob("*.part"))


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault(status=200, body=b"<!DOCTYPE html><html>captcha</html>"), "HTML"),
        (Fault(status=200, body=b""), "empty body"),
        (Fault(status=404, body=b"not found"), "HTTP 404"),
        (Fault(status=200, body=PDF[:3000]), "truncated"),
    ],
    ids=["html", "empty", "404", "truncated"],
)
def test_bad_bodies_are_quarantined_then_retried(
    setup: tuple[Warehouse, ReplayServer], tmp_path: Path, fault: Fault, reason: str
) -> None:
    wh, srv = setup
    target = PAPERS[1]
    srv.fault(f"/pdf/{target.arxiv_id}{target.latest}", fault)
    counts = _fetch(wh, srv, tmp_path, [target.arxiv_id])
    assert (counts.ok, counts.quarantined) == (0, 1)
    with wh.read() as con:
        [(status, why, attempts, due, path)] = con.execute(
            "SELECT status, reason, attempts, next_attempt_at > now(), path FROM pdfs"
        ).fetchall()
    assert status == "quarantined" and reason in why and attempts == 1 and due
    assert not list((tmp_path / "pdfs").rglob("*.pdf"))  # nothing half-accepted
    if fault.body:
        assert (tmp_path / path).read_bytes() == fault.body  # kept for inspection
    # Not due yet: the next run leaves it alone.
    assert due_targets(wh, [target.arxiv_id], arxiv_pdf_url="http://x/") == []
    # Once the backoff has passed, a rerun fetches the good body.
    with wh.write() as con:
        con.execute("UPDATE pdfs SET next_attempt_at = now() - INTERVAL 1 MINUTE")
    counts = _fetch(wh, srv, tmp_path, [target.arxiv_id])
    assert counts.ok == 1
    with wh.read() as con:
        assert con.execute("SELECT status, reason, attempts FROM pdfs").fetchall() == [
            ("ok", None, 2)
        ]


def test_backoff_doubles(setup: tuple[Warehouse, ReplayServer], tmp_path: Path) -> None:
    wh, srv = setup
    target = PAPERS[0]
    route = f"/pdf/{target.arxiv_id}{target.latest}"
    delays = []
    for _ in range(3):
        srv.fault(route, Fault(status=200, body=b"<html>no</html>"))
        with wh.write() as con:
            con.execute("UPDATE pdfs SET next_attempt_at = now() - INTERVAL 1 MINUTE")
        _fetch(wh, srv, tmp_path, [target.arxiv_id])
        with wh.read() as con:
            [(hours,)] = con.execute(
                "SELECT round(epoch(next_attempt_at - fetched_at) / 3600) FROM pdfs"
            ).fetchall()
        delays.append(hours)
    assert delays == [1, 2, 4]


def test_persistent_transient_failures_stop_the_step(
    setup: tuple[Warehouse, ReplayServer], tmp_path: Path
) -> None:
    wh, srv = setup
    for p in PAPERS:
        srv.fault(f"/pdf/{p.arxiv_id}{p.latest}", Fault(status=503), times=10)
    with pytest.raises(TransientHTTPError):
        _fetch(wh, srv, tmp_path)
    with wh.read() as con:
        rows = con.execute("SELECT status, reason FROM pdfs").fetchall()
    assert len(rows) == 3 and all(s == "quarantined" and "HTTP 503" in r for s, r in rows)


def test_a_file_left_by_a_killed_run_is_adopted(
    setup: tuple[Warehouse, ReplayServer], tmp_path: Path
) -> None:
    wh, srv = setup
    target = PdfTarget(PAPERS[2].arxiv_id, PAPERS[2].latest, "http://127.0.0.1:9/unused")
    dest = tmp_path / target.relative_path()
    dest.parent.mkdir(parents=True)
    dest.write_bytes(sample_pdf(PAPERS[2]))
    stale = dest.with_name(f".{dest.name}.999999.part")
    stale.write_bytes(b"half")
    counts = _fetch(wh, srv, tmp_path, [target.paper_id])
    assert counts.skipped == 1 and counts.ok == 0
    assert srv.requests_to(f"/pdf/{target.versioned_id}") == []
    assert not stale.exists()


def test_stale_part_of_a_live_process_is_kept(tmp_path: Path) -> None:
    live = tmp_path / f".x.pdf.{os.getpid()}.part"
    live.write_bytes(b"in progress")
    assert remove_stale_parts(tmp_path) == 0 and live.exists()


def test_openreview_paths_are_safe() -> None:
    target = PdfTarget("openreview:tVNZj27pb3", "", "https://openreview.net/pdf?id=tVNZj27pb3")
    assert str(target.relative_path()) == "pdfs/openreview/tV/tVNZj27pb3/latest.pdf"
    for bad in ("openreview:../../etc", "openreview:a/b", "openreview:", "../x"):
        with pytest.raises(InvalidIdError):
            PdfTarget(bad, "", "u").relative_path()
