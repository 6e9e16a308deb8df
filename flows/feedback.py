"""The Prefect flows ``route-feedback`` and ``sync-annotations`` (both every 10 minutes):
adapters over ``jobs.feedback``.

``route-feedback``: ingest the feedback inbox, push new negatives to Label Studio, publish the
feedback-fed datasets. ``sync-annotations``: pull annotations, recompute consensus, route and
re-publish. The jobs record their runs and publish the loop's numbers as artifacts.
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.steps import PrefectSteps
from jobs.feedback import route_feedback_job, sync_annotations_job
from settings import load_settings


@flow(name="route-feedback", description="Ingest feedback, push negatives, publish datasets.")
def route_feedback_flow(home: str | None = None, push_limit: int | None = None) -> dict[str, Any]:
    settings = load_settings(home=home)
    return route_feedback_job(
        settings.migrated_warehouse(),
        inbox=settings.feedback_inbox,
        datasets_dir=settings.datasets_dir,
        label_studio=settings.label_studio_client,
        project_title=settings.label_studio_project,
        push_limit=push_limit,
        steps=PrefectSteps(),
        home=settings.home,  # negatives citing a stored PDF's page get it rendered
        overlap=settings.annotation_overlap,
    )


@flow(name="sync-annotations", description="Pull annotations, decide consensus, route them.")
def sync_annotations_flow(home: str | None = None) -> dict[str, Any]:
    settings = load_settings(home=home)
    wh = settings.migrated_warehouse()
    result = sync_annotations_job(
        wh,
        label_studio=settings.label_studio_client,
        project_title=settings.label_studio_project,
        datasets_dir=settings.datasets_dir,
        steps=PrefectSteps(),
    )
    return {
        "tasks_seen": result.tasks_seen,
        "new": result.new,
        "edited": result.edited,
        "deleted": result.deleted,
        "skipped": result.skipped,
        "consensus": result.consensus,
    }
