"""``scicurate reviews …``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from cli.context import app_context
from cli.render import console

if TYPE_CHECKING:
    from reviews.base import Structurer
    from settings import Settings

reviews_app = typer.Typer(
    help="Work on OpenReview reviews.",
    epilog="Example: scicurate reviews structure --method fields",
    no_args_is_help=True,
)


class Method(StrEnum):
    fields = "fields"
    model = "model"
    llm = "llm"


def default_method(settings: Settings) -> Method:
    """``model`` when a review model loads (the one ``reviews train`` stored, else the shipped
    default), else ``fields``: the default is the best method that needs no endpoint."""
    from reviews.learned import load_model
    from reviews.model import ModelError

    try:
        load_model(settings.review_models_dir)
    except ModelError:
        return Method.fields
    return Method.model


def make_structurer(method: Method | None, settings: Settings) -> Structurer:
    """The structurer for ``--method`` (None: ``default_method``)."""
    if method is None:
        method = default_method(settings)
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
        return LLMStructurer(
            http, url=str(settings.llm_url), model=settings.llm_model, api_key=settings.llm_api_key
        )
    if method is Method.model:
        from reviews.learned import ModelStructurer, load_model

        return ModelStructurer(load_model(settings.review_models_dir))
    from reviews.fields import FieldsStructurer

    return FieldsStructurer()


@reviews_app.command(
    "structure",
    epilog="Examples: scicurate reviews structure  ·  scicurate reviews structure --method model  "
    "·  scicurate reviews structure --method llm --limit 100  ·  "
    "scicurate reviews structure --input reviews.jsonl --output structured.jsonl",
)
def structure_cmd(
    ctx: typer.Context,
    method: Annotated[
        Method | None,
        typer.Option(
            help="fields: form fields and cue words; model: the trained sentence classifier "
            "(reviews train, else the shipped default); llm: chat endpoint. Default: model, "
            "or fields when no model loads.",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Structure at most N reviews.")] = None,
    input_path: Annotated[
        Path | None,
        typer.Option(
            "--input",
            exists=True,
            dir_okay=False,
            readable=True,
            help="Structure the reviews of this JSON-lines file (one object a line with a "
            "'content' object) instead of the catalog.",
        ),
    ] = None,
    output_path: Annotated[
        Path | None,
        typer.Option("--output", dir_okay=False, help="Where --input's structured lines go."),
    ] = None,
) -> None:
    """Fill significance, reasons to accept/reject and suggestions for every official review."""
    from jobs.structure_reviews import structure_reviews

    if (input_path is None) != (output_path is None):
        raise typer.BadParameter("--input and --output go together", param_hint="--output")
    app = app_context(ctx)
    structurer = make_structurer(method, app.settings)
    if input_path is not None and output_path is not None:
        from jobs.structure_file import structure_file

        if limit is not None:
            raise typer.BadParameter(
                "--limit is for the catalog, not --input", param_hint="--limit"
            )
        done = structure_file(structurer, input_path, output_path)
        console.print(
            f"{done.structured:,} structured ({done.empty:,} with nothing to say), "
            f"{done.failed:,} failed, written to {output_path.name}"
        )
        return
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


@reviews_app.command(
    "train",
    epilog="Example: scicurate reviews train  ·  scicurate reviews train --max-reviews 4000",
)
def train_cmd(
    ctx: typer.Context,
    seed: Annotated[int, typer.Option(help="The training seed.")] = 0,
    max_reviews: Annotated[
        int | None, typer.Option(min=10, help="Train on at most N structured reviews.")
    ] = None,
) -> None:
    """Train the review-aspect model on the catalog's structured reviews (separate summary,
    strengths, weaknesses and questions) and make it the one --method model uses."""
    from jobs.train_review_model import train_review_model
    from reviews.model import TrainParams

    app = app_context(ctx)
    model = train_review_model(
        app.warehouse(), app.settings.review_models_dir, params=TrainParams(seed=seed),
        max_reviews=max_reviews,
    )  # fmt: skip
    metrics = model.meta.get("metrics") or {}
    f1 = ", ".join(f"{a} {metrics[a]['f1']:.3f}" for a in metrics if isinstance(metrics[a], dict)
                   and "f1" in metrics[a])  # fmt: skip
    console.print(
        f"trained {model.version} on {model.meta['reviews']:,} reviews "
        f"({model.meta['units']:,} units); held-out F1: {f1 or 'no held-out reviews'}"
        + (f"; dropped {metrics['dropped']:.3f}" if "dropped" in metrics else "")
    )
