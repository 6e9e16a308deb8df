"""``scicurate reviews …``."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from cli.context import app_context
from cli.render import console

reviews_app = typer.Typer(
    help="Work on OpenReview reviews.",
    epilog="Example: scicurate reviews structure --method fields",
    no_args_is_help=True,
)


class Method(StrEnum):
    fields = "fields"
    llm = "llm"


@reviews_app.command(
    "structure",
    epilog="Examples: scicurate reviews structure  ·  scicurate reviews structure --method llm "
    "--limit 100",
)
def structure_cmd(
    ctx: typer.Context,
    method: Annotated[Method, typer.Option(help="fields: deterministic; llm: chat endpoint.")] = (
        Method.fields
    ),
    limit: Annotated[int | None, typer.Option(min=1, help="Structure at most N reviews.")] = None,
) -> None:
    """Fill significance, reasons to accept/reject and suggestions for every official review."""
    from jobs.structure_reviews import structure_reviews
    from reviews.base import Structurer
    from reviews.fields import FieldsStructurer

    app = app_context(ctx)
    settings = app.settings
    structurer: Structurer
    if method is Method.llm:
        from core.http import PoliteClient, Politeness
        from reviews.llm import LLMStructurer

        if settings.llm_url is None or not settings.llm_model:
            raise typer.BadParameter(
                "--method llm needs SCICURATE_LLM_URL and SCICURATE_LLM_MODEL",
                param_hint="--method",
            )
        http = PoliteClient(
            Politeness(min_interval=0, timeout=settings.http_timeout_s, max_retry_wait=120)
        )
        structurer = LLMStructurer(
            http, url=str(settings.llm_url), model=settings.llm_model, api_key=settings.llm_api_key
        )
    else:
        structurer = FieldsStructurer()
    with Progress(
        TextColumn("[bold]structuring"), BarColumn(), MofNCompleteColumn(), console=console
    ) as bar:
        task = bar.add_task("reviews", total=None)
        counts = structure_reviews(
            app.warehouse(),
            structurer,
            limit=limit,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    console.print(
        f"{counts.structured:,} structured ({counts.empty:,} with nothing to say), "
        f"{counts.failed:,} failed"
        + (" — reasons are in reviews.structure_error" if counts.failed else "")
    )
