"""The Prefect flows ``route-feedback`` and ``sync-annotations`` (both every 10 minutes).

``route-feedback``: ingest the feedback inbox, push new negatives to Label Studio, publish the
feedback-fed datasets. ``sync-annotations``: pull annotations, recompute consensus, route and
re-publish. Both record their run and publish the loop's numbers as artifacts.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from annotation.errors import NotConfiguredError
from annotation.push import ensure_project, push_negatives
from annotation.stats import LoopStats, collect_stats
from annotation.sync import sync_annotations
from jobs.feedback import ingest_inbox, route_feedback
from jobs.lineage import recorded_run
from settings import load_settings
from warehouse import migrate


def stats_rows(stats: LoopStats, extra: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [{"what": k, "value": v} for k, v in extra.items()]
    rows.append({"what": "queue depth (not yet in Label Studio)", "value": stats.queue_depth})
    rows.append({"what": "in Label Studio, not decided", "value": stats.in_label_studio})
    rows += [
        {"what": f"annotations: {k}", "value": v}
        for k, v in stats.annotations_by_error_type.items()
    ]
    rows += [{"what": f"consensus: {k}", "value": v} for k, v in stats.consensus_by_status.items()]
    kappa = stats.fleiss_kappa
    rows.append(
        {"what": "agreement (Fleiss' kappa)", "value": None if kappa is None else round(kappa, 3)}
    )
    rows += [{"what": f"rows routed: {k}", "value": v} for k, v in stats.rows_routed.items()]
    return rows


def stats_markdown(title: str, stats: LoopStats, problems: list[str]) -> str:
    kappa = stats.fleiss_kappa
    lines = [
        f"# {title}",
        "",
        f"- queue depth: {stats.queue_depth}; in Label Studio: {stats.in_label_studio}",
        f"- consensus: {stats.consensus_by_status or 'none yet'}",
        f"- agreement: Fleiss' kappa {'n/a' if kappa is None else f'{kappa:.3f}'}"
        f" over {stats.multi_annotated_tasks} tasks with 2+ annotators",
        f"- rows routed: {stats.rows_routed}",
    ]
    ties = stats.consensus_by_status.get("tie", 0)
    if ties:
        problems.append(
            f"{ties} tasks are ties: open them in Label Studio and add a deciding annotation"
        )
    if problems:
        lines += ["", "## Next steps", "", *[f"- {p}" for p in problems]]
    return "\n".join(lines)


@flow(name="route-feedback", description="Ingest feedback, push negatives, publish datasets.")
def route_feedback_flow(home: str | None = None, push_limit: int | None = None) -> dict[str, Any]:
    settings = load_settings(home=home)
    wh = settings.warehouse()
    migrate(wh)
    logger = get_run_logger()
    problems: list[str] = []
    with recorded_run(wh, "route-feedback", {"push_limit": push_limit}) as run:
        inbox = ingest_inbox(wh, settings.feedback_inbox, echo=logger.info)
        for name, why in inbox.refused.items():
            problems.append(f"{name} was refused ({why}); fix it and drop it in the inbox again")
        pushed = 0
        try:
            with settings.label_studio_client() as client:
                pushed = push_negatives(
                    wh, client, project_title=settings.label_studio_project, limit=push_limit
                ).pushed
        except NotConfiguredError as exc:
            problems.append(f"negatives were not pushed: {exc}")
            logger.warning("%s", exc)
        route_feedback(wh, settings.datasets_dir, echo=logger.info)
        counts = {
            "ingested": inbox.total("stored"),
            "rejected": inbox.total("rejected"),
            "no_consent": inbox.total("no_consent"),
            "pushed": pushed,
        }
        run.update(counts)
    stats = collect_stats(wh)
    create_table_artifact(key="route-feedback", table=stats_rows(stats, counts))
    create_markdown_artifact(
        key="route-feedback-summary", markdown=stats_markdown("route-feedback", stats, problems)
    )
    return {**counts, "queue_depth": stats.queue_depth}


@flow(name="sync-annotations", description="Pull annotations, decide consensus, route them.")
def sync_annotations_flow(home: str | None = None) -> dict[str, Any]:
    settings = load_settings(home=home)
    wh = settings.warehouse()
    migrate(wh)
    logger = get_run_logger()
    with recorded_run(wh, "sync-annotations", {}) as run, settings.label_studio_client() as client:
        project_id = ensure_project(client, settings.label_studio_project)
        synced = sync_annotations(wh, client, project_id)
        route_feedback(wh, settings.datasets_dir, echo=logger.info)
        counts = {
            "tasks_seen": synced.tasks_seen,
            "new": synced.new,
            "edited": synced.edited,
            "deleted": synced.deleted,
            "skipped": synced.skipped,
        }
        run.update(counts)
    stats = collect_stats(wh)
    create_table_artifact(key="sync-annotations", table=stats_rows(stats, counts))
    create_markdown_artifact(
        key="sync-annotations-summary", markdown=stats_markdown("sync-annotations", stats, [])
    )
    return {**counts, "consensus": stats.consensus_by_status}
