"""The isolated entry points for arXiv HTML and e-prints: named outcomes survive the worker."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

from parsers.fulltext import FulltextResult, file_kind, parse_outcome
from parsers.isolate import IsolatedWorker, Limits
from tests.parsers.arxiv_pages import FATAL_PAGE, NO_HTML_PAGE


def test_file_kind() -> None:
    assert file_kind("a.pdf") == "pdf" and file_kind("x") == "pdf"
    assert file_kind("2510.14430v1.HTML") == "arxiv-html"
    assert all(file_kind(n) == "arxiv-src" for n in ("a.tar.gz", "a.tgz", "a.gz", "a.tar"))


def test_outcomes_come_back_from_the_worker_by_name(shared: Path) -> None:
    page = (shared / "fixtures" / "arxiv_fulltext" / "html" / "2510.14969.html").read_bytes()
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w:gz") as tar:
        info = tarfile.TarInfo("../../etc/evil")
        tar.addfile(info, io.BytesIO(b""))
    with IsolatedWorker(Limits(wall_s=60, memory_mb=1024)) as worker:
        ok: FulltextResult = worker.call(
            parse_outcome, page, "arxiv-html", "https://arxiv.org/html/2510.14969v1"
        )
        none = worker.call(parse_outcome, NO_HTML_PAGE, "arxiv-html")
        fatal = worker.call(parse_outcome, FATAL_PAGE, "arxiv-html")
        pdf = worker.call(parse_outcome, gzip.compress(b"%PDF-1.4\n"), "arxiv-src")
        unsafe = worker.call(parse_outcome, evil.getvalue(), "arxiv-src")
        junk = worker.call(parse_outcome, b"<html>captcha</html>", "arxiv-src")
    assert ok.outcome == "document" and ok.document is not None
    assert ok.document.status == "ok" and ok.document.metadata["url"].endswith("2510.14969v1")
    assert (none.outcome, none.document) == ("no-html", None)
    assert fatal.outcome == "document" and fatal.document is not None
    assert fatal.document.status == "failed"
    assert pdf.outcome == "pdf"
    assert unsafe.outcome == "unsafe" and unsafe.reason is not None
    assert "path traversal" in unsafe.reason
    assert junk.outcome == "unparseable"
