"""Reading back what a flow run published, through the real Prefect API."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID


def artifact_rows(key: str, flow_run_id: UUID | None) -> list[dict[str, Any]]:
    """The rows of the table artifact ``key`` published by the flow run ``flow_run_id``."""
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
    [artifact] = artifacts
    assert artifact.type == "table"
    data = artifact.data
    return list(data if isinstance(data, list) else json.loads(data))
