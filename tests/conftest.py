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
from flows.prefect_env import LOG_FORMATS  # noqa: E402 - before Prefect is imported

os.environ.update(LOG_FORMATS)
for _stray in ("SCICURATE_HOME", "SCICURATE_CONFIG", "LABEL_STUDIO_API_KEY", "LABEL_STUDIO_URL"):
    os.environ.pop(_stray, None)

from annotation.client import LabelStudioClient  # noqa: E402
from annotation.errors import LabelStudioUnavailableError  # noqa: E402
from annotation.server import LabelStudioServer, find_executable  # noqa: E402
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


@pytest.fixture(scope="session")
def tesseract() -> str:
    """Tesseract's version line (`make test` installs it; elsewhere its absence skips)."""
    from parsers.ocr import OcrOptions, engine_version, unavailable

    why = unavailable(OcrOptions())
    if why is not None:
        if os.environ.get("SCICURATE_REQUIRE_TESSERACT") == "1":
            pytest.fail(f"OCR cannot run: {why}")
        pytest.skip(f"OCR cannot run: {why}")
    return engine_version() or ""


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabelStudioServer]:
    """A real Label Studio (1.23.2, from .venv-labelstudio) for the session, on a free port."""
    try:
        find_executable()
    except LabelStudioUnavailableError as exc:
        if os.environ.get("SCICURATE_REQUIRE_LABEL_STUDIO") == "1":
            raise  # `make test` installs it: its absence is a failure there
        pytest.skip(str(exc))
    server = LabelStudioServer(data_dir=tmp_path_factory.mktemp("label-studio"))
    with server:
        yield server


@pytest.fixture
def ls_client(label_studio: LabelStudioServer) -> Iterator[LabelStudioClient]:
    from tests.labelstudio_helpers import FAST

    with LabelStudioClient(label_studio.url, label_studio.api_key, FAST) as client:
        yield client


@pytest.fixture
def project_title(request: pytest.FixtureRequest) -> str:
    """A project of its own for every test (Label Studio titles are at most 50 characters)."""
    import hashlib

    return f"triage {hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]}"
