"""``scicurate crawl …`` and ``scicurate import …``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from cli.context import app_context
from cli.render import console, echo
from jobs.arxiv_fulltext import parse_fulltext_option
from jobs.crawl_arxiv import DEFAULT_CATEGORIES, CrawlCounts, crawl_arxiv, crawl_arxiv_ids
from jobs.steps import InlineSteps

crawl_app = typer.Typer(
    help="Harvest papers (and PDFs) from arXiv and OpenReview.",
    epilog="Example: scicurate crawl arxiv --category cs.AI --from 2026-11-01 --max 50 --pdfs",
    no_args_is_help=True,
)
import_app = typer.Typer(
    help="Import bulk metadata files.",
    epilog="Example: scicurate import arxiv-snapshot arxiv-metadata-oai-snapshot.json",
    no_args_is_help=True,
)


def _counts_table(counts: CrawlCounts) -> Table:
    table = Table(title="crawl-arxiv", title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in counts.as_counts().items():
        table.add_row(key.replace("_", " "), f"{value:,}")
    return table


@crawl_app.command(
    "arxiv",
    epilog=(
        "Examples: scicurate crawl arxiv --category cs.AI --from 2026-11-01 --max 50 --pdfs  ·  "
        "scicurate crawl arxiv --id 2104.12255v1 --id hep-th/9901001"
    ),
)
def crawl_arxiv_cmd(
    ctx: typer.Context,
    category: Annotated[
        list[str] | None,
        typer.Option(
            "--category",
            "-c",
            help="An archive (cs: the whole OAI set) or a category (cs.AI). Repeatable.",
            show_default="cs.AI, cs.CV, cs.LG",
        ),
    ] = None,
    from_date: Annotated[
        str | None, typer.Option("--from", help="YYYY-MM-DD; default: the stored watermark.")
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="YYYY-MM-DD, inclusive.")] = None,
    max_records: Annotated[
        int | None, typer.Option("--max", min=1, help="Stop after storing N records.")
    ] = None,
    pdfs: Annotated[bool, typer.Option("--pdfs/--no-pdfs", help="Also fetch PDFs.")] = False,
    ids: Annotated[
        list[str] | None,
        typer.Option("--id", help="Look up these ids through the arXiv API. Repeatable."),
    ] = None,
    query: Annotated[
        str | None, typer.Option("--query", help="An arXiv API query, e.g. 'ti:diffusion'.")
    ] = None,
    fulltext: Annotated[
        str | None,
        typer.Option(
            "--fulltext",
            help="Full texts to fetch, comma-separated: html (arXiv's LaTeXML page), src "
            "(the LaTeX e-print), pdf. Default: what --pdfs says.",
        ),
    ] = None,
) -> None:
    """Harvest arXiv: categories and dates over OAI-PMH, ids and queries through the API."""
    app = app_context(ctx)
    settings = app.settings
    wh = app.warehouse()
    kinds = parse_fulltext_option(fulltext)
    pdfs = pdfs or (kinds is not None and "pdf" in kinds)
    fulltext_options: dict[str, Any] = {
        "fulltext": kinds, "fulltext_urls": settings.arxiv_fulltext_urls(),
        "fulltext_order": settings.fulltext_order,
    }  # fmt: skip
    if ids or query:
        if category or from_date or until:
            raise typer.BadParameter(
                "--id/--query cannot be combined with --category/--from/--until"
            )
        counts = crawl_arxiv_ids(
            wh,
            home=settings.home,
            api_url=str(settings.arxiv_api_url),
            pdf_url=str(settings.arxiv_pdf_url),
            politeness=settings.arxiv_politeness(),
            ids=ids or [],
            query=query,
            max_records=max_records or 100,
            pdfs=pdfs,
            pdf_store=settings.pdf_store_client() if pdfs else None,
            **fulltext_options,
            steps=InlineSteps(echo),
        )
    else:
        counts = crawl_arxiv(
            wh,
            home=settings.home,
            oai_url=str(settings.arxiv_oai_url),
            pdf_url=str(settings.arxiv_pdf_url),
            politeness=settings.arxiv_politeness(),
            categories=category or list(DEFAULT_CATEGORIES),
            from_date=from_date,
            until=until,
            max_records=max_records,
            pdfs=pdfs,
            pdf_store=settings.pdf_store_client() if pdfs else None,
            **fulltext_options,
            steps=InlineSteps(echo),
        )
    console.print(_counts_table(counts))
    if counts.pdfs_mirrored:
        console.print(f"{counts.pdfs_mirrored} PDFs mirrored to {settings.pdf_store}")


@import_app.command(
    "arxiv-snapshot",
    epilog="Example: scicurate import arxiv-snapshot ~/data/arxiv-metadata-oai-snapshot.json",
)
def import_snapshot_cmd(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="The JSON-lines file."),
    ],
) -> None:
    """Stream the Kaggle arXiv metadata snapshot into the catalog (rerunnable, in place)."""
    from jobs.import_snapshot import import_snapshot

    wh = app_context(ctx).warehouse()
    size = path.stat().st_size
    with Progress(
        TextColumn("[bold]importing"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[lines]:,} lines"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("import", total=size, lines=0)
        seen = 0

        def progress(offset: int, lines: int) -> None:
            nonlocal seen
            seen += lines
            bar.update(task, completed=offset, lines=seen)

        result = import_snapshot(wh, path, progress=progress)
    console.print(
        f"{result.lines:,} lines: {result.papers.inserted:,} new, {result.papers.updated:,} "
        f"updated, {result.papers.unchanged:,} unchanged, {result.rejected:,} rejected"
        + (" (see `scicurate status`)" if result.rejected else "")
    )


@crawl_app.command(
    "openreview",
    epilog="Example: scicurate crawl openreview --venue ICLR.cc/2025/Conference --pdfs",
)
def crawl_openreview_cmd(
    ctx: typer.Context,
    venue: Annotated[
        list[str] | None,
        typer.Option(
            "--venue", "-v", help="A venue id. Repeatable.", show_default="ICLR 2023-2025"
        ),
    ] = None,
    pdfs: Annotated[bool, typer.Option("--pdfs/--no-pdfs", help="Also fetch PDFs.")] = False,
) -> None:
    """Harvest a venue's submissions with their reviews, meta-reviews and decisions."""
    from jobs.crawl_openreview import DEFAULT_VENUES, crawl_openreview

    app = app_context(ctx)
    counts = crawl_openreview(
        app.warehouse(),
        app.settings.openreview_config(),
        home=app.settings.home,
        venues=venue or list(DEFAULT_VENUES),
        pdfs=pdfs,
        pdf_store=app.settings.pdf_store_client() if pdfs else None,
        steps=InlineSteps(echo),
    )
    table = Table(title="crawl-openreview", title_justify="left")
    for col in ("venue", "decision", "papers"):
        table.add_column(col, justify="right" if col == "papers" else "left")
    for (name, decision), n in sorted(counts.by_venue_decision.items()):
        table.add_row(escape(name), escape(decision), f"{n:,}")
    console.print(table)
    console.print(
        ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in counts.as_counts().items() if v)
    )


