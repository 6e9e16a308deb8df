"""Named errors raised by the warehouse. The CLI turns each into a one-line message."""

from __future__ import annotations

from core.errors import ScicurateError, Transient


class WarehouseError(ScicurateError):
    """Base class for every error the warehouse raises on purpose."""


class CorruptDatabaseError(WarehouseError):
    """The file exists but is not a DuckDB database this build can open."""


class SchemaTooNewError(WarehouseError):
    """The database was migrated by a newer scicurate than the one running."""


class MigrationError(WarehouseError):
    """A migration failed; the database is left at the last version that applied cleanly."""


class LockTimeoutError(WarehouseError, Transient):
    """Another process held the database lock for longer than the retry budget."""


class ReadOnlyViolationError(WarehouseError):
    """A statement that would change data was sent to a read-only entry point."""


class NotMigratedError(WarehouseError):
    """The database has not been created or migrated yet."""
