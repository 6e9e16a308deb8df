"""Pull annotations back from Label Studio, incrementally, keeping every revision.

Only tasks whose ``updated_at`` moved since the last sync are read (Label Studio bumps it when
an annotation on the task is created, edited or deleted). A new annotation is revision 1; an
edit adds the next revision and retires the previous one (``is_current``); an annotation that
disappeared gets a final revision marked ``is_deleted``. Skips (``was_cancelled``) are kept
but never vote. After the rows are stored, the consensus of every touched task is recomputed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from annotation.agreement import consensus
from annotation.client import LabelStudioClient
from warehouse.db import Warehouse

SOURCE = "label-studio"
Progress = Callable[[int], object]


@dataclass
class SyncResult:
    project_id: int
    tasks_seen: int = 0
    new: int = 0
    edited: int = 0
    deleted: int = 0
    skipped: int = 0
    consensus: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Parsed:
    error_types: list[str]
    corrected_answer: str | None
    severity: int | None
    regions: list[dict[str, Any]]
    note: str | None


def parse_result(result: list[dict[str, Any]]) -> Parsed:
    """The fields of our labeling config, out of a Label Studio annotation result."""
    error_types: list[str] = []
    corrected = note = None
    severity = None
    boxes: dict[str, dict[str, Any]] = {}
    markup: dict[str, str] = {}
    for item in result:
        name, value = item.get("from_name"), item.get("value") or {}
        if name == "error_type":
            error_types = [str(c) for c in value.get("choices", [])]
        elif name == "corrected_answer":
            corrected = "\n".join(value.get("text", [])) or None
        elif name == "note":
            note = "\n".join(value.get("text", [])) or None
        elif name == "severity":
            severity = int(value["rating"]) if value.get("rating") is not None else None
        elif name == "regions":
            boxes[str(item.get("id"))] = {
                "label": (value.get("rectanglelabels") or ["text"])[0],
                "x": value.get("x"),
                "y": value.get("y"),
                "width": value.get("width"),
                "height": value.get("height"),
                "rotation": value.get("rotation", 0),
                "image_width": item.get("original_width"),
                "image_height": item.get("original_height"),
            }
        elif name == "region_markup":
            markup[str(item.get("id"))] = "\n".join(value.get("text", []))
    regions = [{"id": rid, **box, "markup": markup.get(rid)} for rid, box in boxes.items()]
    return Parsed(error_types, corrected, severity, regions, note)


def _watermark(wh: Warehouse, project_id: int) -> str | None:
    with wh.read() as con:
        row = con.execute(
            "SELECT watermark FROM crawl_state WHERE source = ? AND scope = ?",
            [SOURCE, str(project_id)],
        ).fetchone()
    return str(row[0]) if row and row[0] else None


def _overlap(mark: str | None) -> str | None:
    """Re-read one second before the watermark: updates in the same instant are not lost."""
    if not mark:
        return None
    when = datetime.fromisoformat(mark.replace("Z", "+00:00")) - timedelta(seconds=1)
    return when.isoformat().replace("+00:00", "Z")


def sync_annotations(
    wh: Warehouse,
    client: LabelStudioClient,
    project_id: int,
    *,
    page_size: int = 500,
    progress: Progress | None = None,
) -> SyncResult:
    result = SyncResult(project_id=project_id)
    mark = _watermark(wh, project_id)
    users = client.users()
    touched: set[str] = set()
    newest = mark
    page: list[dict[str, Any]] = []

    def flush() -> None:
        touched.update(_store_page(wh, page, users, result))
        page.clear()

    stamps = list(
        client.iter_tasks(project_id, updated_after=_overlap(mark), include="id,updated_at")
    )
    for start in range(0, len(stamps), page_size):
        chunk = stamps[start : start + page_size]
        for task in client.export_tasks(project_id, [int(t["id"]) for t in chunk]):
            result.tasks_seen += 1
            if (task.get("data") or {}).get("feedback_id"):
                page.append(task)
        for t in chunk:
            stamp = str(t.get("updated_at") or "")
            if stamp and (newest is None or stamp > newest):
                newest = stamp
        flush()
        if progress is not None:
            progress(result.tasks_seen)
    for status, n in recompute_consensus(wh, touched).items():
        result.consensus[status] = result.consensus.get(status, 0) + n
    if newest and newest != mark:
        with wh.write() as con:
            con.execute(
                "INSERT OR REPLACE INTO crawl_state (source, scope, watermark, updated_at) "
                "VALUES (?, ?, ?, now())",
                [SOURCE, str(project_id), newest],
            )
    return result


_ANNOTATION_SCHEMA = pa.schema(
    [
        ("annotation_id", pa.int64()),
        ("revision", pa.int32()),
        ("task_id", pa.int64()),
        ("feedback_id", pa.string()),
        ("annotator", pa.string()),
        ("error_types", pa.list_(pa.string())),
        ("corrected_answer", pa.string()),
        ("severity", pa.int32()),
        ("regions", pa.string()),
        ("note", pa.string()),
        ("was_cancelled", pa.bool_()),
        ("result", pa.string()),
        ("updated_at", pa.timestamp("us")),
    ]
)


def _store_page(
    wh: Warehouse, tasks: list[dict[str, Any]], users: dict[int, str], result: SyncResult
) -> set[str]:
    """Store the annotation changes of a page of tasks in one transaction."""
    if not tasks:
        return set()
    task_ids = [int(t["id"]) for t in tasks]
    touched: set[str] = set()
    inserts: list[dict[str, Any]] = []
    retire: list[tuple[int, int]] = []
    gone: list[tuple[int, int]] = []
    with wh.write() as con:
        stored: dict[int, tuple[int, datetime | None, bool]] = {
            int(r[0]): (int(r[1]), r[2], bool(r[3]))
            for r in con.execute(
                "SELECT annotation_id, revision, updated_at, is_deleted FROM annotations "
                "WHERE is_current AND task_id IN (SELECT unnest(?))",
                [task_ids],
            ).fetchall()
        }
        by_task: dict[int, set[int]] = {}
        for r in con.execute(
            "SELECT task_id, annotation_id FROM annotations "
            "WHERE is_current AND NOT is_deleted AND task_id IN (SELECT unnest(?))",
            [task_ids],
        ).fetchall():
            by_task.setdefault(int(r[0]), set()).add(int(r[1]))
        for task in tasks:
            task_id, fid = int(task["id"]), str(task["data"]["feedback_id"])
            seen: set[int] = set()
            for ann in task.get("annotations") or []:
                aid = int(ann["id"])
                seen.add(aid)
                updated = _ts(ann.get("updated_at"))
                previous = stored.get(aid)
                if previous is not None and previous[1] == updated and not previous[2]:
                    continue
                if previous is not None:
                    retire.append((aid, previous[0]))
                    result.edited += 1
                else:
                    result.new += 1
                inserts.append(_row(ann, aid, (previous[0] + 1) if previous else 1, task_id,
                                    fid, users, updated))  # fmt: skip
                result.skipped += int(bool(ann.get("was_cancelled")))
                touched.add(fid)
            for aid in by_task.get(task_id, set()) - seen:
                gone.append((aid, stored[aid][0]))
                result.deleted += 1
                touched.add(fid)
        if retire or gone:
            con.register(
                "retired",
                pa.table(
                    {
                        "annotation_id": [a for a, _ in retire + gone],
                        "revision": [r for _, r in retire + gone],
                    }
                ),
            )
            con.execute(
                "UPDATE annotations SET is_current = false FROM retired r "
                "WHERE annotations.annotation_id = r.annotation_id "
                "AND annotations.revision = r.revision"
            )
            con.unregister("retired")
        if gone:
            con.register(
                "gone",
                pa.table({"annotation_id": [a for a, _ in gone], "revision": [r for _, r in gone]}),
            )
            con.execute(
                "INSERT INTO annotations (annotation_id, revision, task_id, feedback_id, "
                "annotator, error_types, corrected_answer, severity, regions, note, "
                "was_cancelled, is_deleted, is_current, result, updated_at) "
                "SELECT a.annotation_id, a.revision + 1, a.task_id, a.feedback_id, a.annotator, "
                "a.error_types, a.corrected_answer, a.severity, a.regions, a.note, "
                "a.was_cancelled, true, true, a.result, now() FROM annotations a "
                "JOIN gone g ON a.annotation_id = g.annotation_id AND a.revision = g.revision"
            )
            con.unregister("gone")
        if inserts:
            con.register("fresh", pa.Table.from_pylist(inserts, schema=_ANNOTATION_SCHEMA))
            con.execute(
                "INSERT INTO annotations (annotation_id, revision, task_id, feedback_id, "
                "annotator, error_types, corrected_answer, severity, regions, note, "
                "was_cancelled, is_deleted, is_current, result, updated_at) "
                "SELECT annotation_id, revision, task_id, feedback_id, annotator, error_types, "
                "corrected_answer, severity, regions::JSON, note, was_cancelled, false, true, "
                "result::JSON, updated_at FROM fresh"
            )
            con.unregister("fresh")
    return touched


def _row(
    ann: dict[str, Any],
    aid: int,
    revision: int,
    task_id: int,
    fid: str,
    users: dict[int, str],
    updated: datetime | None,
) -> dict[str, Any]:
    parsed = parse_result(ann.get("result") or [])
    completed_by = ann.get("completed_by")
    if isinstance(completed_by, dict):
        completed_by = completed_by.get("id")
    return {
        "annotation_id": aid,
        "revision": revision,
        "task_id": task_id,
        "feedback_id": fid,
        "annotator": users.get(int(completed_by), str(completed_by)) if completed_by else None,
        "error_types": parsed.error_types,
        "corrected_answer": parsed.corrected_answer,
        "severity": parsed.severity,
        "regions": json.dumps(parsed.regions),
        "note": parsed.note,
        "was_cancelled": bool(ann.get("was_cancelled")),
        "result": json.dumps(ann.get("result") or []),
        "updated_at": updated,
    }


def _ts(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).replace(tzinfo=None)


def recompute_consensus(wh: Warehouse, feedback_ids: set[str]) -> dict[str, int]:
    """Consensus rows (and feedback states) for these feedback ids from current annotations."""
    if not feedback_ids:
        return {}
    with wh.read() as con:
        rows = con.execute(
            "SELECT feedback_id, task_id, annotation_id, error_types, corrected_answer, "
            "severity, regions, was_cancelled, updated_at FROM annotations "
            "WHERE is_current AND NOT is_deleted AND feedback_id IN (SELECT unnest(?)) "
            "ORDER BY feedback_id, updated_at NULLS FIRST, annotation_id",
            [sorted(feedback_ids)],
        ).fetchall()
    by_fid: dict[str, list[tuple[Any, ...]]] = {fid: [] for fid in feedback_ids}
    for row in rows:
        by_fid[row[0]].append(row)
    counts: dict[str, int] = {}
    out = []
    for fid, anns in by_fid.items():
        voting = [a for a in anns if not a[7]]
        skipped = len(anns) - len(voting)
        votes = [frozenset(a[3] or []) for a in voting]
        c = consensus(votes, skipped)
        majority = [voting[i] for i in c.majority]
        corrected = next((a[4] for a in reversed(majority) if a[4]), None)
        regions = [r for a in majority for r in json.loads(a[6] or "[]")]
        severities = [a[5] for a in majority if a[5] is not None]
        task_id = anns[0][1] if anns else None
        counts[c.status] = counts.get(c.status, 0) + 1
        out.append(
            (
                fid, task_id, len(voting), c.status, list(c.error_types), c.agreement,
                corrected, json.dumps(regions),
                sum(severities) / len(severities) if severities else None,
            )
        )  # fmt: skip
    state = {
        "consensus": "annotated",
        "not_error": "annotated",
        "tie": "review",
        "skipped": "pushed",
    }
    cleared = [row[0] for row in out if row[1] is None]  # every annotation deleted
    kept = [row for row in out if row[1] is not None]
    with wh.write() as con:
        if cleared:
            con.execute(
                "DELETE FROM task_consensus WHERE feedback_id IN (SELECT unnest(?))", [cleared]
            )
            con.execute(
                "UPDATE feedback SET state = 'pushed' WHERE feedback_id IN (SELECT unnest(?))",
                [cleared],
            )
        if kept:
            names = (
                "feedback_id", "task_id", "annotators", "status", "error_types", "agreement",
                "corrected_answer", "regions", "severity",
            )  # fmt: skip
            table = pa.table(
                {n: [row[i] for row in kept] for i, n in enumerate(names)}
                | {"state": [state[row[3]] for row in kept]}
            )
            con.register("decided", table)
            con.execute(
                "INSERT OR REPLACE INTO task_consensus (feedback_id, task_id, annotators, status, "
                "error_types, agreement, corrected_answer, regions, severity, decided_at) "
                "SELECT feedback_id, task_id, annotators, status, error_types::VARCHAR[], "
                "agreement::DOUBLE, corrected_answer::VARCHAR, regions::JSON, severity::DOUBLE, "
                "now() FROM decided"
            )
            con.execute(
                "UPDATE feedback SET state = d.state FROM decided d "
                "WHERE feedback.feedback_id = d.feedback_id"
            )
            con.unregister("decided")
    return counts
