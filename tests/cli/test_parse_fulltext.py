"""``scicurate parse file`` on a saved arXiv HTML page and on e-prints (.tar.gz and .gz)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from cli.app import command
from cli.errors import run_cli
from tests.parsers.arxiv_pages import NO_HTML_PAGE
from tests.parsers.test_eprint import pack


def _run(home: Path, *args: str) -> int:
    return run_cli(command(), ["--home", str(home), "parse", "file", *args])


def test_parse_file_html(shared: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = shared / "fixtures" / "arxiv_fulltext" / "html" / "2510.14430.html"
    assert _run(tmp_path / "home", str(page)) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("# The geometry of PLS shrinkages\n\n## Abstract")
    assert "\\tag{" in out and "$" in out
    assert _run(tmp_path / "home", str(page), "--format", "json") == 0
    out, _ = capsys.readouterr()
    doc = json.loads(out)
    assert doc["provenance"]["source"] == "arxiv-html"
    assert doc["quality"]["ltx_errors"] == 410
    assert _run(tmp_path / "home", str(page), "--format", "tex") == 2  # tex is for e-prints
    capsys.readouterr()
    none = tmp_path / "none.html"
    none.write_bytes(NO_HTML_PAGE)
    assert _run(tmp_path / "home", str(none)) == 1
    _, err = capsys.readouterr()
    assert "NoHtmlAvailableError" in err and "no HTML" in err


def test_parse_file_eprint(
    shared: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = shared / "fixtures" / "arxiv_fulltext" / "src" / "2506.02070"
    archive = tmp_path / "2506.02070.tar.gz"
    archive.write_bytes(pack(tree))
    assert _run(tmp_path / "home", str(archive)) == 0
    out, _ = capsys.readouterr()
    assert "\n## Introduction\n" in out and "\n### Overview\n" in out
    assert _run(tmp_path / "home", str(archive), "--format", "json") == 0
    out, _ = capsys.readouterr()
    doc = json.loads(out)
    assert doc["provenance"]["source"] == "arxiv-src"
    assert doc["metadata"]["main_file"] == "main.tex"
    assert _run(tmp_path / "home", str(archive), "--format", "tex") == 0
    out, _ = capsys.readouterr()
    assert out.startswith("\\section{Introduction}")
    single = tmp_path / "2508.20357v4.gz"
    src = shared / "fixtures" / "arxiv_fulltext" / "src" / "2508.20357v4" / "main_v4.tex"
    single.write_bytes(gzip.compress(src.read_bytes()))
    assert _run(tmp_path / "home", str(single), "--format", "tex") == 0
    out, _ = capsys.readouterr()
    assert out.startswith("\\section{Introduction}")
    bomb = tmp_path / "bomb.gz"
    bomb.write_bytes(gzip.compress(bytes(64 * 1024 * 1024)))
    assert _run(tmp_path / "home", str(bomb)) == 1
    _, err = capsys.readouterr()
    assert "UnsafeArchiveError" in err
