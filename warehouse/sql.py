"""Ad-hoc read-only SQL for people: ``scicurate warehouse sql``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from warehouse.db import Warehouse
from warehouse.errors import ReadOnlyViolationError, WarehouseError

_ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool


def check_read_only(sql: str) -> None:
    """Refuse anything but SELECT-like statements (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN)."""
    try:
        statements = duckdb.connect().extract_statements(sql)
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot parse SQL: {str(exc).splitlines()[0]}") from None
    if not statements:
        raise WarehouseError("no SQL statement given")
    for stmt in statements:
        if stmt.type not in _ALLOWED:
            kind = str(stmt.type).rsplit(".", 1)[-1]
            raise ReadOnlyViolationError(
                f"refused: `warehouse sql` only runs read-only queries, and this is a {kind} "
                "statement"
            )


def run_read_only(wh: Warehouse, sql: str, *, max_rows: int = 1000) -> QueryResult:
    """Run read-only SQL against the warehouse, on a read-only connection."""
    check_read_only(sql)
    with wh.read() as con:
        try:
            cur = con.execute(sql)
        except duckdb.Error as exc:
            raise WarehouseError(f"query failed: {str(exc).splitlines()[0]}") from None
        columns = [d[0] for d in cur.description] if cur.description else []
        rows = cur.fetchmany(max_rows + 1)
    return QueryResult(columns, rows[:max_rows], len(rows) > max_rows)
