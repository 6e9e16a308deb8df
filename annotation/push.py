"""Push negative feedback to Label Studio as tasks with pre-annotations.

Batches of at most 1000 tasks; each batch's ``feedback_id -> task_id`` mappings are committed
right after Label Studio accepts it, so a push that dies resumes at the next batch. If a
batch reached Label Studio but its answer did not reach us (an outage at the wrong moment),
the project holds more tasks than the mapping table: the next push reconciles the two from
the tasks' ``feedback_id`` before sending anything, so no task is ever created twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from annotation.client import LabelStudioClient
from annotation.config import (
    ERROR_NAMES,
    PAGE_SHOWN,
    PAGE_SHOWN_YES,
    PROJECT_TITLE,
    check_prediction,
    label_config,
    parse_config,
    suggestion_html,
    task_data,
)
from annotation.page_view import PageView, cited_page, page_view, page_worker, region_results
from annotation.suggester import SUGGESTER_VERSION, prediction, suggest
from warehouse.db import Warehouse

MAX_BATCH = 1000
Progress = Callable[[int, int], object]


@dataclass
class PushResult:
    project_id: int
    pushed: int = 0
    reconciled: int = 0
    batches: int = 0
    queued_before: int = 0


@dataclass(frozen=True)
class Overlap:
    """How many experts annotate a task: ``percent`` of the tasks go to ``annotators``
    experts (for agreement), the rest to one, who finishes them."""

    annotators: int = 2
    percent: int = 0


def ensure_project(
    client: LabelStudioClient, title: str = PROJECT_TITLE, overlap: Overlap | None = None
) -> int:
    config = label_config()
    parse_config(config)  # locally first: a clear message without a round trip
    client.validate_config(config)
    return client.ensure_project(
        title,
        config,
        description="Negative feedback on the deployed model: mark the error type(s), correct "
        "the answer, and box misread regions on the page image.",
        maximum_annotations=overlap.annotators if overlap else None,
        overlap_percent=overlap.percent if overlap else None,
    )


def reconcile(wh: Warehouse, client: LabelStudioClient, project_id: int) -> int:
    """Record mappings for tasks that exist in Label Studio but not in the warehouse."""
    with wh.read() as con:
        mapped = {
            r[0]
            for r in con.execute(
                "SELECT feedback_id FROM annotation_tasks WHERE project_id = ?", [project_id]
            ).fetchall()
        }
    missing: list[tuple[str, int]] = []
    for task in client.iter_tasks(project_id, include="id,data"):
        fid = (task.get("data") or {}).get("feedback_id")
        if fid and fid not in mapped:
            missing.append((fid, int(task["id"])))
            mapped.add(fid)
    if missing:
        _record(wh, project_id, missing)
    return len(missing)


def _record(
    wh: Warehouse,
    project_id: int,
    pairs: list[tuple[str, int]],
    images: dict[str, str] | None = None,
) -> None:
    table = pa.table(
        {
            "feedback_id": [fid for fid, _ in pairs],
            "task_id": pa.array([tid for _, tid in pairs], pa.int64()),
        }
    )
    with wh.write() as con:
        con.register("mapped", table)
        con.execute(
            "INSERT OR IGNORE INTO annotation_tasks (feedback_id, project_id, task_id, "
            "prediction_model) SELECT feedback_id, ?, task_id, ? FROM mapped",
            [project_id, SUGGESTER_VERSION],
        )
        con.execute(
            "UPDATE feedback SET state = 'pushed' FROM mapped m "
            "WHERE feedback.feedback_id = m.feedback_id AND feedback.state = 'queued'"
        )
        con.unregister("mapped")
        for fid, image in (images or {}).items():  # the page the expert sees, for the dataset
            con.execute(
                "UPDATE feedback SET page_image = ? WHERE feedback_id = ? AND page_image IS NULL",
                [image, fid],
            )


def _queued(wh: Warehouse, limit: int | None) -> list[dict[str, Any]]:
    sql = (
        "SELECT feedback_id, task, query, contexts, answer, comment, page_image, model_version, "
        "paper_id "
        "FROM feedback f WHERE rating = 'down' AND state = 'queued' AND NOT EXISTS "
        "(SELECT 1 FROM annotation_tasks t WHERE t.feedback_id = f.feedback_id) "
        "ORDER BY created_at, feedback_id"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with wh.read() as con:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _contexts(fb: dict[str, Any]) -> list[dict[str, Any]]:
    contexts = json.loads(fb["contexts"]) if isinstance(fb["contexts"], str) else fb["contexts"]
    return list(contexts or [])


def task_for(fb: dict[str, Any], view: PageView | None = None) -> dict[str, Any]:
    """One task: the feedback, the suggestion with its score and reasons, and, with a page
    (``view``, or an image that came with the feedback), the page pre-annotated with the
    parser's regions."""
    fb = {**fb, "contexts": _contexts(fb)}
    sug = suggest(fb["query"], fb["answer"], fb["contexts"])
    fb["suggestion_html"] = suggestion_html(sug.error_type, sug.score, sug.reasons)
    fb["suggested_name"] = ERROR_NAMES.get(sug.error_type, sug.error_type)
    if view is not None:
        fb["page_image"] = view.image
        fb["cited_page"] = f"{view.paper_id} p. {view.page}"
    elif fb.get("page_image"):
        fb["cited_page"] = "image sent with the feedback"
    pred = prediction(sug)
    if fb.get("page_image"):
        pred["result"].append(
            {"from_name": PAGE_SHOWN, "to_name": "answer", "type": "choices",
             "value": {"choices": [PAGE_SHOWN_YES]}}
        )  # fmt: skip
    if view is not None:
        pred["result"] += region_results(view)
    check_prediction(pred)
    return {"data": task_data(fb), "predictions": [pred]}


