"""Load the Kaggle arXiv metadata snapshot into ``papers``.

Batches of lines (``sources.arxiv_snapshot.line_batches``) go to DuckDB as Arrow tables of
``(line_no, line, problem)``, where JSON parsing, validation and the mapping onto the
canonical record happen in SQL. Bad lines land in ``rejects`` with their line number and
reason (the project's own words, with at most an escaped excerpt of the input), and good ones
are upserted in the same short transaction. A value of the wrong JSON type (a list or a number
where the snapshot has a string) is a reject, never coerced. Memory is bounded by the
batch size, whatever the file's size.

Re-importing the same file changes nothing; a newer snapshot updates papers in place (more
versions win; an older snapshot never overwrites a newer record).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from warehouse.db import Warehouse, fetch_int
from warehouse.papers import PREFER_EXISTING
from warehouse.upsert import UpsertResult, upsert_view

SOURCE = "arxiv-snapshot"
DEFAULT_COMMIT_ROWS = 250_000  # two DuckDB row groups and more per transaction
_MAX_RAW = 2000  # characters of a rejected line kept for inspection

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


# The fields the snapshot gives as strings. from_json() would turn any other JSON value into
# text (a list of categories into the one category '["cs.AI","cs.LG"]', the number 1501.12340
# into the id 1501.1234), so their JSON types are read from the raw line first, with one
# json_type() call per line for all of them.
_STRINGS = [name for name, kind in _FIELDS.items() if kind == "VARCHAR"]
_STRING_PATHS = "[" + ", ".join(f"'$.\"{name}\"'" for name in _STRINGS) + "]"
_KIND_NAMES = {
    "ARRAY": "a list", "OBJECT": "an object", "BOOLEAN": "a boolean", "BIGINT": "a number",
    "UBIGINT": "a number", "DOUBLE": "a number",
}  # fmt: skip


def _not_string(kind: str) -> str:
    """SQL: true when ``kind`` (a json_type() result, NULL when the field is absent) is
    neither a string nor JSON null."""
    return f"coalesce({kind} NOT IN ('VARCHAR', 'NULL'), false)"


def _kind_name(kind: str) -> str:
    """SQL: ``kind`` as words ("a list", "a number", ...)."""
    cases = " ".join(f"WHEN '{k}' THEN '{name}'" for k, name in _KIND_NAMES.items())
    return f"CASE {kind} {cases} ELSE lower({kind}) END"


def _string_check(kinds: str) -> str:
    """A SQL ``WHEN`` branch: the first field of ``_STRINGS`` whose JSON value is not a string,
    in the project's own words. One cheap test per line; the field is named only for lines
    that fail it."""
    others = ", ".join(f"'{k}'" for k in _KIND_NAMES)
    which = " ".join(
        f"WHEN {_not_string(f'{kinds}[{i}]')} THEN "
        f"'{name} is ' || {_kind_name(f'{kinds}[{i}]')} || ', not a string'"
        for i, name in enumerate(_STRINGS, start=1)
    )
    return f"""WHEN list_has_any({kinds}, [{others}])
                THEN CASE {which} ELSE 'a field has an unexpected JSON type' END"""


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
# A line the reader already refused (over-long, invalid UTF-8) is not parsed at all.
_PARSE = f"""
CREATE OR REPLACE TEMP TABLE _snap AS
WITH typed AS (
    SELECT line_no, line, problem,
        CASE WHEN problem IS NULL THEN try(from_json(line, '{_STRUCTURE}')) END AS r
    FROM _snap_lines
    WHERE problem IS NOT NULL OR line NOT IN (chr(10), chr(13) || chr(10))
), lists AS (
    SELECT *,
        CASE WHEN r IS NOT NULL THEN json_type(line, {_STRING_PATHS}) END AS kinds,
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
            WHEN problem IS NOT NULL THEN problem
            WHEN r IS NULL THEN
                CASE WHEN NOT json_valid(line) THEN 'invalid JSON'
                     WHEN json_type(line) <> 'OBJECT' THEN 'not a JSON object'
                     ELSE 'unreadable record' END
            WHEN r.id IS NULL OR trim(r.id) = '' THEN
                CASE WHEN json_type(line) <> 'OBJECT' THEN 'not a JSON object'
                     ELSE 'missing id' END
            {_string_check("kinds")}
            WHEN NOT regexp_full_match(r.id, '{_ID_RE}')
                THEN 'invalid arXiv id: ' || to_json(left(r.id, 60))
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
            WHEN r.categories IS NULL THEN 'missing categories'
            WHEN trim(r.categories) = '' THEN 'empty categories'
            ELSE NULL
        END AS reason
    FROM mapped
)
SELECT
    line_no,
    reason,
    CASE WHEN reason IS NOT NULL
        THEN nullif(left(rtrim(line, chr(13) || chr(10)), {_MAX_RAW}), '') END AS raw,
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


def load_snapshot(
    wh: Warehouse,
    batches: Iterator[tuple[pa.Table, int]],
    source_name: str,
    *,
    commit_rows: int = DEFAULT_COMMIT_ROWS,
    hold_s: float = 10.0,
    progress: Progress | None = None,
) -> ImportResult:
    """Store batches of snapshot lines (``sources.arxiv_snapshot.line_batches``) read from
    ``source_name`` into ``papers``, committing every ``commit_rows`` lines or so.

    A transaction spans batches until it holds ``commit_rows`` lines: DuckDB writes the rows
    of a transaction that fills whole row groups (122,880 rows) straight to the database file,
    where smaller ones go through the write-ahead log and are written a second time at the
    next checkpoint. The connection is kept across transactions (see ``Warehouse.writer``)
    and let go every ``hold_s`` seconds, so a status query can get in during a long import.
    """
    total = UpsertResult()
    rejected = 0
    lines_seen = 0
    with wh.writer(hold_s=hold_s) as writer:
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
