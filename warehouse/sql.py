"""Ad-hoc read-only SQL for people: ``scicurate warehouse sql``.

Two independent guards, so that neither alone has to be perfect:

1. The statement is parsed with DuckDB's own parser and its syntax tree is walked. Only plain
   queries pass (``SELECT``, ``WITH … SELECT``, ``VALUES``, ``FROM …``, ``DESCRIBE``, ``SHOW``,
   ``SUMMARIZE``): ``EXPLAIN`` is refused, since ``EXPLAIN ANALYZE`` runs the statement it
   explains (a ``COPY … TO`` included), and so are the table functions that run SQL text
   (``query``, ``query_table``), which would bypass the check.
2. The query runs on a read-only connection with ``enable_external_access=false`` and a locked
   configuration: DuckDB itself refuses to read or write any file but the catalog (``read_csv``,
   ``read_text``, ``glob``, ``COPY``, a quoted path as a table), unless the caller names the
   exact paths it allows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from warehouse.db import Warehouse
from warehouse.errors import ReadOnlyViolationError, WarehouseError

# Table functions that read files or directories: refused unless a path is explicitly allowed.
_FILE_FUNCTIONS = frozenset(
    {
        "read_csv",
        "read_csv_auto",
        "sniff_csv",
        "read_json",
        "read_json_auto",
        "read_json_objects",
        "read_json_objects_auto",
        "read_ndjson",
        "read_ndjson_auto",
        "read_ndjson_objects",
        "read_parquet",
        "parquet_scan",
        "parquet_metadata",
        "parquet_schema",
        "parquet_file_metadata",
        "parquet_kv_metadata",
        "parquet_bloom_probe",
        "read_text",
        "read_blob",
        "glob",
    }
)
# Functions that execute SQL given as a string: never allowed, whatever the paths.
_SQL_TEXT_FUNCTIONS = frozenset({"query", "query_table"})


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool


def check_read_only(sql: str, *, allow_files: bool = False) -> None:
    """Refuse anything but plain queries; see the module docstring for what counts."""
    parser = duckdb.connect()
    try:
        try:
            statements = parser.extract_statements(sql)
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot parse SQL: {_first_line(exc)}") from None
        if not statements:
            raise WarehouseError("no SQL statement given")
        for stmt in statements:
            if stmt.type != duckdb.StatementType.SELECT:
                kind = str(stmt.type).rsplit(".", 1)[-1]
                raise ReadOnlyViolationError(
                    "refused: `warehouse sql` only runs read-only queries (SELECT, WITH, "
                    f"DESCRIBE, SHOW, SUMMARIZE); this statement is {kind}"
                )
            _check_tree(parser, stmt.query, allow_files=allow_files)
    finally:
        parser.close()


def _check_tree(parser: duckdb.DuckDBPyConnection, query: str, *, allow_files: bool) -> None:
    row = parser.execute("SELECT json_serialize_sql(?)", [query]).fetchall()[0]
    tree = json.loads(row[0])
    if tree.get("error"):
        # A SELECT that cannot be serialised cannot be inspected: refuse it rather than guess.
        raise ReadOnlyViolationError(
            f"refused: the query cannot be inspected ({tree.get('error_message', 'unknown')})"
        )
    for name in _function_names(tree):
        if name in _SQL_TEXT_FUNCTIONS:
            raise ReadOnlyViolationError(
                f"refused: `{name}()` runs SQL given as text, which `warehouse sql` cannot check"
            )
        if name in _FILE_FUNCTIONS and not allow_files:
            raise ReadOnlyViolationError(
                f"refused: `{name}()` reads files; `warehouse sql` reads only the catalog "
                "unless you allow a path with --allow-path"
            )


def _function_names(node: object) -> Iterator[str]:
    """Every function name in a serialised syntax tree (scalar, aggregate and table)."""
    if isinstance(node, dict):
        name = node.get("function_name")
        if isinstance(name, str):
            yield name.lower()
        for value in node.values():
            yield from _function_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _function_names(value)


def run_read_only(
    wh: Warehouse,
    sql: str,
    *,
    max_rows: int = 1000,
    allowed_paths: Sequence[Path | str] = (),
) -> QueryResult:
    """Run a checked query on a sandboxed read-only connection (see the module docstring).

    ``allowed_paths`` are the only files besides the catalog that the query may read.
    """
    check_read_only(sql, allow_files=bool(allowed_paths))
    with wh.read_own() as con:
        _sandbox(con, allowed_paths)
        try:
            cur = con.execute(sql)
        except duckdb.PermissionException as exc:
            raise ReadOnlyViolationError(f"refused by DuckDB: {_first_line(exc)}") from None
        except duckdb.Error as exc:
            raise WarehouseError(f"query failed: {_first_line(exc)}") from None
        columns = [d[0] for d in cur.description] if cur.description else []
        rows = cur.fetchmany(max_rows + 1)
    return QueryResult(columns, rows[:max_rows], len(rows) > max_rows)


def _sandbox(con: duckdb.DuckDBPyConnection, allowed_paths: Sequence[Path | str]) -> None:
    """No file access but ``allowed_paths``, and no way to change that from the query."""
    if allowed_paths:
        paths = [str(Path(p).resolve()) for p in allowed_paths]
        con.execute("SET allowed_paths = ?", [paths])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
