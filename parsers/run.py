"""Parse one PDF in an isolated child process: the entry point the flow and the CLI use.

``parse_document`` runs inside the worker (its parser instance is kept per worker process, so
a model loads once); ``parse_isolated`` runs in the parent and turns a crash, a timeout or a
limit hit into a failed ``Document`` with the reason. Nothing a failed child did reaches the
caller.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from parsers.base import Document, ParseError, Parser, Provenance
from parsers.isolate import IsolatedWorker, IsolationError, Limits
from parsers.nougat import NougatOptions
from parsers.pymupdf import PyMuPDFOptions
from parsers.quality import QualityThresholds, assess

ParserName = Literal["pymupdf", "nougat", "auto"]
PARSER_NAMES: tuple[str, ...] = ("pymupdf", "nougat", "auto")


@dataclass(frozen=True)
class ParseSpec:
    """Everything a worker needs to parse: which parser, its options, and the limits."""

    parser: ParserName = "pymupdf"
    pymupdf: PyMuPDFOptions = field(default_factory=PyMuPDFOptions)
    nougat: NougatOptions = field(default_factory=NougatOptions)
    quality: QualityThresholds = field(default_factory=QualityThresholds)
    max_pages: int = 500
    wall_s: float = 120.0
    memory_mb: int = 2048

    def limits(self) -> Limits:
        # CUDA reserves far more address space than it uses: no RLIMIT_AS for GPU workers.
        gpu = self.parser in ("nougat", "auto")
        return Limits(wall_s=self.wall_s, memory_mb=0 if gpu else self.memory_mb)


_PARSERS: dict[ParseSpec, Parser] = {}


def make_parser(spec: ParseSpec) -> Parser:
    from parsers.nougat import NougatParser
    from parsers.pymupdf import PyMuPDFParser
    from parsers.router import AutoParser

    if spec.parser == "pymupdf":
        return PyMuPDFParser(spec.pymupdf)
    if spec.parser == "nougat":
        return NougatParser(spec.nougat)
    if spec.parser == "auto":
        return AutoParser(spec.pymupdf, spec.nougat)
    raise ValueError(f"unknown parser {spec.parser!r}; choose one of {', '.join(PARSER_NAMES)}")


def parser_version(spec: ParseSpec) -> str:
    """The version a spec's documents are stored under (a bump re-parses)."""
    return make_parser(spec).version


def parse_document(path: str, spec: ParseSpec) -> Document:
    """Parse and assess one PDF. Runs in the worker; a ``ParseError`` becomes a failed doc."""
    parser = _PARSERS.get(spec)
    if parser is None:
        parser = _PARSERS[spec] = make_parser(spec)
    start = time.perf_counter()
    try:
        doc = parser.parse(Path(path), max_pages=spec.max_pages)
    except ParseError as exc:
        return failed_document(spec, exc.reason, time.perf_counter() - start)
    return assess(doc, spec.quality)


def failed_document(spec: ParseSpec, reason: str, duration_s: float = 0.0) -> Document:
    return Document(
        pages=[],
        provenance=Provenance(
            parser=spec.parser, parser_version=parser_version(spec), duration_s=duration_s
        ),
        status="failed",
        reason=reason,
    )


def parse_isolated(path: Path, spec: ParseSpec, worker: IsolatedWorker) -> Document:
    """``parse_document`` in ``worker``; a crash, timeout or limit hit is a failed document."""
    start = time.perf_counter()
    try:
        return worker.call(parse_document, str(path), spec)
    except IsolationError as exc:
        return failed_document(spec, exc.reason, time.perf_counter() - start)
