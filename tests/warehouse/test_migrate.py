"""Schema migrations: fresh databases, upgrades from every earlier version, refusals."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from warehouse import Warehouse, current_version, ensure_current, latest_version, migrate
from warehouse.errors import (
    CorruptDatabaseError,
    MigrationError,
    NotMigratedError,
    SchemaTooNewError,
)
from warehouse.migrate import available_migrations

EXPECTED_TABLES = {
    "schema_version",
    "papers",
    "pdfs",
    "fulltext_files",
    "bulk_tars",
    "best_documents",
    "documents",
    "elements",
    "reviews",
    "feedback",
    "feedback_rejects",
    "annotation_tasks",
    "annotations",
    "datasets",
    "dataset_versions",
    "dataset_drops",
    "feedback_ingests",
    "task_consensus",
    "crawl_state",
    "runs",
    "rejects",
    "digest_summaries",
}


def _schema(path: Path) -> dict[str, list[tuple[str, str]]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    schema: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        schema.setdefault(table, []).append((column, dtype))
    return schema


def test_fresh_database_has_every_table(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "w.duckdb")
    assert current_version(wh) == 0
    applied = migrate(wh)
    assert [m.version for m in applied] == list(range(1, latest_version() + 1))
    assert current_version(wh) == latest_version()
    assert set(_schema(wh.path)) == EXPECTED_TABLES  # type: ignore[arg-type]
    ensure_current(wh)


def test_papers_has_every_snapshot_field(wh: Warehouse) -> None:
    columns = {c for c, _ in _schema(wh.path)["papers"]}  # type: ignore[arg-type]
    snapshot_fields = {
        "id",
        "submitter",
        "authors",
        "title",
        "comments",
        "journal-ref",
        "doi",
        "report-no",
        "categories",
        "license",
        "abstract",
        "versions",
        "update_date",
        "authors_parsed",
    }
    mapped = {f.replace("-", "_") for f in snapshot_fields} - {"id"} | {"paper_id"}
    assert mapped <= columns
    assert {"source", "primary_category", "published", "updated", "venue", "decision"} <= columns


def test_rerun_applies_nothing(wh: Warehouse) -> None:
    assert migrate(wh) == []
    assert current_version(wh) == latest_version()


@pytest.mark.parametrize("start", range(1, len(available_migrations())))
def test_upgrade_from_every_earlier_version_keeps_data(tmp_path: Path, start: int) -> None:
    old = Warehouse(tmp_path / "old.duckdb")
    migrate(old, target=start)
    assert current_version(old) == start
    with old.write() as con:
        con.execute(
            "INSERT INTO papers (paper_id, source, title, categories, content_hash) "
            "VALUES ('hep-th/9901001', 'arxiv-oai', 'Kept', ['hep-th'], 'h')"
        )
        con.execute(
            "INSERT INTO runs (run_id, flow, started_at, status) "
            "VALUES ('r1', 'crawl-arxiv', now(), 'completed')"
        )
    applied = migrate(old)
    assert [m.version for m in applied] == list(range(start + 1, latest_version() + 1))

    fresh = Warehouse(tmp_path / "fresh.duckdb")
    migrate(fresh)
    assert _schema(old.path) == _schema(fresh.path)  # type: ignore[arg-type]
    with old.read() as con:
        assert con.execute("SELECT paper_id, title, categories FROM papers").fetchall() == [
            ("hep-th/9901001", "Kept", ["hep-th"])
        ]
        assert con.execute("SELECT run_id FROM runs").fetchall() == [("r1",)]


def test_newer_database_is_refused_and_untouched(wh: Warehouse) -> None:
    newer = latest_version() + 1
    with wh.write() as con:
        con.execute("INSERT INTO schema_version (version, name) VALUES (?, 'future')", [newer])
    before = wh.path.read_bytes()  # type: ignore[union-attr]
    with pytest.raises(SchemaTooNewError, match="upgrade scicurate"):
        migrate(wh)
    with pytest.raises(SchemaTooNewError):
        ensure_current(wh)
    assert current_version(wh) == newer
    assert wh.path.read_bytes() == before  # type: ignore[union-attr]


def test_corrupt_file_is_a_clear_error_not_a_reset(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    garbage = b"this is not a database\n" * 500
    path.write_bytes(garbage)
    wh = Warehouse(path)
    with pytest.raises(CorruptDatabaseError, match="never resets"):
        migrate(wh)
    with pytest.raises(CorruptDatabaseError):
        current_version(wh)
    assert path.read_bytes() == garbage


def test_missing_database_for_reading(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "absent.duckdb")
    with pytest.raises(NotMigratedError, match="warehouse migrate"), wh.read():
        pass
    with pytest.raises(NotMigratedError):
        ensure_current(wh)


def test_out_of_range_target(wh: Warehouse) -> None:
    with pytest.raises(MigrationError):
        migrate(wh, target=latest_version() + 5)


def test_in_memory_warehouse_migrates(mem_wh: Warehouse) -> None:
    assert current_version(mem_wh) == latest_version()