@import_app.command(
    "arxiv-bulk",
    epilog=(
        "Examples: scicurate import arxiv-bulk --kind pdf --plan  ·  "
        "scicurate import arxiv-bulk --kind src --category cs.AI --from 2024-01-01"
    ),
)
def import_arxiv_bulk_cmd(
    ctx: typer.Context,
    kind: Annotated[str, typer.Option("--kind", help="pdf or src: which tars to read.")],
    plan: Annotated[
        bool, typer.Option("--plan", help="Print the tars, sizes and cost; fetch nothing.")
    ] = False,
    category: Annotated[
        list[str] | None,
        typer.Option("--category", "-c", help="Only papers in this category or archive."),
    ] = None,
    ids: Annotated[list[str] | None, typer.Option("--id", help="Only these papers.")] = None,
    from_date: Annotated[
        str | None, typer.Option("--from", help="Submitted on or after YYYY-MM-DD.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Submitted on or before YYYY-MM-DD.")
    ] = None,
) -> None:
    """Fetch the catalog's missing PDFs or sources from arXiv's requester-pays S3 tars
    (resumable: a completed tar is never read again)."""
    from jobs.crawl_arxiv import check_date
    from jobs.import_arxiv_bulk import import_arxiv_bulk
    from sources.arxiv_bulk import GET_PRICE_PER_1000, TRANSFER_PRICE_PER_GB
    from sources.arxiv_ids import parse_arxiv_id

    if kind not in ("pdf", "src"):
        raise typer.BadParameter("--kind must be pdf or src")
    check_date("--from", from_date)
    check_date("--until", until)
    app = app_context(ctx)
    settings = app.settings
    wh = app.warehouse()
    base_ids = [parse_arxiv_id(i).base for i in ids or []]
    common: dict[str, object] = {
        "home": settings.home, "kind": kind, "categories": category or [], "ids": base_ids,
        "from_date": from_date, "until": until,
    }  # fmt: skip
    config = settings.bulk_config()
    planned = import_arxiv_bulk(wh, config, plan_only=True, **common)  # type: ignore[arg-type]
    table = Table(title=f"arxiv-bulk {kind}: {planned.wanted:,} paper(s) wanted",
                  title_justify="left")  # fmt: skip
    for col in ("tar", "size", "wanted", "GET requests", "est. cost (USD)"):
        if col == "tar":
            table.add_column(col, no_wrap=True, min_width=28)
        else:
            table.add_column(col, justify="right")
    for line in planned.plan:
        table.add_row(escape(line.filename), f"{line.size:,}", f"{line.wanted:,}",
                      f"{line.requests:,}", f"{line.cost_usd:.4f}")  # fmt: skip
    total_size = sum(line.size for line in planned.plan)
    total_cost = sum(line.cost_usd for line in planned.plan)
    table.add_row("total", f"{total_size:,}", f"{sum(p.wanted for p in planned.plan):,}",
                  f"{sum(p.requests for p in planned.plan):,}", f"{total_cost:.4f}")  # fmt: skip
    console.print(table)
    console.print(
        f"{planned.tars_selected} tar(s) to read, {planned.tars_skipped} already imported. "
        f"Prices used: GET ${GET_PRICE_PER_1000} per 1,000 requests, transfer out "
        f"${TRANSFER_PRICE_PER_GB} per GB (S3 Standard, us-east-1; transfer to EC2 in "
        "us-east-1 is free). Requester pays: the bill goes to your AWS account."
    )
    if plan or not planned.plan:
        return
    with Progress(
        TextColumn("[bold]{task.fields[tar]}"), BarColumn(), DownloadColumn(),
        TimeRemainingColumn(), console=console, transient=False,
    ) as bar:  # fmt: skip
        task = bar.add_task("bulk", total=total_size, tar="")

        def progress(tar: str, n: int) -> None:
            bar.update(task, advance=n, tar=escape(tar.rsplit("/", 1)[-1]))

        counts = import_arxiv_bulk(
            wh,
            config,
            progress=progress,
            steps=InlineSteps(echo),
            **common,  # type: ignore[arg-type]
        )
    console.print(", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in counts.as_counts().items()))
    for failure in counts.failures:
        console.print(f"failed: {escape(failure)}")
    if counts.tars_failed:
        raise typer.Exit(1)
