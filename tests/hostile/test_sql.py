"""`warehouse sql` against a hostile user: nothing is written, no file but the catalog is read."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostile.conftest import Outcome
from tests.warehouse.test_papers import FULL
from warehouse import Warehouse, migrate
from warehouse.papers import upsert_papers

Cli = Callable[..., Outcome]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    wh = Warehouse(home / "warehouse.duckdb")
    migrate(wh)
    upsert_papers(wh, [dataclasses.replace(FULL, paper_id=f"p{i}") for i in range(3)])
    (home / "label-studio.json").write_text('{"api_key": "secret-in-home"}')
    return home


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _papers(home: Path) -> int:
    with Warehouse(home / "warehouse.duckdb").read() as con:
        return int(con.execute("SELECT count(*) FROM papers").fetchall()[0][0])


def _forms(home: Path, tmp_path: Path) -> list[str]:
    catalog = home / "warehouse.duckdb"
    return [
        # The reported one: EXPLAIN ANALYZE runs the COPY it explains.
        f"EXPLAIN ANALYZE COPY (SELECT 'x' AS x) TO '{catalog}' (HEADER false)",
        f"EXPLAIN ANALYZE COPY (SELECT '#!/bin/sh' AS x) TO '{tmp_path}/evil.sh'",
        f"EXPLAIN ANALYZE COPY papers TO '{tmp_path}/dump.parquet' (FORMAT parquet)",
        f"EXPLAIN COPY papers TO '{tmp_path}/dump.csv'",
        f"COPY papers TO '{tmp_path}/dump.csv'",
        "EXPLAIN ANALYZE DELETE FROM papers",
        "EXPLAIN SELECT 1",
        "SELECT 1; DELETE FROM papers",
        f"ATTACH '{tmp_path}/other.duckdb' AS o",
        "SET enable_external_access = true",
        "PRAGMA enable_profiling",
        "CALL checkpoint()",
        "PIVOT papers ON primary_category",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_csv_auto('/etc/passwd')",
        "SELECT content FROM read_text('/etc/passwd')",
        f"SELECT content FROM read_text('{home}/label-studio.json')",
        f"SELECT content FROM read_blob('{home}/label-studio.json')",
        "SELECT * FROM glob('/etc/*')",
        f"SELECT * FROM glob('{home}/*')",
        "SELECT * FROM (SELECT 1) WHERE 1 IN (SELECT count(*) FROM glob('/etc/*'))",
        "SELECT * FROM query('SELECT 1')",
        "SELECT * FROM query_table('papers')",
        "SELECT * FROM '/etc/passwd'",
        f"SELECT * FROM '{home}/label-studio.json'",
    ]


def test_every_hostile_form_is_refused_and_the_catalog_survives(
    cli: Cli, home: Path, tmp_path: Path
) -> None:
    catalog = home / "warehouse.duckdb"
    before = _digest(catalog)
    for sql in _forms(home, tmp_path):
        result = cli("--home", str(home), "warehouse", "sql", sql)
        assert result.code == 1, (sql, result)
        line = result.one_line_error()
        assert "refused" in line or "does not exist" in line, (sql, line)
        assert "secret-in-home" not in result.out + result.err
        assert "root:" not in result.out  # nothing of /etc/passwd came back
    assert _digest(catalog) == before
    assert _papers(home) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]  # no file was written


def test_plain_queries_still_run(cli: Cli, home: Path) -> None:
    for sql in [
        "SELECT count(*) AS n FROM papers",
        "WITH x AS (SELECT paper_id FROM papers) SELECT count(*) AS n FROM x",
        "FROM papers SELECT count(*) AS n",
        "DESCRIBE papers",
        "SHOW TABLES",
        "SUMMARIZE papers",
        "VALUES (1), (2)",
    ]:
        result = cli("--home", str(home), "warehouse", "sql", sql, "--csv")
        assert result.code == 0, (sql, result.err)
        assert len(result.out.splitlines()) >= 2


def test_an_explicitly_allowed_path_can_be_read_and_nothing_else(
    cli: Cli, home: Path, tmp_path: Path
) -> None:
    data = tmp_path / "ids.csv"
    data.write_text("paper_id\np0\np1\n")
    sql = f"SELECT count(*) AS n FROM read_csv('{data}') JOIN papers USING (paper_id)"
    result = cli("--home", str(home), "warehouse", "sql", sql, "--csv", "--allow-path", str(data))
    assert result.code == 0, result.err
    assert result.out.splitlines() == ["n", "2"]
    # The allowed path opens no other door.
    other = f"SELECT content FROM read_text('{home}/label-studio.json')"
    result = cli("--home", str(home), "warehouse", "sql", other, "--allow-path", str(data))
    assert result.code == 1
    assert "refused" in result.one_line_error()
    assert "secret-in-home" not in result.out + result.err
    copy = f"EXPLAIN ANALYZE COPY (SELECT 1) TO '{data}'"
    result = cli("--home", str(home), "warehouse", "sql", copy, "--allow-path", str(data))
    assert result.code == 1
    assert data.read_text() == "paper_id\np0\np1\n"
