"""Ingest feedback files (JSON lines or Parquet) into the warehouse.

Every record is validated (``annotation.schema.Feedback``), JSON lines and Parquet rows alike
and equally strictly. An invalid one goes to ``feedback_rejects`` with its line number and the
reason; one without consent is only counted (``feedback_ingests.no_consent``), never stored,
and when it is invalid as well its reject row keeps only the line, the reason and the fact that
consent was absent (never its id or any of its text); e-mail addresses and phone numbers are
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
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import ValidationError

from annotation.errors import FeedbackFileError
from annotation.schema import Context, Feedback
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


# Whether a record's sender consented, as far as the line tells: only "given" ever lets any of
# the record's content (its id, an excerpt of the line) be stored, in a reject row included.
GIVEN, ABSENT, UNKNOWN = "given", "absent", "unknown"


@dataclass(frozen=True)
class _Reject:
    line_no: int
    reason: str  # always the project's own words, never text taken from the record
    consent: str
    feedback_id: str | None = None
    raw: str | None = None


@dataclass(frozen=True)
class _Line:
    """One record of a file: its JSON text, or why it could not be read (``error``)."""

    line_no: int
    text: str = ""
    error: str | None = None


_SAFE_ID = re.compile(r"^[A-Za-z0-9._:/@+-]{1,128}$")
_FIELD_NAMES = frozenset(Feedback.model_fields) | frozenset(Context.model_fields)


def _loc_part(part: object) -> str:
    """A location in a validation error, where a key the sender invented is shown escaped."""
    if isinstance(part, int) or part in _FIELD_NAMES:
        return str(part)
    return ascii(str(part)[:40])


def _reason(exc: ValidationError) -> str:
    """The first problems of a record, from pydantic's own messages (never the input value)."""
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(_loc_part(p) for p in err["loc"]) or "record"
        parts.append(f"{where}: {err['msg']}")
    more = f" (+{exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
    return "; ".join(parts) + more


def _raw_excerpt(raw: str) -> str:
    return scrub(raw[:2000])[0]


def _records(path: Path) -> Iterator[_Line]:
    """Each record of a JSON-lines or Parquet file, as JSON text (or the reason it has none)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        yield from _parquet_records(path)
        return
    if suffix not in _JSONL:
        raise FeedbackFileError(
            f"{path.name}: unknown format {suffix or '(no suffix)'}; use .jsonl or .parquet"
        )
    with path.open("rb") as fh:
        for line_no, raw_bytes in enumerate(fh, start=1):
            if len(raw_bytes) > MAX_LINE_BYTES:
                yield _Line(
                    line_no, error=f"line is {len(raw_bytes):,} bytes, over {MAX_LINE_BYTES:,}"
                )
                continue
            try:
                raw = raw_bytes.decode("utf-8").strip()
            except UnicodeDecodeError as exc:
                yield _Line(line_no, error=f"invalid UTF-8 at byte {exc.start} of the line")
                continue
            if raw:
                yield _Line(line_no, raw)


def _parquet_records(path: Path) -> Iterator[_Line]:
    """Parquet rows as JSON text, so that they pass the same strict validation as JSON lines:
    timestamps become ISO strings, while a boolean stored as text or a date stored as a
    number stay what they are and are refused."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for bad files
        raise FeedbackFileError(
            f"{path.name}: not a readable Parquet file ({type(exc).__name__})"
        ) from None
    line = 0
    for batch in pf.iter_batches(batch_size=BATCH):
        for row in batch.to_pylist():
            line += 1
            try:
                yield _Line(line, json.dumps(_from_parquet(row), default=_json_value))
            except (TypeError, ValueError) as exc:
                yield _Line(line, error=f"cannot be read as a record: {exc}")


def _json_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"unsupported {type(value).__name__} value")


def _has_lone_surrogate(value: object) -> bool:
    """True when a decoded JSON value holds a lone UTF-16 surrogate (``"\\ud800"``), which
    no UTF-8 text, and so no catalog column, can hold."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _check_line(line: _Line) -> Feedback | _Reject:
    """A valid record, or the reject it becomes (with content only when consent was given)."""
    if line.error is not None:
        return _Reject(line.line_no, line.error, UNKNOWN)
    try:
        obj = json.loads(line.text)
    except json.JSONDecodeError as exc:
        return _Reject(line.line_no, f"invalid JSON: {exc.msg} at column {exc.colno}", UNKNOWN)
    if not isinstance(obj, dict):
        return _Reject(line.line_no, f"not a JSON object (a {_json_kind(obj)})", UNKNOWN)
    consent = GIVEN if obj.get("user_consent") is True else ABSENT
    if "\\u" in line.text and _has_lone_surrogate(obj):
        return _Reject(line.line_no, "holds a lone UTF-16 surrogate escape (not text)", consent)
    try:
        return Feedback.model_validate_json(line.text)
    except ValidationError as exc:
        if consent != GIVEN:
            return _Reject(line.line_no, _reason(exc), consent)
        fid = obj.get("id")
        fid = fid if isinstance(fid, str) and _SAFE_ID.match(fid) else None
        return _Reject(line.line_no, _reason(exc), consent, fid, _raw_excerpt(line.text))


def _json_kind(value: object) -> str:
    kinds = {str: "string", list: "list", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def _from_parquet(row: dict[str, Any]) -> dict[str, Any]:
    """Parquet gives Python objects; metadata may be stored as a JSON string."""
    meta = row.get("metadata")
    if isinstance(meta, str):
        try:
            row["metadata"] = json.loads(meta)
        except json.JSONDecodeError:
            raise ValueError("metadata holds text that is not valid JSON") from None
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
    """Validate, filter, scrub and store the records of one file (idempotent by id).

    Rejects are keyed by the file's full path and line, so two files of the same name do not
    overwrite each other's.
    """
    source = str(path.resolve())
    result = IngestResult(source_file=source)
    rejects: list[_Reject] = []
    batch: list[tuple[Feedback, bool]] = []
    seen: set[str] = set()
    for line in _records(path):
        result.records += 1
        checked = _check_line(line)
        if isinstance(checked, _Reject):
            rejects.append(checked)
            continue
        fb = checked
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
                "reason, raw, consent) VALUES (?, ?, ?, ?, ?, ?)",
                [(source, r.line_no, r.feedback_id, r.reason, r.raw, r.consent) for r in rejects],
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
