"""``scicurate deploy``, ``scicurate serve`` and ``scicurate report``: running it unattended."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli.context import app_context
from cli.render import console

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="prefect.yaml (default: the project's).")
]


def deploy_cmd(
    ctx: typer.Context,
    config: ConfigOpt = None,
    gpus: Annotated[
        int | None, typer.Option("--gpus", min=0, help="Slots of the gpu limit (default: found).")
    ] = None,
) -> None:
    """Register the work pools, concurrency limits and every deployment on a Prefect server.

    Needs PREFECT_API_URL. Safe to rerun: everything is created or updated in place.
    """
    from flows.deploy import deploy

    specs = deploy(app_context(ctx).settings, config=config, gpus=gpus)
    table = Table(title="deployments", title_justify="left")
    for col in ("deployment", "schedule (UTC)", "pool", "active"):
        table.add_column(col)
    for s in specs:
        table.add_row(s.name, s.cron, s.work_pool, "yes" if s.active else "no (paused)")
    console.print(table)
    console.print(
        "Start one worker per machine: prefect worker start --pool cpu (and --pool gpu on GPU "
        "machines), with SCICURATE_HOME and the secrets in its environment."
    )


def serve_cmd(ctx: typer.Context, config: ConfigOpt = None) -> None:
    """Run every deployment on its schedule in this one process (single machine).

    Stops cleanly on SIGTERM or Ctrl-C. Runs show up in the Prefect UI of PREFECT_API_URL
    (or of a temporary local server when it is unset).
    """
    from flows.deploy import serve

    home = app_context(ctx).home
    serve(config=config, home=str(home) if home else None)


def report_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for index.html.")] = Path(
        "report"
    ),
) -> None:
    """Write a static HTML report (no network needed to view it) with the pipeline's plots."""
    from report.html import write_report

    path = write_report(app_context(ctx).warehouse(), out)
    console.print(f"report written: {path}")


def register(app: typer.Typer) -> None:
    app.command("deploy", epilog="Example: scicurate deploy --gpus 2   (with PREFECT_API_URL set)")(
        deploy_cmd
    )
    app.command("serve", epilog="Example: scicurate --home /data/scicurate serve")(serve_cmd)
    app.command("report", epilog="Example: scicurate report --out ./report")(report_cmd)
