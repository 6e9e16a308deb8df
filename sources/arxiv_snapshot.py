"""Import the Kaggle ``arxiv-metadata-oai-snapshot.json`` (JSON lines) into ``papers``.

The file (about 4.5 GB, 2.2M lines) is read in batches of lines; each batch goes to DuckDB as
an Arrow table of ``(line_no, line)``, where JSON parsing, validation and the mapping onto the
canonical record happen in SQL. Bad lines land in ``rejects`` with their line number and
reason, and good ones are upserted in the same short transaction. Memory is bounded by the
batch size, whatever the file's size.

Re-importing the same file changes nothing; a newer snapshot updates papers in place (more
versions win; an older snapshot never overwrites a newer record).
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from warehouse.db import Warehouse, fetch_int
from warehouse.papers import PREFER_EXISTING
from warehouse.upsert import UpsertResult, upsert_view

SOURCE = "arxiv-snapshot"
DEFAULT_BATCH_BYTES = 64 * 1024 * 1024  # about 45,000 snapshot lines
DEFAULT_COMMIT_ROWS = 250_000  # two DuckDB row groups and more per transaction
_MAX_RAW = 2000  # characters of a rejected line kept for inspection
_NEWLINE = 10

# The same id grammar as sources.arxiv_ids, in RE2 syntax.
_ID_RE = r"(\d{4}\.\d{4,5})|([a-z]+(-[a-z]+)?(\.[A-Z]{2})?/\d{7})"
_DATE_FMT = "'%a, %d %b %Y %H:%M:%S GMT'"
_FIELDS = {
    "id": "VARCHAR", "submitter": "VARCHAR", "authors": "VARCHAR", "title": "VARCHAR",
    "comments": "VARCHAR", "journal-ref": "VARCHAR", "doi": "VARCHAR", "report-no": "VARCHAR",
    "categories": "VARCHAR", "license": "VARCHAR", "abstract": "VARCHAR",
    "versions": "JSON", "update_date": "VARCHAR", "authors_parsed": "JSON",
}  # fmt: skip
_VERSIONS = json.dumps([{"version": "VARCHAR", "created": "VARCHAR"}])
_NAMES = json.dumps([["VARCHAR"]])
_STRUCTURE = json.dumps(_FIELDS)


def _list_typed(field: str) -> str:
    """SQL: true when ``field`` is present and neither a list nor null."""
    return f"coalesce(json_type(line, '$.\"{field}\"') NOT IN ('ARRAY', 'NULL'), false)"


# Collapse whitespace exactly as clean_text() does, cheaply for the common shapes. Text whose
# only whitespace runs are single newlines or spaces (and leading spaces, plus one trailing
# space) is fixed with replace(), ltrim() and a slice; anything else (a tab, CR or form feed,
# or a run left after that) pays for the regular expression, several times slower. DuckDB's
# rtrim() scans the whole string, hence the slice.
_Y = "ltrim(replace({x}, chr(10), ' '))"
_CLEAN = (
    "nullif(list_transform([" + _Y + "], lambda y: CASE WHEN contains(y, '  ') "
    "OR contains(y, chr(9)) OR contains(y, chr(12)) OR contains(y, chr(13)) "
    "THEN trim(regexp_replace(y, '[\\t\\n\\f\\r ]+', ' ', 'g')) "
    "WHEN ends_with(y, ' ') THEN left(y, -1) ELSE y END)[1], '')"
)

# One pass over the batch: parse each line once, validate it and, for valid ones, map it onto
# `papers`. The checks that need the line parsed again (is it JSON at all, is it an object)
# only run for lines that already failed, since CASE evaluates a branch only where it applies.
_PARSE = f"""
CREATE OR REPLACE TEMP TABLE _snap AS
WITH typed AS (
    SELECT line_no, line, bad_utf8, try(from_json(line, '{_STRUCTURE}')) AS r
    FROM _snap_lines
    WHERE line NOT IN (chr(10), chr(13) || chr(10))
), lists AS (
    SELECT *,
        from_json(r.versions, '{_VERSIONS}') AS raw_versions,
        from_json(r.authors_parsed, '{_NAMES}') AS names
    FROM typed
), mapped AS (
    SELECT *,
        list_transform(raw_versions, lambda x: {{
            'version': x."version",
            'created': try_strptime(x.created, {_DATE_FMT}),
            'size': NULL::VARCHAR
        }}) AS versions
    FROM lists
), checked AS (
    SELECT *,
        CASE
            WHEN bad_utf8 THEN 'invalid UTF-8'
            WHEN r IS NULL THEN
                CASE WHEN NOT json_valid(line) THEN 'invalid JSON'
                     WHEN json_type(line) <> 'OBJECT' THEN 'not a JSON object'
                     ELSE 'unreadable record' END
            WHEN r.id IS NULL OR trim(r.id) = '' THEN
                CASE WHEN json_type(line) <> 'OBJECT' THEN 'not a JSON object'
                     ELSE 'missing id' END
            WHEN NOT regexp_full_match(r.id, '{_ID_RE}')
                THEN 'invalid arXiv id: ' || left(r.id, 60)
            WHEN r.title IS NULL THEN 'missing title'
            WHEN coalesce(json_type(r.versions) NOT IN ('ARRAY', 'NULL'), false)
                THEN 'versions is not a list of {{version, created}}'
            WHEN len(list_filter(raw_versions, lambda x: x.created IS NOT NULL))
                <> len(list_filter(versions, lambda x: x.created IS NOT NULL))
                THEN 'unparseable version date'
            WHEN coalesce(json_type(r.authors_parsed) NOT IN ('ARRAY', 'NULL'), false)
                THEN 'authors_parsed is not a list of name lists'
            WHEN r.update_date IS NOT NULL AND try_cast(r.update_date AS DATE) IS NULL
                THEN 'unparseable update_date'
            ELSE NULL
        END AS reason
    FROM mapped
)
SELECT
    line_no,
    reason,
    CASE WHEN reason IS NOT NULL THEN left(rtrim(line, chr(13) || chr(10)), {_MAX_RAW}) END AS raw,
    r.id AS paper_id,
    '{SOURCE}' AS source,
    {_CLEAN.format(x="r.title")} AS title,
    {_CLEAN.format(x="r.abstract")} AS abstract,
    {_CLEAN.format(x="r.authors")} AS authors,
    nullif(names, []) AS authors_parsed,
    nullif(list_filter(string_split(coalesce(r.categories, ''), ' '), lambda c: c <> ''), [])
        AS categories,
    nullif(string_split(trim(coalesce(r.categories, '')), ' ')[1], '') AS primary_category,
    {_CLEAN.format(x="r.submitter")} AS submitter,
    {_CLEAN.format(x="r.comments")} AS comments,
    {_CLEAN.format(x='r."journal-ref"')} AS journal_ref,
    {_CLEAN.format(x="r.doi")} AS doi,
    {_CLEAN.format(x='r."report-no"')} AS report_no,
    {_CLEAN.format(x="r.license")} AS license,
    nullif(versions, []) AS versions,
    try_cast(r.update_date AS DATE) AS update_date,
    versions[1].created AS published,
    versions[-1].created AS updated
