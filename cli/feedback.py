"""``scicurate feedback …`` and ``scicurate annotate …``: the feedback loop from the terminal."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from cli.context import app_context
from cli.render import console, echo

feedback_app = typer.Typer(
    help="Take in ratings of the deployed model's answers.",
    epilog="Example: scicurate feedback ingest ratings-2026-11-21.jsonl",
    no_args_is_help=True,
)
annotate_app = typer.Typer(
    help="Expert error triage in Label Studio: push, sync, route, stats, a local server.",
    epilog="Example: scicurate annotate push && scicurate annotate sync",
    no_args_is_help=True,
)


@feedback_app.command(
    "ingest",
    epilog="Examples: scicurate feedback ingest ratings.jsonl  ·  "
    "scicurate feedback ingest week-47.parquet week-48.parquet",
)
def ingest_cmd(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(exists=True, dir_okay=False, readable=True, help=".jsonl or .parquet"),
    ],
) -> None:
    """Validate, consent-filter and PII-scrub feedback records, then store them (by id)."""
    from jobs.feedback import ingest_feedback

    wh = app_context(ctx).warehouse()
    table = Table(title="feedback ingest", title_justify="left")
    for col in ("file", "records", "stored", "duplicates", "rejected", "no consent", "scrubbed"):
        table.add_column(col, justify="left" if col == "file" else "right")
    results = ingest_feedback(wh, files)
    for path, r in zip(files, results, strict=True):
        table.add_row(
            escape(path.name), *(f"{n:,}" for n in (r.records, r.stored, r.duplicates, r.rejected,
                                            r.no_consent, r.scrubbed))
        )  # fmt: skip
    console.print(table)
    if any(r.rejected for r in results):
        console.print(
            "Rejected records and their reasons: scicurate warehouse sql "
            '"SELECT source_file, line_no, reason FROM feedback_rejects"'
        )


@annotate_app.command("push", epilog="Example: scicurate annotate push --limit 500")
def push_cmd(
    ctx: typer.Context,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="At most N.")] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=1000, help="Tasks per import call.")
    ] = 1000,
    pages: Annotated[
        bool,
        typer.Option(
            "--pages/--no-pages",
            help="Render the page a context cites from the stored PDF, with the parser's regions.",
        ),
    ] = True,
) -> None:
    """Send negative feedback to Label Studio as tasks with suggested error types (and the
    cited page of a stored PDF, its tables, formulas and figures boxed for correction)."""
    from jobs.feedback import push_feedback

    app = app_context(ctx)
    wh = app.warehouse()
    with (
        app.settings.label_studio_client() as client,
        Progress(
            TextColumn("[bold]pushing"), BarColumn(), MofNCompleteColumn(), console=console
        ) as bar,  # fmt: skip
    ):
        task = bar.add_task("push", total=None)
        result = push_feedback(
            wh, client, project_title=app.settings.label_studio_project, limit=limit,
            batch_size=batch_size,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            home=app.settings.home if pages else None, overlap=app.settings.annotation_overlap,
        )  # fmt: skip
    console.print(
        f"project {result.project_id}: {result.pushed:,} tasks pushed in {result.batches} "
        f"batches" + (f", {result.reconciled} mappings recovered" if result.reconciled else "")
    )
    console.print(
        f"Annotate at {client.url}/projects/{result.project_id}/data, "
        "then run `scicurate annotate sync`."
    )


@annotate_app.command("sync", epilog="Example: scicurate annotate sync")
def sync_cmd(
    ctx: typer.Context,
    route: Annotated[
        bool, typer.Option("--route/--no-route", help="Re-publish the routed datasets.")
    ] = True,
) -> None:
    """Pull new and edited annotations, decide consensus, and route them into datasets."""
    from jobs.feedback import sync_annotations_job
    from jobs.steps import InlineSteps

    app = app_context(ctx)
    sync_annotations_job(
        app.warehouse(),
        label_studio=app.settings.label_studio_client,
        project_title=app.settings.label_studio_project,
        datasets_dir=app.settings.datasets_dir,
        route=route,
        steps=InlineSteps(echo),
    )


@annotate_app.command("route", epilog="Example: scicurate annotate route")
def route_cmd(ctx: typer.Context) -> None:
    """Rebuild and publish the feedback-fed datasets from the stored consensus."""
    from jobs.feedback import route_feedback
    from jobs.steps import InlineSteps

    app = app_context(ctx)
    route_feedback(app.warehouse(), app.settings.datasets_dir, steps=InlineSteps(echo))


@annotate_app.command("stats", epilog="Example: scicurate annotate stats --json")
def stats_cmd(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Queue depth, annotations per error type, agreement and rows routed."""
    from annotation.stats import collect_stats

    stats = collect_stats(app_context(ctx).warehouse())
    if as_json:
        print(json.dumps(stats.as_dict(), indent=2))
        return
    table = Table(title="feedback loop", title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    for state, n in stats.feedback_by_state.items():
        table.add_row(escape(f"feedback {state}"), f"{n:,}")
    table.add_row("queue depth", f"{stats.queue_depth:,}")
    for kind, n in stats.annotations_by_error_type.items():
        table.add_row(escape(f"annotations: {kind}"), f"{n:,}")
    for who, n in stats.annotations_by_annotator.items():
        table.add_row(escape(f"annotator {who}"), f"{n:,}")
    for status, n in stats.consensus_by_status.items():
        table.add_row(escape(f"consensus: {status}"), f"{n:,}")
    kappa = "n/a" if stats.fleiss_kappa is None else f"{stats.fleiss_kappa:.3f}"
    table.add_row("Fleiss' kappa", f"{kappa} ({stats.multi_annotated_tasks} tasks)")
    for name, n in stats.rows_routed.items():
        table.add_row(escape(f"routed: {name}"), f"{n:,}")
    table.add_row("rejected records", f"{stats.rejects:,}")
    table.add_row("records without consent (not stored)", f"{stats.no_consent:,}")
    console.print(table)


@annotate_app.command("server", epilog="Example: scicurate annotate server --port 8080")
def server_cmd(
    ctx: typer.Context,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="0: the last port, or a free one.")
    ] = 0,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Default: <home>/label-studio.")
    ] = None,
) -> None:
    """Run a local Label Studio (installed by `make labelstudio`) until Ctrl-C.

    It prints the URL and the login. The login and API key are kept (mode 0600) in the data
    directory, so a restart keeps them and `scicurate annotate push/sync` find the server
    without LABEL_STUDIO_URL / LABEL_STUDIO_API_KEY.
    """
    from annotation.server import local_server, save_credentials

    app = app_context(ctx)
    folder = data_dir or app.settings.home / "label-studio"
    server = local_server(folder, port)
    console.print("starting Label Studio (the first start takes about a minute) ...")
    with server:
        creds = save_credentials(server)
        console.print(
            f"Label Studio is up at {server.url}\n"
            f"  login: {server.username}  (password and API key in {creds})\n"
            "  scicurate commands with the same --home find this server by themselves.\n"
            "Ctrl-C stops it."
        )

        def stop(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            console.print("stopping Label Studio")


@feedback_app.command("schema", epilog="Example: scicurate feedback schema > feedback.schema.json")
def schema_cmd() -> None:
    """Print the JSON Schema of a feedback record (also in docs/feedback.schema.json)."""
    from annotation.schema import json_schema

    print(json.dumps(json_schema(), indent=2))
