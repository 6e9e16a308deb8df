"""Numbered SQL migrations and the ``schema_version`` table.

Each file ``migrations/NNNN_name.sql`` runs once, in order, in its own transaction together
with the row that records it. A database whose version is higher than the newest file here was
written by a newer scicurate; it is refused rather than touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import duckdb

from warehouse.db import Warehouse, fetch_int
from warehouse.errors import MigrationError, NotMigratedError, SchemaTooNewError

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """Every migration shipped with this build, in version order."""
    found = []
    for entry in resources.files("warehouse.migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"migration files are not numbered 1..N without gaps: {versions}")
    return found


def latest_version() -> int:
    return len(available_migrations())


def _current(con: duckdb.DuckDBPyConnection) -> int:
    exists = fetch_int(
        con,
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_name = 'schema_version'",
    )
    if not exists:
        return 0
    return fetch_int(con, "SELECT max(version) FROM schema_version")


def current_version(wh: Warehouse) -> int:
    """The schema version stored in the database (0 for an empty one)."""
    if not wh.in_memory and not wh.path.exists():  # type: ignore[union-attr]
        return 0
    with wh.read() as con:
        return _current(con)


def migrate(wh: Warehouse, *, target: int | None = None) -> list[Migration]:
    """Bring the database to ``target`` (default: latest). Returns the migrations applied."""
    migrations = available_migrations()
    newest = len(migrations)
    target = newest if target is None else target
    if not 0 <= target <= newest:
        raise MigrationError(f"target version {target} is outside 0..{newest}")
    applied: list[Migration] = []
    with wh.write() as con:
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
            " applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
        )
        current = _current(con)
    if current > newest:
        raise SchemaTooNewError(
            f"{wh.path} is at schema version {current}, but this scicurate only knows "
            f"versions up to {newest}; upgrade scicurate instead of using an older one"
        )
    for mig in migrations:
        if current < mig.version <= target:
            try:
                with wh.write() as con:
                    con.execute(mig.sql)
                    con.execute(
                        "INSERT INTO schema_version (version, name) VALUES (?, ?)",
                        [mig.version, mig.name],
                    )
            except duckdb.Error as exc:
                raise MigrationError(
                    f"migration {mig.version:04d}_{mig.name} failed: {exc}; "
                    f"the database stays at version {current}"
                ) from None
            current = mig.version
            applied.append(mig)
    return applied


def ensure_current(wh: Warehouse) -> None:
    """Raise unless the database exists and is exactly at this build's schema version."""
    version = current_version(wh)
    newest = latest_version()
    if version > newest:
        raise SchemaTooNewError(
            f"{wh.path} is at schema version {version}, newer than this scicurate ({newest})"
        )
    if version < newest:
        raise NotMigratedError(
            f"{wh.path} is at schema version {version}, this scicurate needs {newest}; "
            "run `scicurate warehouse migrate`"
        )
