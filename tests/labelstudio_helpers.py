"""Label Studio helpers for the tests: a quick-failing client retry policy, env for a home."""

from __future__ import annotations

from pathlib import Path

from annotation.client import RetryPolicy
from annotation.server import LabelStudioServer

FAST = RetryPolicy(timeout=60.0, max_retry_wait=2.0, max_attempts=3, backoff_first=0.2)


def ls_env(server: LabelStudioServer, home: Path, title: str) -> dict[str, str]:
    return {
        "LABEL_STUDIO_URL": server.url,
        "LABEL_STUDIO_API_KEY": server.api_key,
        "SCICURATE_LABEL_STUDIO_PROJECT": title,
        "SCICURATE_HOME": str(home),
    }
