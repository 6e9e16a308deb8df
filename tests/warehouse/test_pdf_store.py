"""PDFs on object storage: mirrored to moto's real S3 API, then fetched (and checksummed) by a
machine whose local disk lacks them, and parsed."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from demo.sample import sample_papers
from jobs.parse_pdfs import parse_pdfs
from parsers.run import ParseSpec
from tests.arxiv_replay import crawl_sample
from tests.warehouse.datasets.test_remote import s3  # noqa: F401 - the moto S3 fixture
from warehouse import Warehouse
from warehouse.pdf_store import PdfStore

PAPERS = sample_papers(5)


def test_mirror_then_parse_on_a_machine_without_the_files(
    wh: Warehouse,
    tmp_path: Path,
    s3: dict[str, Any],  # noqa: F811
) -> None:
    crawl_sample(wh, tmp_path, PAPERS)
    store = PdfStore("s3://scicurate-test/pdf-store", s3)
    assert store.mirror(wh, tmp_path) == 5
    assert store.mirror(wh, tmp_path) == 0  # already there
    with wh.read() as con:
        uris = [
            r[0] for r in con.execute("SELECT store_uri FROM pdfs ORDER BY paper_id").fetchall()
        ]
    assert all(u.startswith("s3://scicurate-test/pdf-store/pdfs/") for u in uris)

    shutil.rmtree(tmp_path / "pdfs")  # another machine: the catalog, but no local files
    counts = parse_pdfs(wh, tmp_path, ParseSpec(), workers=2, storage_options=s3)
    assert counts.documents == 5 and counts.ok == 5
    assert len(list((tmp_path / "pdfs").rglob("*.pdf"))) == 5  # fetched into the cache

    # a corrupted object in the store is a failed parse with the reason, not a bad document
    import fsspec

    with wh.write() as con:
        con.execute("DELETE FROM documents")
    shutil.rmtree(tmp_path / "pdfs")
    fs, _ = fsspec.core.url_to_fs("s3://scicurate-test", **s3)
    fs.pipe_file(uris[0].removeprefix("s3://"), b"%PDF-1.7 tampered %%EOF")
    counts = parse_pdfs(wh, tmp_path, ParseSpec(), workers=1, storage_options=s3)
    assert counts.ok == 4 and counts.failed == 1
    with wh.read() as con:
        reason = con.execute("SELECT reason FROM documents WHERE status = 'failed'").fetchone()
    assert reason is not None and "checksum mismatch" in reason[0]
