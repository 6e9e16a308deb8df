"""arXiv ids: every form parses, nothing else does, and paths never escape their folder."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from sources.arxiv_ids import ArxivId, parse_arxiv_id
from sources.errors import InvalidIdError


@pytest.mark.parametrize(
    ("text", "base", "version", "folder"),
    [
        ("2104.12255v1", "2104.12255", 1, "2104/2104.12255"),
        ("2104.12255", "2104.12255", None, "2104/2104.12255"),
        ("0704.0001", "0704.0001", None, "0704/0704.0001"),
        ("hep-th/9901001", "hep-th/9901001", None, "hep-th/9901/9901001"),
        ("quant-ph/0201082v1", "quant-ph/0201082", 1, "quant-ph/0201/0201082"),
        ("math.GT/0309136v12", "math.GT/0309136", 12, "math.GT/0309/0309136"),
        ("arXiv:1707.08567", "1707.08567", None, "1707/1707.08567"),
        ("oai:arXiv.org:0704.0471", "0704.0471", None, "0704/0704.0471"),
        ("https://arxiv.org/abs/2104.12255v3", "2104.12255", 3, "2104/2104.12255"),
    ],
)
def test_valid_ids(text: str, base: str, version: int | None, folder: str) -> None:
    parsed = parse_arxiv_id(text)
    assert parsed == ArxivId(base, version)
    assert parsed.relative_dir() == PurePosixPath(folder)
    assert parsed.versioned == (f"{base}v{version}" if version else base)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "../etc/passwd",
        "hep-th/../../x",
        "2104.12255/../../x",
        "2104.12255v0",
        "2104.123",
        "/abs/2104.12255",
        "hep-th/990100",
        "HEP-TH/9901001",
        "2104.12255 v1",
        "2104.12255\x00",
        "..\\..\\x",
        "cs.AI/../2104.12255",
    ],
)
def test_invalid_ids_are_named_errors(text: str) -> None:
    with pytest.raises(InvalidIdError, match="not an arXiv id"):
        parse_arxiv_id(text)


def test_paths_stay_inside_the_root(tmp_path: Path) -> None:
    root = (tmp_path / "pdfs").resolve()
    for text in ["hep-th/9901001", "math.GT/0309136", "2104.12255", "astro-ph/0601001"]:
        target = (root / parse_arxiv_id(text).relative_dir()).resolve()
        assert target.is_relative_to(root)
        assert ".." not in target.parts
    # Old- and new-style ids never share a folder.
    assert (
        parse_arxiv_id("hep-th/9901001").relative_dir()
        != parse_arxiv_id("9901.00100").relative_dir()
    )