FROM checked
"""

PAPER_COLUMNS = [
    "paper_id", "source", "title", "abstract", "authors", "authors_parsed", "categories",
    "primary_category", "submitter", "comments", "journal_ref", "doi", "report_no", "license",
    "versions", "update_date", "published", "updated",
]  # fmt: skip


@dataclass(frozen=True)
class ImportResult:
    lines: int
    papers: UpsertResult
    rejected: int


Progress = Callable[[int, int], None]  # (bytes read so far, lines in the batch just stored)


_Batch = tuple[pa.Table, int]  # (lines, bytes read so far)


def _batches(path: Path, batch_bytes: int) -> Iterator[_Batch]:
    """(Arrow table of (line_no, line, bad_utf8), bytes read so far), batch by batch.

    Lines are found with a vectorised newline scan and handed to Arrow without copying: each
    line keeps its terminator, which JSON treats as trailing whitespace. A batch that is not
    valid UTF-8 (rare) is decoded line by line to find the offending lines, which are then
    rejected with their numbers.
    """
    line_no = 1
    with path.open("rb") as handle:
        while True:
            data = handle.read(batch_bytes)
            if not data:
                return
            if not data.endswith(b"\n"):
                data += handle.readline()  # finish the last line of the batch
            if not data.endswith(b"\n"):
                data += b"\n"  # the file's last line had no terminator
            table = _arrow_batch(line_no, data)
            yield table, handle.tell()
            line_no += table.num_rows


def _arrow_batch(first: int, data: bytes) -> pa.Table:
    """``data`` (whole lines, each ending in a newline) as a table of lines, without copying."""
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == _NEWLINE) + 1
    offsets = np.concatenate(([0], ends)).astype(np.int64)
    lines = pa.LargeStringArray.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(data))
    try:
        lines.validate(full=True)  # checks UTF-8
    except pa.ArrowInvalid:
        return _arrow_batch_slow(first, data)
    all_good = pa.py_buffer(np.zeros((len(lines) + 7) // 8, np.uint8))
    return _table(first, lines, pa.Array.from_buffers(pa.bool_(), len(lines), [None, all_good]))


def _arrow_batch_slow(first: int, data: bytes) -> pa.Table:
    lines, bad = [], []
    for raw in data[:-1].split(b"\n"):
        raw += b"\n"
        try:
            lines.append(raw.decode("utf-8"))
            bad.append(False)
        except UnicodeDecodeError:
            lines.append(raw.decode("utf-8", errors="replace"))
            bad.append(True)
    return _table(first, pa.array(lines, pa.large_string()), pa.array(bad, pa.bool_()))


def _table(first: int, lines: pa.Array, bad: pa.Array, chunk: int = 8192) -> pa.Table:
    """Lines as an Arrow table in several record batches, so DuckDB scans them in parallel."""
    # Built from buffers: pa.array() on a NumPy array would import pandas (over a second).
    numbers = np.arange(first, first + len(lines), dtype=np.int64)
    numbers = pa.Array.from_buffers(pa.int64(), len(lines), [None, pa.py_buffer(numbers)])
    batches = [
        pa.RecordBatch.from_arrays(
            [numbers.slice(i, chunk), lines.slice(i, chunk), bad.slice(i, chunk)],
            names=["line_no", "line", "bad_utf8"],
        )
        for i in range(0, len(lines), chunk)
    ]
    return pa.Table.from_batches(batches)


def _prefetched(batches: Iterator[_Batch]) -> Generator[_Batch, None, None]:
    """Read the next batch in a thread while DuckDB (which releases the GIL) stores this one.

    At most one batch waits in the queue, so memory stays bounded by two batches.
    """
    slot: queue.Queue[_Batch | BaseException | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def offer(item: _Batch | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                slot.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in batches:
                if not offer(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer and re-raised there
            offer(exc)
            return
        offer(None)

    reader = threading.Thread(target=produce, name="snapshot-reader", daemon=True)
    reader.start()
    try:
        while (item := slot.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()  # the consumer failed or stopped early: let the reader finish
        reader.join()


def import_snapshot(
    wh: Warehouse,
    path: Path,
    *,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    commit_rows: int = DEFAULT_COMMIT_ROWS,
    hold_s: float = 10.0,
    progress: Progress | None = None,
) -> ImportResult:
    """Stream ``path`` into ``papers``, committing every ``commit_rows`` lines or so.

    A transaction spans batches until it holds ``commit_rows`` lines: DuckDB writes the rows
    of a transaction that fills whole row groups (122,880 rows) straight to the database file,
    where smaller ones go through the write-ahead log and are written a second time at the
    next checkpoint. The connection is kept across transactions (see ``Warehouse.writer``)
    and let go every ``hold_s`` seconds, so a status query can get in during a long import.
    """
    source_name = str(path.resolve())
    total = UpsertResult()
    rejected = 0
    lines_seen = 0
    reader = contextlib.closing(_prefetched(_batches(path, batch_bytes)))
    with reader as batches, wh.writer(hold_s=hold_s) as writer:
        more = True
        while more:
            pending, pending_rejected, pending_lines = UpsertResult(), 0, 0
            with writer.transaction() as con:
                while pending_lines < commit_rows:
                    item = next(batches, None)
                    if item is None:
                        more = False
                        break
                    batch, offset = item
                    papers, bad = _store_batch(con, batch, source_name)
                    pending += papers
                    pending_rejected += bad
                    pending_lines += batch.num_rows
                    if progress:
                        progress(offset, batch.num_rows)
            total += pending  # counted once committed
            rejected += pending_rejected
            lines_seen += pending_lines
    return ImportResult(lines=lines_seen, papers=total, rejected=rejected)


def _store_batch(
    con: duckdb.DuckDBPyConnection, batch: pa.Table, source_name: str
) -> tuple[UpsertResult, int]:
    """Parse one batch of lines in DuckDB, record its rejects and upsert its papers."""
    con.register("_snap_lines", batch)
    try:
        con.execute(_PARSE).fetchall()
        rejected = fetch_int(
            con,
            "INSERT INTO rejects (source, input, line_no, reason, raw) "
            "SELECT ?, ?, line_no, reason, raw FROM _snap WHERE reason IS NOT NULL "
            "ON CONFLICT (source, input, line_no) DO UPDATE SET "
            "reason = excluded.reason, raw = excluded.raw",
            [SOURCE, source_name],
        )
        con.execute(
            "CREATE OR REPLACE TEMP VIEW _snap_papers AS SELECT * FROM _snap WHERE reason IS NULL"
        ).fetchall()
        papers = upsert_view(
            con,
            "papers",
            "_snap_papers",
            PAPER_COLUMNS,
            ["paper_id"],
            order_column="line_no",
            hash_exclude=["source"],
            touch=["last_changed"],
            merge_prefer_existing=PREFER_EXISTING,
        )
        con.execute("DROP VIEW _snap_papers; DROP TABLE _snap").fetchall()
    finally:
        with contextlib.suppress(duckdb.TransactionException):  # aborted: dies anyway
            con.unregister("_snap_lines")
    return papers, rejected
