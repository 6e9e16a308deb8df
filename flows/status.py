"""Flow ``status``: the pipeline backlog as a Prefect table artifact."""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.steps import PrefectSteps
from settings import load_settings
from warehouse.status import StatusReport, collect_status


def status_markdown(report: StatusReport) -> str:
    """A short human summary with next steps, for the artifact and logs."""
    lines = ["# scicurate status", ""]
    failed = [r for r in report.runs if r.status == "failed"]
    if not report.problems and not failed:
        lines.append("No failures or quarantined records.")
    for run in failed:
        lines.append(f"- flow `{run.flow}` failed at {run.finished_at}: {run.error}")
    for problem in report.problems:
        lines.append(f"- {problem.count} in `{problem.where}`: {problem.reason}")
    if report.problems:
        lines += [
            "",
            'Next: inspect with `scicurate warehouse sql "SELECT * FROM rejects"`; '
            "quarantined PDFs are retried on the next crawl.",
        ]
    return "\n".join(lines)


@flow(name="status", description="Counts per pipeline stage, published as a table artifact.")
def status_flow(home: str | None = None) -> StatusReport:
    """Collect the status report and publish it as the ``status`` table artifact."""
    wh = load_settings(home=home).migrated_warehouse()
    report = PrefectSteps().run("collect-status", collect_status, wh)
    create_table_artifact(
        key="status",
        table=[{"pipeline": s.pipeline, "stage": s.stage, "count": s.count} for s in report.stages],
        description="scicurate backlog per stage",
    )
    create_markdown_artifact(key="status-summary", markdown=status_markdown(report))
    return report
