"""Cheap checks of a PDF's envelope (header and trailer) before MuPDF sees the file.

MuPDF repairs what it can, so a truncated download often still "opens"; the trailer check
refuses it with a plain reason instead of parsing a third of a paper.
"""

from __future__ import annotations

from pathlib import Path

_HTML = (b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")


def envelope_problem(head: bytes, tail: bytes) -> str | None:
    """Why these first/last bytes cannot be a complete PDF, or None when they can."""
    if not head:
        return "empty file (0 bytes)"
    start = head[:1024].lstrip().lower()
    if start.startswith(_HTML):
        return "HTML instead of a PDF (an error or captcha page)"
    if start[:5] != b"%pdf-":
        return "no %PDF- header"
    if b"%%EOF" not in tail[-2048:]:
        return "truncated: no %%EOF trailer"
    return None


def file_envelope_problem(path: Path) -> str | None:
    with path.open("rb") as fh:
        head = fh.read(1024)
        size = fh.seek(0, 2)
        fh.seek(max(size - 2048, 0))
        tail = fh.read()
    return envelope_problem(head, tail)
