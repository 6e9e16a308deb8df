"""Rich rendering of library results for the terminal. No logic lives here.

Stored values are untrusted text: a title, a reject reason or a run's error may hold terminal
control sequences (``ESC]0;...`` retitles the window, ``ESC[2J`` clears the screen) or Rich
markup. Every string the consoles render passes through ``terminal_safe``, which writes
control characters as visible escapes, and values are markup-escaped where they are placed.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from core.text import terminal_safe
from warehouse.sql import QueryResult
from warehouse.status import StatusReport


class SafeConsole(Console):
    """A Console that renders every string through ``terminal_safe`` first: printed text,
    table cells, titles and headers alike. Markup still works (tags hold no control
    characters); values are markup-escaped where they are placed."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(terminal_safe(text), **kwargs)


console = SafeConsole(highlight=False)


def echo(message: str) -> None:
    """Print a job's progress line as plain text (no markup, no control characters): the
    ``echo`` hook the CLI hands to jobs."""
    console.print(escape(message))


def _cell(value: Any) -> str:
    if value is None:
        return "[dim]NULL[/]"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, list | dict):
        return escape(json.dumps(value, default=str, ensure_ascii=False))
    return escape(str(value))


def status_tables(report: StatusReport) -> list[Table]:
    stages = Table(title="Backlog per stage", title_justify="left")
    stages.add_column("pipeline")
    stages.add_column("stage")
    stages.add_column("count", justify="right")
    previous = None
    for s in report.stages:
        stages.add_row(s.pipeline if s.pipeline != previous else "", s.stage, f"{s.count:,}")
        previous = s.pipeline
    tables = [stages]

    runs = Table(title="Last run of each flow", title_justify="left")
    for col in ("flow", "state", "started (UTC)", "took", "counts"):
        runs.add_column(col)
    for r in report.runs:
        took = f"{(r.finished_at - r.started_at).total_seconds():.1f}s" if r.finished_at else "…"
        state = {"completed": "[green]completed[/]", "failed": "[red]failed[/]"}.get(
            r.status, escape(r.status)
        )
        counts = escape(", ".join(f"{k}={v}" for k, v in r.counts.items() if v))
        if r.error:
            counts = f"{counts} [red]{escape(r.error)}[/]".strip()
        runs.add_row(escape(r.flow), state, _cell(r.started_at), took, counts)
    if not report.runs:
        runs.add_row("[dim]no runs yet[/]", "", "", "", "")
    tables.append(runs)

    problems = Table(title="Failures and quarantine", title_justify="left")
    for col in ("where", "reason", "count"):
        problems.add_column(col, justify="right" if col == "count" else "left")
    for p in report.problems:
        problems.add_row(escape(p.where), escape(p.reason), f"{p.count:,}")
    if not report.problems:
        problems.add_row("[dim]none[/]", "", "")
    tables.append(problems)

    cover = Table(title="Documents by source (best: the one training text comes from)",
                  title_justify="left")  # fmt: skip
    for col in ("source", "papers", "best"):
        cover.add_column(col, justify="left" if col == "source" else "right")
    for c in report.coverage:
        cover.add_row(escape(c.source), f"{c.papers:,}", f"{c.best:,}")
    if not report.coverage:
        cover.add_row("[dim]no documents yet[/]", "", "")
    tables.append(cover)
    return tables


def status_json(report: StatusReport) -> str:
    return json.dumps(
        {
            "stages": [s.__dict__ for s in report.stages],
            "runs": [r.__dict__ for r in report.runs],
            "problems": [p.__dict__ for p in report.problems],
            "coverage": [c.__dict__ for c in report.coverage],
        },
        default=str,
        indent=2,
    )


def query_table(result: QueryResult) -> Table:
    table = Table(show_lines=False)
    for col in result.columns:
        table.add_column(escape(col))
    for row in result.rows:
        table.add_row(*(_cell(v) for v in row))
    return table
