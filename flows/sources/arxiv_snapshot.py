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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from warehouse.db import Warehouse, fetch_int
from warehouse.papers import PREFER_EXISTING
from warehouse.upsert import UpsertResult, upsert_view

SOURCE = "arxiv-snapshot"
DEFAULT_BATCH_BYTES = 64 * 1024 * 1024  # about 45,000 snapshot lines
_MAX_RAW = 2000  # characters of a rejected line kept for inspection

# The same id grammar as flows.sources.arxiv_ids, in RE2 syntax.
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


# Collapse whitespace exactly as clean_text() does. Newlines become spaces and short runs of
# spaces collapse with cheap replace() calls; only text that still holds a run (or a tab,
# CR or form feed) pays for the regular expression, which is several times slower.
_FAST = "replace(replace(replace({x}, chr(10), ' '), '  ', ' '), '  ', ' ')"
_SLOW = "regexp_replace({x}, '[\\t\\n\\f\\r ]+', ' ', 'g')"
_CLEAN = (
    "nullif(trim(list_transform([" + _FAST + "], lambda f: CASE WHEN contains(f, '  ') "
    "OR contains(f, chr(9)) OR contains(f, chr(12)) OR contains(f, chr(13)) THEN "
    + _SLOW
    + " ELSE f END)[1]), '')"
)

# One pass over the batch: validate each line and, for valid ones, map it onto `papers`.
_PARSE = f"""
CREATE OR REPLACE TEMP TABLE _snap AS
WITH typed AS (
    SELECT line_no, line, bad_utf8,
        json_valid(line) AS ok,
        CASE WHEN json_valid(line) THEN json_type(line) END AS kind,
        CASE WHEN json_valid(line) THEN from_json(line, '{_STRUCTURE}') END AS r
    FROM _snap_lines
), lists AS (
    SELECT *,
        from_json(r.versions, '{_VERSIONS}') AS versions,
        from_json(r.authors_parsed, '{_NAMES}') AS names,
        coalesce(json_type(r.versions) NOT IN ('ARRAY', 'NULL'), false) AS bad_versions,
        coalesce(json_type(r.authors_parsed) NOT IN ('ARRAY', 'NULL'), false) AS bad_names
    FROM typed
), checked AS (
    SELECT line_no, line, r, versions, names, bad_utf8,
        CASE
            WHEN bad_utf8 THEN 'invalid UTF-8'
            WHEN NOT ok THEN 'invalid JSON'
            WHEN kind <> 'OBJECT' THEN 'not a JSON object'
            WHEN r.id IS NULL OR trim(r.id) = '' THEN 'missing id'
            WHEN NOT regexp_full_match(r.id, '{_ID_RE}')
                THEN 'invalid arXiv id: ' || left(r.id, 60)
            WHEN r.title IS NULL THEN 'missing title'
            WHEN bad_versions THEN 'versions is not a list of {{version, created}}'
            WHEN list_bool_or(list_transform(versions, lambda x:
                    x.created IS NOT NULL AND try_strptime(x.created, {_DATE_FMT}) IS NULL))
                THEN 'unparseable version date'
            WHEN bad_names THEN 'authors_parsed is not a list of name lists'
            WHEN r.update_date IS NOT NULL AND try_cast(r.update_date AS DATE) IS NULL
                THEN 'unparseable update_date'
            ELSE NULL
        END AS reason
    FROM lists
)
SELECT
    line_no,
    reason,
    CASE WHEN reason IS NOT NULL THEN left(line, {_MAX_RAW}) END AS raw,
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
    nullif(list_transform(versions, lambda x: {{
        'version': x."version",
        'created': try_strptime(x.created, {_DATE_FMT}),
        'size': NULL::VARCHAR
    }}), []) AS versions,
    try_cast(r.update_date AS DATE) AS update_date,
    try_strptime(versions[1].created, {_DATE_FMT}) AS published,
    try_strptime(versions[-1].created, {_DATE_FMT}) AS updated
FROM checked
WHERE line <> ''
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


_Batch = tuple[int, pa.Table, int]


def _batches(path: Path, batch_bytes: int) -> Iterator[_Batch]:
    """(first line number, Arrow table of (line_no, line, bad_utf8), bytes read so far).

    A batch is decoded and split in one go (measured faster than Arrow's split kernel). A
    batch that is not valid UTF-8 (rare) is decoded line by line to find the offending
    lines, which are then rejected with their numbers.
    """
    line_no = 1
    with path.open("rb") as handle:
        while True:
            data = handle.read(batch_bytes)
            if not data:
                return
            if not data.endswith(b"\n"):
                data += handle.readline()  # finish the last line of the batch
            if data.endswith(b"\n"):
                data = data[:-1]
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                table = _arrow_batch_slow(line_no, data.split(b"\n"))
            else:
                lines = pa.array(text.split("\n"), pa.string())
                table = _arrow_batch(line_no, pc.utf8_rtrim(lines, characters="\r"))
            yield line_no, table, handle.tell()
            line_no += table.num_rows


def _arrow_batch(
    first: int, lines: pa.Array, bad: pa.Array | None = None, chunk: int = 8192
) -> pa.Table:
    """Lines as an Arrow table in several record batches, so DuckDB scans them in parallel."""
    text = lines.cast(pa.string())
    numbers = pa.array(range(first, first + len(text)), pa.int64())
    flags = bad if bad is not None else pa.array([False] * len(text), pa.bool_())
    batches = [
        pa.RecordBatch.from_arrays(
            [numbers.slice(i, chunk), text.slice(i, chunk), flags.slice(i, chunk)],
            names=["line_no", "line", "bad_utf8"],
        )
        for i in range(0, len(text), chunk)
    ]
    return pa.Table.from_batches(batches)


def _arrow_batch_slow(first: int, raw_lines: list[bytes]) -> pa.Table:
    lines, bad = [], []
    for raw in raw_lines:
        try:
            lines.append(raw.decode("utf-8").rstrip("\r"))
            bad.append(False)
        except UnicodeDecodeError:
            lines.append(raw.decode("utf-8", errors="replace"))
            bad.append(True)
    return _arrow_batch(first, pa.array(lines, pa.string()), pa.array(bad, pa.bool_()))


def _prefetched(batches: Iterator[_Batch]) -> Iterator[_Batch]:
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
    progress: Progress | None = None,
) -> ImportResult:
    """Stream ``path`` into ``papers``; one short write transaction per batch."""
    source_name = str(path.resolve())
    total = UpsertResult()
    rejected = 0
    lines_seen = 0
    for _first, batch, offset in _prefetched(_batches(path, batch_bytes)):
        with wh.write() as con:
            con.register("_snap_lines", batch)
            try:
                con.execute(_PARSE).fetchall()
                rejected += fetch_int(
                    con,
                    "INSERT INTO rejects (source, input, line_no, reason, raw) "
                    "SELECT ?, ?, line_no, reason, raw FROM _snap WHERE reason IS NOT NULL "
                    "ON CONFLICT (source, input, line_no) DO UPDATE SET "
                    "reason = excluded.reason, raw = excluded.raw",
                    [SOURCE, source_name],
                )
                con.execute(
                    "CREATE OR REPLACE TEMP VIEW _snap_papers AS "
                    "SELECT * FROM _snap WHERE reason IS NULL"
                ).fetchall()
                total += upsert_view(
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
        lines_seen += batch.num_rows
        if progress:
            progress(offset, batch.num_rows)
    return ImportResult(lines=lines_seen, papers=total, rejected=rejected)
