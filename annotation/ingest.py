"""Ingest feedback files (JSON lines or Parquet) into the warehouse.

Every record is validated (``annotation.schema.Feedback``). An invalid one goes to
``feedback_rejects`` with its line number and the reason; one without consent is only counted
(``feedback_ingests.no_consent``), never stored; e-mail addresses and phone numbers are
scrubbed from every free-text field. Ingesting is idempotent by feedback id, so rerunning a
file, or a file that overlaps an earlier one, stores nothing twice. Positives land in the
enhancement pool (state ``pool``), negatives in the annotation queue (state ``queued``).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import ValidationError

from annotation.errors import FeedbackFileError
from annotation.schema import Feedback
from annotation.scrub import scrub
from warehouse.db import Warehouse

MAX_LINE_BYTES = 10 * 1024 * 1024
BATCH = 2000
_JSONL = (".jsonl", ".ndjson", ".json")


@dataclass
class IngestResult:
    source_file: str
    records: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    no_consent: int = 0
    scrubbed: int = 0
    positives: int = 0
    negatives: int = 0

    def as_counts(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int)}


@dataclass(frozen=True)
class _Reject:
    line_no: int
    feedback_id: str | None
    reason: str
    raw: str


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "record"
        parts.append(f"{where}: {err['msg']}")
    more = f" (+{exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
    return "; ".join(parts) + more


def _raw_excerpt(raw: str) -> str:
    return scrub(raw[:2000])[0]


def _records(path: Path) -> Iterator[tuple[int, Any, str]]:
    """(line number, the parsed object or an error string, raw text) for each record."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for bad files
            raise FeedbackFileError(f"{path.name}: not a readable Parquet file ({exc})") from None
        line = 0
        for batch in pf.iter_batches(batch_size=BATCH):
            for row in batch.to_pylist():
                line += 1
                yield line, _from_parquet(row), json.dumps(row, default=str)[:2000]
        return
    if suffix not in _JSONL:
        raise FeedbackFileError(
            f"{path.name}: unknown format {suffix or '(no suffix)'}; use .jsonl or .parquet"
        )
    with path.open("rb") as fh:
        for line_no, raw_bytes in enumerate(fh, start=1):
            if len(raw_bytes) > MAX_LINE_BYTES:
                yield line_no, f"line is {len(raw_bytes):,} bytes, over {MAX_LINE_BYTES:,}", ""
                continue
            raw = raw_bytes.decode("utf-8", errors="replace").strip()
            if not raw:
                continue
            try:
                yield line_no, json.loads(raw), raw
            except json.JSONDecodeError as exc:
                yield line_no, f"invalid JSON: {exc.msg} at column {exc.colno}", raw


def _from_parquet(row: dict[str, Any]) -> Any:
    """Parquet gives Python objects; metadata may be stored as a JSON string."""
    meta = row.get("metadata")
    if isinstance(meta, str):
        try:
            row["metadata"] = json.loads(meta)
        except json.JSONDecodeError:
            return "metadata: not valid JSON"
    if row.get("contexts") is None:
        row.pop("contexts", None)
    for key in [k for k, v in row.items() if v is None]:
        row.pop(key)
    return row


def dedup_key(query: str, answer: str) -> str:
    norm = re.sub(r"\s+", " ", f"{query}\x00{answer}".lower()).strip()
    return hashlib.sha256(norm.encode()).hexdigest()


def _scrubbed(fb: Feedback) -> tuple[Feedback, bool]:
    changed = False

    def clean(text: str) -> str:
        nonlocal changed
        out, hit = scrub(text)
        changed = changed or hit
        return out

    contexts = [c.model_copy(update={"text": clean(c.text)}) for c in fb.contexts]
    updates: dict[str, Any] = {
        "query": clean(fb.query),
        "answer": clean(fb.answer),
        "comment": clean(fb.comment) if fb.comment else fb.comment,
        "contexts": contexts,
    }
    return fb.model_copy(update=updates), changed


