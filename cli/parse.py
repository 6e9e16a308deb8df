"""``scicurate parse`` (the crawled PDFs into the warehouse) and ``scicurate parse file``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from cli.context import app_context
from cli.render import console
from core.text import terminal_safe

parse_app = typer.Typer(
    help="Parse PDFs into structured documents (PyMuPDF on CPU, Nougat on GPU).",
    epilog="Examples: scicurate parse --limit 20  ·  scicurate parse file paper.pdf --format md",
    invoke_without_command=True,
)

ParserOpt = Annotated[
    str,
    typer.Option(
        "--parser",
        "-p",
        help="pymupdf (CPU), nougat (GPU, LaTeX-accurate) or auto (Nougat for math-dense or "
        "text-less pages when a GPU and weights are present).",
    ),
]


def _check_parser(name: str) -> str:
    from parsers.run import PARSER_NAMES

    if name not in PARSER_NAMES:
        raise typer.BadParameter(f"{name!r}: choose one of {', '.join(PARSER_NAMES)}")
    return name


@parse_app.callback()
def parse_cmd(
    ctx: typer.Context,
    parser: ParserOpt = "pymupdf",
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, help="At most N PDFs.")
    ] = None,
    paper: Annotated[
        list[str] | None, typer.Option("--paper", help="Only this paper id. Repeatable.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=1, help="Parallel parsers.")
    ] = None,
    all_sources: Annotated[
        bool,
        typer.Option(
            "--all-sources",
            help="Also parse the PDFs of papers that already have a better document "
            "(arXiv LaTeX or HTML; the order is the fulltext_order setting).",
        ),
    ] = False,
) -> None:
    """Parse verified PDFs that the current parser version has not parsed yet.

    Each PDF is parsed in a child process with time, memory and page limits; failures are
    stored with their reason and the run goes on. Rerunning parses nothing twice. Papers
    whose text already comes from a better source are left alone unless --all-sources.
    """
    if ctx.invoked_subcommand is not None:
        return
    from jobs.parse_pdfs import parse_pdfs

    app = app_context(ctx)
    spec = app.settings.parse_spec(_check_parser(parser))
    wh = app.warehouse()
    with Progress(
        TextColumn("[bold]parsing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("parse", total=None)
        counts = parse_pdfs(
            wh,
            app.settings.home,
            spec,
            limit=limit,
            paper_ids=paper,
            workers=workers,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            storage_options=app.settings.storage_options(app.settings.pdf_store or ""),
            order=app.settings.fulltext_order,
            all_sources=all_sources,
        )
    if not counts.documents:
        console.print("Nothing to parse: every verified PDF is parsed by this parser version.")
        return
    table = Table(
        title=f"parse-pdfs ({counts.parser} {counts.parser_version})", title_justify="left"
    )
    table.add_column("what")
    table.add_column("count", justify="right")
    keys = ("documents", "ok", "low_quality", "needs_ocr", "failed", "pages", "fallback_pages")
    for key in (*keys, "ocr_pages", "furniture_lines"):
        table.add_row(key.replace("_", " "), f"{getattr(counts, key):,}")
    table.add_row("pages/s", f"{counts.pages_per_s:.1f}")
    for reason, n in counts.failures.most_common():
        table.add_row(escape(f"failed: {reason}"), f"{n:,}")
    console.print(table)


@parse_app.command(
    "file",
    epilog=(
        "Examples: scicurate parse file paper.pdf  ·  "
        "scicurate parse file paper.pdf --format json > paper.json  ·  "
        "scicurate parse file 2510.14430v1.html  ·  "
        "scicurate parse file 2506.02070.tar.gz --format tex"
    ),
)
def parse_file_cmd(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="A PDF, a saved arXiv HTML page (.html) or an arXiv e-print (.tar.gz, .gz, .tar).",
        ),
    ],
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help="md or json; tex (the cleaned LaTeX) for e-prints."),
    ] = "md",
    parser: ParserOpt = "pymupdf",
    figures: Annotated[
        Path | None, typer.Option("--figures", help="Crop figures to PNG files in this folder.")
    ] = None,
) -> None:
    """Parse one file (isolated, with the configured limits) and print Markdown or JSON.

    A PDF goes through the chosen parser; an arXiv HTML page through the LaTeXML parser and an
    e-print through the LaTeX source parser, whatever --parser says.
    """
    from dataclasses import replace

    from parsers.base import ParseError
    from parsers.fulltext import file_kind
    from parsers.isolate import IsolatedWorker
    from parsers.run import parse_isolated, parser_version

    kind = file_kind(path.name)
    if fmt not in ("md", "json") and not (fmt == "tex" and kind == "arxiv-src"):
        raise typer.BadParameter("--format must be md or json (or tex for an e-print)")
    if kind != "pdf":
        settings = app_context(ctx).settings
        _print_fulltext(path, kind, fmt, settings.parse_spec("pymupdf").limits())
        return
    spec = app_context(ctx).settings.parse_spec(_check_parser(parser))
    if figures is not None:
        spec = replace(spec, pymupdf=replace(spec.pymupdf, figures_dir=figures.resolve()))
    parser_version(spec)  # a parser that cannot run here (no Nougat weights) fails now
    with IsolatedWorker(spec.limits()) as worker:
        doc = parse_isolated(path.resolve(), spec, worker)
    if doc.status == "failed":
        raise ParseError(f"{path.name}: {doc.reason}")
    out = doc.to_json(indent=2) if fmt == "json" else doc.to_markdown()
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    if doc.status != "ok":
        print(terminal_safe(f"note: status {doc.status}: {doc.reason}"), file=sys.stderr)


def _print_fulltext(path: Path, kind: str, fmt: str, limits: Any) -> None:
    """An arXiv HTML page or e-print, parsed in the isolated worker, printed."""
    from parsers.base import ParseError
    from parsers.fulltext import parse_saved
    from parsers.isolate import IsolatedWorker, IsolationError

    with IsolatedWorker(limits) as worker:
        try:
            doc, latex = worker.call(parse_saved, path.read_bytes(), kind)
        except IsolationError as exc:
            raise ParseError(f"{path.name}: {exc.reason}") from None
    if doc.status == "failed":
        raise ParseError(f"{path.name}: {doc.reason}")
    if fmt == "tex":
        out = latex or ""
    else:
        out = doc.to_json(indent=2) if fmt == "json" else doc.to_markdown()
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    if doc.status != "ok":
        print(terminal_safe(f"note: status {doc.status}: {doc.reason}"), file=sys.stderr)
