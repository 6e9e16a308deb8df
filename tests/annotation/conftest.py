"""A real Label Studio (1.23.2, from .venv-labelstudio) for the session, on a free port."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from annotation.client import LabelStudioClient
from annotation.errors import LabelStudioUnavailableError
from annotation.server import LabelStudioServer, find_executable
from flows.sources.http import Politeness

FAST = Politeness(min_interval=0.0, timeout=60.0, max_retry_wait=2.0, max_attempts=3,
                  backoff_first=0.2)  # fmt: skip


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabelStudioServer]:
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
    with LabelStudioClient(label_studio.url, label_studio.api_key, FAST) as client:
        yield client


@pytest.fixture
def project_title(request: pytest.FixtureRequest) -> str:
    """A project of its own for every test (Label Studio titles are at most 50 characters)."""
    import hashlib

    return f"triage {hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]}"


def ls_env(server: LabelStudioServer, home: Path, title: str) -> dict[str, str]:
    return {
        "LABEL_STUDIO_URL": server.url,
        "LABEL_STUDIO_API_KEY": server.api_key,
        "SCICURATE_LABEL_STUDIO_PROJECT": title,
        "SCICURATE_HOME": str(home),
    }