def ingest_file(wh: Warehouse, path: Path) -> IngestResult:
    """Validate, filter, scrub and store the records of one file (idempotent by id)."""
    source = path.name
    result = IngestResult(source_file=source)
    rejects: list[_Reject] = []
    batch: list[tuple[Feedback, bool]] = []
    seen: set[str] = set()
    for line_no, obj, raw in _records(path):
        result.records += 1
        if isinstance(obj, str):
            rejects.append(_Reject(line_no, None, obj, _raw_excerpt(raw)))
            continue
        fid = obj.get("id") if isinstance(obj, dict) else None
        try:
            if path.suffix.lower() != ".parquet":
                fb = Feedback.model_validate_json(raw)
            else:
                fb = Feedback.model_validate(obj, strict=False)
        except ValidationError as exc:
            fid_str = fid if isinstance(fid, str) and len(fid) <= 128 else None
            rejects.append(_Reject(line_no, fid_str, _reason(exc), _raw_excerpt(raw)))
            continue
        if not fb.user_consent:
            result.no_consent += 1
            continue
        if fb.id in seen:
            result.duplicates += 1
            continue
        seen.add(fb.id)
        batch.append(_scrubbed(fb))
        if len(batch) >= BATCH:
            _store(wh, batch, source, result)
            batch = []
    if batch:
        _store(wh, batch, source, result)
    result.rejected = len(rejects)
    with wh.write() as con:
        if rejects:
            con.executemany(
                "INSERT OR REPLACE INTO feedback_rejects (source_file, line_no, feedback_id, "
                "reason, raw) VALUES (?, ?, ?, ?, ?)",
                [(source, r.line_no, r.feedback_id, r.reason, r.raw) for r in rejects],
            )
        con.execute(
            "INSERT INTO feedback_ingests (ingest_id, source_file, records, stored, duplicates, "
            "rejected, no_consent, scrubbed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                uuid.uuid4().hex,
                source,
                result.records,
                result.stored,
                result.duplicates,
                result.rejected,
                result.no_consent,
                result.scrubbed,
            ],
        )
    return result


def _store(
    wh: Warehouse, batch: list[tuple[Feedback, bool]], source: str, result: IngestResult
) -> None:
    columns = (
        "feedback_id", "created_at", "model_version", "task", "query", "contexts", "answer",
        "rating", "comment", "paper_id", "page_image", "metadata", "source_file", "state",
        "scrubbed", "dedup_key",
    )  # fmt: skip
    rows = [
        (
            fb.id,
            fb.created_at,
            fb.model_version,
            fb.task,
            fb.query,
            json.dumps([c.model_dump() for c in fb.contexts]),
            fb.answer,
            fb.rating,
            fb.comment,
            fb.paper_id,
            fb.page_image,
            json.dumps(fb.metadata, default=str),
            source,
            "pool" if fb.rating == "up" else "queued",
            hit,
            dedup_key(fb.query, fb.answer),
        )
        for fb, hit in batch
    ]
    with wh.write() as con:
        existing = {
            r[0]
            for r in con.execute(
                "SELECT feedback_id FROM feedback WHERE feedback_id IN (SELECT unnest(?))",
                [[r[0] for r in rows]],
            ).fetchall()
        }
        new = [r for r in rows if r[0] not in existing]
        if new:
            table = pa.table({c: [r[i] for r in new] for i, c in enumerate(columns)})
            con.register("new_feedback", table)
            con.execute(
                f"INSERT INTO feedback ({', '.join(columns)}) "
                "SELECT feedback_id, created_at, model_version, task, query, contexts::JSON, "
                "answer, rating, comment, paper_id, page_image, metadata::JSON, source_file, "
                "state, scrubbed, dedup_key FROM new_feedback"
            )
            con.unregister("new_feedback")
    result.duplicates += len(rows) - len(new)
    result.stored += len(new)
    result.scrubbed += sum(1 for r in new if r[14])
    result.positives += sum(1 for r in new if r[7] == "up")
    result.negatives += sum(1 for r in new if r[7] == "down")
