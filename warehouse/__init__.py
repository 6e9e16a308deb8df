"""The DuckDB catalog: schema migrations, typed reads and writes, status, datasets."""

from warehouse.db import RetryPolicy, Warehouse, WarehouseSpec
from warehouse.errors import WarehouseError
from warehouse.migrate import current_version, ensure_current, latest_version, migrate

__all__ = [
    "RetryPolicy",
    "Warehouse",
    "WarehouseError",
    "WarehouseSpec",
    "current_version",
    "ensure_current",
    "latest_version",
    "migrate",
]
