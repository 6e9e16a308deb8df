"""The feedback loop's jobs: ingest the inbox, push to Label Studio, sync, route and publish.

Each job is composed here once: the Prefect flows ``route-feedback`` and ``sync-annotations``
(``flows.feedback``) and the ``scicurate feedback`` / ``scicurate annotate`` commands are thin
adapters over these functions.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotation.client import LabelStudioClient
from annotation.errors import FeedbackFileError, NotConfiguredError
from annotation.ingest import IngestResult, ingest_file
from annotation.push import Overlap, Progress, PushResult, ensure_project, push_negatives
from annotation.stats import LoopStats, collect_stats
from annotation.sync import SyncResult, sync_annotations
from jobs.export_datasets import Exported, export_datasets
from jobs.lineage import recorded_run
from jobs.steps import InlineSteps, Steps
from warehouse.builders import ROUTED_DATASETS
from warehouse.builders.feedback_rows import mark_routed
from warehouse.db import Warehouse

log = logging.getLogger(__name__)
Echo = Callable[[str], object]
FEEDBACK_DATASETS = ("sft-feedback", *ROUTED_DATASETS)
_SUFFIXES = {".jsonl", ".ndjson", ".json", ".parquet"}


@dataclass
class InboxResult:
    files: list[IngestResult] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # file name -> why

    def total(self, key: str) -> int:
        return sum(getattr(f, key) for f in self.files)


def ingest_inbox(wh: Warehouse, inbox: Path, *, echo: Echo = log.info) -> InboxResult:
    """Ingest every feedback file in ``inbox``; each is moved to ``done/`` (or ``refused/``
    with its reason) afterwards, so a rerun never reads a file twice."""
    result = InboxResult()
    if not inbox.is_dir():
        return result
    done, refused = inbox.parent / "done", inbox.parent / "refused"
    for path in sorted(p for p in inbox.iterdir() if p.is_file()):
        if path.suffix.lower() not in _SUFFIXES:
            continue
        try:
            ingested = ingest_file(wh, path)
        except FeedbackFileError as exc:
            result.refused[path.name] = str(exc)
            refused.mkdir(parents=True, exist_ok=True)
            shutil.move(path, refused / path.name)
            (refused / f"{path.name}.reason.txt").write_text(str(exc) + "\n")
            echo(f"{path.name}: refused: {exc}")
            continue
        result.files.append(ingested)
        done.mkdir(parents=True, exist_ok=True)
        shutil.move(path, done / path.name)
        echo(
            f"{path.name}: {ingested.stored} stored, {ingested.duplicates} duplicates, "
            f"{ingested.rejected} rejected, {ingested.no_consent} without consent"
        )
    return result


def ingest_feedback(
    wh: Warehouse, files: Sequence[Path], *, steps: Steps | None = None
) -> list[IngestResult]:
    """Job ``feedback-ingest``: validate, consent-filter, scrub and store feedback files."""
    steps = steps or InlineSteps()
    results = []
    with recorded_run(wh, "feedback-ingest", {"files": [f.name for f in files]}) as run:
        for path in files:
            result = ingest_file(wh, path)
            results.append(result)
            for key, value in result.as_counts().items():
                run[key] = run.get(key, 0) + value
    return results


def push_feedback(
    wh: Warehouse,
    client: LabelStudioClient,
    *,
    project_title: str,
    limit: int | None = None,
    batch_size: int = 1000,
    progress: Progress | None = None,
    home: Path | None = None,
    overlap: Overlap | None = None,
) -> PushResult:
    """Job ``annotate-push``: negatives to Label Studio as tasks with suggested error types
    (and, with ``home``, the cited page of a stored PDF with the parser's regions)."""
    with recorded_run(wh, "annotate-push", {"limit": limit}) as run:
        result = push_negatives(
            wh, client, project_title=project_title, limit=limit, batch_size=batch_size,
            progress=progress, home=home, overlap=overlap,
        )  # fmt: skip
        run.update({"pushed": result.pushed, "reconciled": result.reconciled})
    return result


def route_feedback(
    wh: Warehouse, datasets_dir: Path, *, steps: Steps | None = None
) -> list[Exported]:
    """Rebuild and publish every feedback-fed dataset (a new version only where rows changed),
    then mark the routed feedback. Recorded as an ``export-datasets`` run."""
    exported = export_datasets(wh, datasets_dir, FEEDBACK_DATASETS, steps=steps)
    mark_routed(wh)
    return exported


ClientFactory = Callable[[], LabelStudioClient]


def route_feedback_job(
    wh: Warehouse,
    *,
    inbox: Path,
    datasets_dir: Path,
    label_studio: ClientFactory,
    project_title: str,
    push_limit: int | None = None,
    steps: Steps | None = None,
    home: Path | None = None,
    overlap: Overlap | None = None,
) -> dict[str, int]:
    """Job ``route-feedback``: ingest the inbox, push new negatives to Label Studio (skipped,
    with the reason in the summary, when it is not configured), publish the feedback-fed
    datasets."""
    steps = steps or InlineSteps()
    problems: list[str] = []
    with recorded_run(wh, "route-feedback", {"push_limit": push_limit}) as run:
        inbox_result = steps.run("ingest-inbox", ingest_inbox, wh, inbox, echo=steps.log)
        for name, why in inbox_result.refused.items():
            problems.append(f"{name} was refused ({why}); fix it and drop it in the inbox again")
        pushed = 0
        try:
            pushed = steps.run(
                "push-negatives", _push_step, wh, label_studio, project_title, push_limit,
                home, overlap,
            )  # fmt: skip
        except NotConfiguredError as exc:
            problems.append(f"negatives were not pushed: {exc}")
            steps.log(f"warning: {exc}")
        steps.run("route-datasets", route_feedback, wh, datasets_dir, steps=steps)
        counts = {
            "ingested": inbox_result.total("stored"),
            "rejected": inbox_result.total("rejected"),
            "no_consent": inbox_result.total("no_consent"),
            "pushed": pushed,
        }
        run.update(counts)
    stats = collect_stats(wh)
    steps.publish(
        "route-feedback",
        markdown=stats_markdown("route-feedback", stats, problems),
        table=stats_rows(stats, counts),
    )
    return {**counts, "queue_depth": stats.queue_depth}


def _push_step(
    wh: Warehouse,
    label_studio: ClientFactory,
    project_title: str,
    limit: int | None,
    home: Path | None = None,
    overlap: Overlap | None = None,
) -> int:
    with label_studio() as client:
        return push_negatives(
            wh, client, project_title=project_title, limit=limit, home=home, overlap=overlap
        ).pushed


def sync_annotations_job(
    wh: Warehouse,
    *,
    label_studio: ClientFactory,
    project_title: str,
    datasets_dir: Path,
    route: bool = True,
    steps: Steps | None = None,
) -> SyncResult:
    """Job ``sync-annotations``: pull new and edited annotations, decide consensus, and (with
    ``route``) route them into re-published datasets. One job, one run name, for the CLI and
    the flow."""
    steps = steps or InlineSteps()
    with recorded_run(wh, "sync-annotations", {"route": route}) as run:
        result = steps.run("pull-annotations", _sync_step, wh, label_studio, project_title)
        run.update(
            {
                "tasks_seen": result.tasks_seen,
                "new": result.new,
                "edited": result.edited,
                "deleted": result.deleted,
                "skipped": result.skipped,
            }
        )
        steps.log(
            f"{result.tasks_seen:,} tasks read: {result.new:,} new annotations, "
            f"{result.edited:,} edited, {result.deleted:,} deleted, {result.skipped:,} skips; "
            f"consensus {result.consensus or '{}'}"
        )
        if route:
            steps.run("route-datasets", route_feedback, wh, datasets_dir, steps=steps)
    stats = collect_stats(wh)
    steps.publish(
        "sync-annotations",
        markdown=stats_markdown("sync-annotations", stats, []),
        table=stats_rows(stats, dict(run)),
    )
    return result


def _sync_step(wh: Warehouse, label_studio: ClientFactory, project_title: str) -> SyncResult:
    with label_studio() as client:
        return sync_annotations(wh, client, ensure_project(client, project_title))


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
