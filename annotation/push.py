"""Push negative feedback to Label Studio as tasks with pre-annotations.

Batches of at most 1000 tasks, and of at most ``MAX_IMPORT_BYTES`` of JSON per import call
(a task with a rendered page carries its image, 70-300 KB, as a data URL); each import's
``feedback_id -> task_id`` mappings are committed right after Label Studio accepts it, so a
push that dies resumes at the next import. If an import reached Label Studio but its answer
did not reach us (an outage at the wrong moment), the project holds more tasks than the
mapping table: the next push reconciles the two from the tasks' ``feedback_id`` before
sending anything, so no task is ever created twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

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
from annotation.page_view import (
    PageView,
    cited_page,
    page_view,
    page_worker,
    region_results,
    stored_pdf,
)
from annotation.suggester import SUGGESTER_VERSION, prediction, suggest
from parsers.isolate import IsolatedWorker
from warehouse.db import Warehouse

MAX_BATCH = 1000
# Label Studio (Django) refuses a request body over DATA_UPLOAD_MAX_MEMORY_SIZE (250 MiB by
# default), and refuses it badly: its ContextLogMiddleware reads ``request.body`` inside a bare
# ``except``, so the RequestDataTooBig is swallowed and the import view then fails with HTTP 500
# "You cannot access body after reading from request's data stream". 1000 tasks with rendered
# pages (about 220 KB each, up to 300 KB for a page of figures) cross that limit, while the
# same tasks import fine in smaller calls. Imports therefore stay far below it whatever the
# server's setting, which also keeps each call well inside the client's read timeout.
MAX_IMPORT_BYTES = 32 * 1024 * 1024
Progress = Callable[[int, int], object]
_Built = tuple[dict[str, Any], dict[str, Any], PageView | None]  # feedback, task, page


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


class _Pages:
    """The cited pages of a push, rendered one at a time by one isolated worker (started at
    the first page, closed with the push) from the PDFs stored under ``home``."""

    def __init__(self, wh: Warehouse, home: Path | None) -> None:
        self._wh, self._home = wh, home
        self._stack = ExitStack()
        self._worker: IsolatedWorker | None = None
        self._stored: dict[str, bool] = {}  # paper id -> has a PDF on disk

    def view(self, fb: dict[str, Any]) -> PageView | None:
        if self._home is None or fb.get("page_image"):
            return None
        cited = cited_page(_contexts(fb), fb.get("paper_id"))
        if cited is None:
            return None
        paper = cited[0]
        if paper not in self._stored:  # no worker is started for papers without a PDF
            self._stored[paper] = stored_pdf(self._wh, self._home, paper) is not None
        if not self._stored[paper]:
            return None
        if self._worker is None:
            self._worker = self._stack.enter_context(page_worker())
        return page_view(self._wh, self._worker, self._home, *cited)

    def __enter__(self) -> _Pages:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


def _built(pages: _Pages, chunk: list[dict[str, Any]]) -> Iterator[_Built]:
    """Each negative of ``chunk`` with its task (and page), built as it is asked for."""
    for fb in chunk:
        view = pages.view(fb)
        yield fb, task_for(fb, view), view


def json_size(task: dict[str, Any]) -> int:
    """The bytes of a task as compact JSON: what the import body carries for it (the SDK
    serialises compactly; with ``ensure_ascii`` an estimate at or above the UTF-8 size)."""
    return len(json.dumps(task, separators=(",", ":"), default=str).encode())


T = TypeVar("T")


def import_groups(
    items: Iterable[T], size: Callable[[T], int], max_bytes: int = MAX_IMPORT_BYTES
) -> Iterator[list[T]]:
    """Consecutive groups of ``items`` whose JSON array (brackets and commas counted) stays
    within ``max_bytes``; an item larger than that alone goes in a group of its own. Items
    are read lazily, at most one past the group being filled, so a push holds the rendered
    pages of about one import call at a time."""
    group: list[T] = []
    total = 2  # the list's brackets
    for item in items:
        n = size(item)
        if group and total + 1 + n > max_bytes:  # 1: the comma before it
            yield group
            group, total = [], 2
        total += n + (1 if group else 0)
        group.append(item)
    if group:
        yield group


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
    max_import_bytes: int = MAX_IMPORT_BYTES,
) -> PushResult:
    """Push the queued negatives (at most ``limit``) as tasks, ``batch_size`` (at most 1000)
    tasks and at most ``max_import_bytes`` of JSON per import call (a task larger than that
    goes alone); rerunning it creates no task twice.

    With ``home`` (where stored PDFs live; the CLI and the ``route-feedback`` flow pass the
    settings' home), a negative whose context cites a page of a stored paper gets that page
    rendered, with the parser's tables, formulas and figures pre-drawn as regions whose text is
    the parser's markup; the rendered page is kept as the feedback's ``page_image``. Without
    ``home``, only images sent with the feedback are shown."""
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

    def send(group: list[_Built]) -> None:
        ids = client.import_tasks(project_id, [task for _, task, _ in group])
        pairs = [(fb["feedback_id"], tid) for (fb, _, _), tid in zip(group, ids, strict=True)]
        _record(wh, project_id, pairs, {fb["feedback_id"]: v.image for fb, _, v in group if v})
        result.pushed += len(group)
        result.batches += 1
        if progress is not None:
            progress(result.pushed, len(pending))

    with _Pages(wh, home) as pages:
        for start in range(0, len(pending), batch_size):
            chunk = _built(pages, pending[start : start + batch_size])
            for group in import_groups(chunk, lambda item: json_size(item[1]), max_import_bytes):
                send(group)
    return result
