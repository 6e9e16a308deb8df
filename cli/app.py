"""The ``scicurate`` command line: a thin layer over library functions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from cli.context import AppContext, app_context
from cli.crawl import crawl_app, import_app
from cli.datasets import datasets_app
from cli.digest import register as register_digest
from cli.errors import entry
from cli.feedback import annotate_app, feedback_app
from cli.ops import register as register_ops
from cli.parse import parse_app
from cli.render import console, echo, query_table, status_json, status_tables
from cli.reviews import reviews_app
from core.text import terminal_safe
from flows.prefect_env import configure_prefect_defaults
from warehouse.migrate import current_version, latest_version, migrate
from warehouse.sql import run_read_only
from warehouse.status import collect_status

app = typer.Typer(
    name="scicurate",
    help="Curate LLM training data from scientific literature and model feedback.",
    epilog="Example: scicurate --home ./.scicurate status",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
warehouse_app = typer.Typer(
    help="Inspect and upgrade the DuckDB catalog.",
    epilog='Example: scicurate warehouse sql "SELECT source, count(*) FROM papers GROUP BY 1"',
    no_args_is_help=True,
)
app.add_typer(warehouse_app, name="warehouse")
app.add_typer(crawl_app, name="crawl")
app.add_typer(import_app, name="import")
app.add_typer(reviews_app, name="reviews")
app.add_typer(datasets_app, name="datasets")
app.add_typer(parse_app, name="parse")
app.add_typer(feedback_app, name="feedback")
app.add_typer(annotate_app, name="annotate")
register_digest(app)
register_ops(app)


def _version() -> str:
    from importlib.metadata import version

    return version("scicurate")


def _show_version(value: bool) -> None:
    if value:
        console.print(f"scicurate {_version()}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            envvar="SCICURATE_HOME",
            help="Folder holding warehouse.duckdb, pdfs/, datasets/ and quarantine/.",
            show_default="./.scicurate",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Curate LLM training data from scientific literature and model feedback."""
    ctx.obj = AppContext(home=home)


@app.command(epilog="Example: scicurate status --json")
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Backlog per stage, the last run of each flow, and failures with their reasons."""
    report = collect_status(app_context(ctx).warehouse())
    if as_json:
        typer.echo(status_json(report))
        return
    for table in status_tables(report):
        console.print(table)


@warehouse_app.command("migrate", epilog="Example: scicurate warehouse migrate")
def warehouse_migrate(ctx: typer.Context) -> None:
    """Create the catalog or upgrade it to this version's schema (safe to rerun)."""
    wh = app_context(ctx).settings.warehouse()
    before = current_version(wh)
    applied = migrate(wh)
    for mig in applied:
        console.print(f"applied {mig.version:04d}_{mig.name}")
    console.print(
        f"{wh.path}: schema version {before} -> {latest_version()}"
        if applied
        else f"{wh.path}: already at schema version {before}"
    )


@warehouse_app.command(
    "sql",
    epilog='Example: scicurate warehouse sql "SELECT paper_id, title FROM papers LIMIT 5"',
)
def warehouse_sql(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="One or more read-only statements.")],
    max_rows: Annotated[int, typer.Option(min=1, help="Show at most this many rows.")] = 100,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    allow_path: Annotated[
        list[Path] | None,
        typer.Option(
            "--allow-path",
            help="A file the query may read (read_csv, read_parquet, ...); repeatable. "
            "Without it only the catalog can be read.",
        ),
    ] = None,
) -> None:
    """Run a read-only query against the catalog.

    Only SELECT, WITH ... SELECT, DESCRIBE, SHOW and SUMMARIZE run; writes, EXPLAIN and
    file access (COPY, read_csv, glob, ...) are refused.
    """
    result = run_read_only(
        app_context(ctx).warehouse(), query, max_rows=max_rows, allowed_paths=allow_path or ()
    )
    if as_csv:
        import csv
        import sys

        writer = csv.writer(sys.stdout)
        writer.writerow(terminal_safe(c) for c in result.columns)
        writer.writerows(
            [terminal_safe(v) if isinstance(v, str) else v for v in row] for row in result.rows
        )
        return
    console.print(query_table(result))
    if result.truncated:
        console.print(f"[dim](showing the first {max_rows} rows; use --max-rows for more)[/]")


@app.command(epilog="Example: scicurate --home /tmp/scicurate-demo demo")
def demo(ctx: typer.Context) -> None:
    """Run the pipeline offline on the bundled sample, then print what was made."""
    from demo.run import run_demo

    result = run_demo(app_context(ctx).settings, echo=echo)
    for table in status_tables(result.status):
        console.print(table)


def command() -> TyperGroup:
    """The Click command tree behind ``app`` (for tests and embedding)."""
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    return group


def main() -> None:
    configure_prefect_defaults()
    entry(command)