def _views(wh: Warehouse, home: Path, chunk: list[dict[str, Any]]) -> dict[str, PageView]:
    """The cited pages of a batch, rendered by one isolated worker that is closed before the
    batch is sent."""
    wanted = {}
    for fb in chunk:
        if not fb.get("page_image") and (cited := cited_page(_contexts(fb), fb.get("paper_id"))):
            wanted[fb["feedback_id"]] = cited
    views = {}
    if wanted:
        with page_worker() as worker:
            for fid, (paper, page) in wanted.items():
                if view := page_view(wh, worker, home, paper, page):
                    views[fid] = view
    return views


def push_negatives(
    wh: Warehouse,
    client: LabelStudioClient,
    *,
    project_title: str = PROJECT_TITLE,
    batch_size: int = MAX_BATCH,
    limit: int | None = None,
    progress: Progress | None = None,
    home: Path | None = None,
    overlap: Overlap | None = None,
) -> PushResult:
    """With ``home`` (where stored PDFs live), a negative whose context cites a page of a
    stored paper gets that page rendered, with the parser's regions pre-drawn. Not yet passed
    by the CLI and the flow: a push with rendered pages answered HTTP 500 from a freshly
    started Label Studio in a manual check, while the same tasks imported fine on their own;
    until a browser test covers it, pages are opt-in for callers."""
    batch_size = max(1, min(batch_size, MAX_BATCH))
    project_id = ensure_project(client, project_title, overlap)
    result = PushResult(project_id=project_id)
    with wh.read() as con:
        row = con.execute(
            "SELECT count(*) FROM annotation_tasks WHERE project_id = ?", [project_id]
        ).fetchone()
    mapped = int(row[0]) if row else 0
    if client.task_count(project_id) > mapped:
        result.reconciled = reconcile(wh, client, project_id)
    pending = _queued(wh, limit)
    result.queued_before = len(pending)
    for start in range(0, len(pending), batch_size):
        chunk = pending[start : start + batch_size]
        views = _views(wh, home, chunk) if home is not None else {}
        tasks = [task_for(fb, views.get(fb["feedback_id"])) for fb in chunk]
        ids = client.import_tasks(project_id, tasks)
        pairs = [(fb["feedback_id"], tid) for fb, tid in zip(chunk, ids, strict=True)]
        _record(wh, project_id, pairs, {k: v.image for k, v in views.items()})
        result.pushed += len(chunk)
        result.batches += 1
        if progress is not None:
            progress(result.pushed, len(pending))
    return result
