"""Shared fixtures: an isolated Prefect, temporary warehouses, the shared fixture data."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Prefect reads its settings when first imported, so isolate it before any test module imports
# it: a private PREFECT_HOME and results folder, no telemetry, a patient ephemeral server.
_PREFECT_TMP = Path(tempfile.mkdtemp(prefix="scicurate-prefect-"))
os.environ.update(
    {
        "PREFECT_HOME": str(_PREFECT_TMP / "home"),
        "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(_PREFECT_TMP / "results"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "60",
        "PREFECT_LOGGING_TO_API_ENABLED": "false",
    }
)
os.environ.pop("PREFECT_API_URL", None)
for _stray in ("SCICURATE_HOME", "SCICURATE_CONFIG", "LABEL_STUDIO_API_KEY", "LABEL_STUDIO_URL"):
    os.environ.pop(_stray, None)

from warehouse import Warehouse, migrate  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SCICURATE_SHARED", REPO.parent / "shared"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_PREFECT_TMP, ignore_errors=True)


@pytest.fixture(scope="session")
def shared() -> Path:
    """The ../shared folder (real recorded responses, the PDF corpus), or a clear skip."""
    if not (SHARED / "fixtures").is_dir():
        pytest.skip(
            f"../shared is not beside this checkout ({SHARED}); "
            "set SCICURATE_SHARED to run the tests that read recorded data"
        )
    return SHARED


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A real (temporary, ephemeral) Prefect API for the whole test session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[Warehouse]:
    """A migrated warehouse in a temporary file."""
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    migrate(warehouse)
    yield warehouse


@pytest.fixture
def mem_wh() -> Iterator[Warehouse]:
    """A migrated in-memory warehouse, for fast unit tests."""
    warehouse = Warehouse(":memory:")
    migrate(warehouse)
    yield warehouse
    warehouse.close()
