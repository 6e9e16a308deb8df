"""Reading back what a flow run published, through the real Prefect API."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from typing import Any
from uuid import UUID


def artifact_markdown(key: str, flow_run_id: UUID | None) -> str:
    """The text of the Markdown artifact ``key`` published by the flow run ``flow_run_id``."""
    artifact = _one_artifact(key, flow_run_id)
    assert artifact.type == "markdown"
    return str(artifact.data)


def artifact_rows(key: str, flow_run_id: UUID | None) -> list[dict[str, Any]]:
    """The rows of the table artifact ``key`` published by the flow run ``flow_run_id``."""
    artifact = _one_artifact(key, flow_run_id)
    assert artifact.type == "table"
    data = artifact.data
    return list(data if isinstance(data, list) else json.loads(data))


def _one_artifact(key: str, flow_run_id: UUID | None) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )

    assert flow_run_id is not None

    async def read() -> list[Any]:
        async with get_client() as client:
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    key=ArtifactFilterKey(any_=[key]),
                    flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]),
                )
            )

    artifacts = asyncio.run(read())
    assert len(artifacts) == 1, f"expected one {key!r} artifact for the run, got {len(artifacts)}"
    return artifacts[0]


def stop_process_group(proc: subprocess.Popen[bytes], grace_s: float = 30.0) -> int | None:
    """SIGTERM a child's whole process group, wait up to ``grace_s``, then SIGKILL the group.

    A Prefect worker or server on a loaded machine can take longer than its grace to exit
    after its runs are done; a test's teardown must still end, and leave nothing behind.
    Returns the exit code (None only if even SIGKILL did not reap it within 10 s).
    """
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break  # the group is gone already
        try:
            return proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            continue
    return proc.poll()
