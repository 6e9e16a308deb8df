"""`warehouse sql` runs reads and refuses anything that writes."""

from __future__ import annotations

import pytest

from tests.warehouse.test_papers import FULL
from warehouse import Warehouse
from warehouse.errors import ReadOnlyViolationError, WarehouseError
from warehouse.papers import upsert_papers
from warehouse.sql import check_read_only, run_read_only


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM papers",
        "INSERT INTO papers (paper_id) VALUES ('x')",
        "UPDATE papers SET title = 'x'",
        "DROP TABLE papers",
        "CREATE TABLE t (a INT)",
        "COPY papers TO 'out.csv'",
        "ATTACH 'other.duckdb'",
        "SET threads = 1",
        "SELECT 1; DELETE FROM papers",
        "INSTALL httpfs",
        "CHECKPOINT",
        "EXPLAIN SELECT 1",
        "EXPLAIN ANALYZE COPY (SELECT 1) TO 'x.csv'",
        "SELECT * FROM query('SELECT 1')",
        "SELECT * FROM read_csv('/etc/passwd')",
    ],
)
def test_writes_are_refused(sql: str) -> None:
    with pytest.raises(ReadOnlyViolationError, match="refused"):
        check_read_only(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM papers",
        "WITH x AS (SELECT 1) SELECT * FROM x",
        "SHOW TABLES",
        "DESCRIBE papers",
        "SUMMARIZE papers",
        "FROM papers",
        "VALUES (1)",
    ],
)
def test_reads_are_allowed(wh: Warehouse, sql: str) -> None:
    result = run_read_only(wh, sql)
    assert result.columns


def test_rows_and_truncation(wh: Warehouse) -> None:
    import dataclasses

    upsert_papers(wh, [dataclasses.replace(FULL, paper_id=f"p{i}") for i in range(5)])
    result = run_read_only(wh, "SELECT paper_id FROM papers ORDER BY 1", max_rows=3)
    assert result.columns == ["paper_id"]
    assert result.rows == [("p0",), ("p1",), ("p2",)]
    assert result.truncated


def test_bad_sql_is_a_clear_error(wh: Warehouse) -> None:
    with pytest.raises(WarehouseError, match="cannot parse SQL"):
        run_read_only(wh, "SELEC oops")
    with pytest.raises(WarehouseError, match="query failed"):
        run_read_only(wh, "SELECT * FROM no_such_table")
    with pytest.raises(WarehouseError, match="no SQL"):
        run_read_only(wh, "   ")
