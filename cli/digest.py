"""``scicurate digest``: the papers announced on a day (or in a window), for reading."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli.context import app_context
from cli.render import console


class Format(StrEnum):
    md = "md"
    html = "html"
    jsonl = "jsonl"


class Summaries(StrEnum):
    abstract = "abstract"
    llm = "llm"


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date like 2026-11-20", param_hint=name
        ) from None


def digest_cmd(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option("--date", help="One day, YYYY-MM-DD.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day of a window.")] = None,
    end: Annotated[str | None, typer.Option("--until", help="Last day (inclusive).")] = None,
    category: Annotated[
        list[str] | None, typer.Option("--category", "-c", help="Only these. Repeatable.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="At most N.")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="md, html or jsonl.")] = Format.md,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here, not stdout.")] = None,
    summarize: Annotated[
        Summaries,
        typer.Option(help="abstract: its first sentences; llm: SCICURATE_LLM_URL's summary."),
    ] = Summaries.abstract,
    language: Annotated[
        str, typer.Option(help="Language of LLM summaries (en, zh, de, ...).")
    ] = "en",
) -> None:
    """Titles, authors, arXiv links and summaries of the papers first announced in a window,
    grouped by category (reviewed on OpenReview first, then parsed, then newest)."""
    from jobs.digest import build_digest
    from report.digest import RENDERERS

    if day and (start or end):
        raise typer.BadParameter("--date cannot be combined with --from/--until")
    first = _day(day or start, "--date" if day else "--from")
    last = _day(day or end, "--date" if day else "--until")
    if first is None:
        first = last or (datetime.now(UTC).date() - timedelta(days=1))
    last = last or first
    app = app_context(ctx)
    wh = app.warehouse()
    summarizer = None
    http = None
    if summarize is Summaries.llm:
        from core.http import PoliteClient
        from report.summarize import LLMSummarizer

        settings = app.settings
        if settings.llm_url is None or not settings.llm_model:
            raise typer.BadParameter(
                "--summarize llm needs SCICURATE_LLM_URL and SCICURATE_LLM_MODEL",
                param_hint="--summarize",
            )
        http = PoliteClient(settings.llm_politeness())
        summarizer = LLMSummarizer(
            http, wh, url=str(settings.llm_url), model=settings.llm_model,
            api_key=settings.llm_api_key, language=language,
        )  # fmt: skip
    try:
        digest = build_digest(
            wh, first, last, categories=category or [], limit=limit, summarizer=summarizer
        )
    finally:
        if http is not None:
            http.close()
    text = RENDERERS[fmt.value](digest)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"{digest.count} paper(s): {out}")


def register(app: typer.Typer) -> None:
    app.command(
        "digest",
        epilog="Examples: scicurate digest --date 2026-11-20  ·  "
        "scicurate digest --from 2026-11-16 --until 2026-11-20 -c cs.CL --format html -o d.html",
    )(digest_cmd)
