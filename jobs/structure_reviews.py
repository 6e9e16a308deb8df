"""``scicurate reviews structure``: fill the four aspects of every official review."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from jobs.lineage import recorded_run
from reviews.base import StructureError, Structurer
from warehouse.db import Warehouse
from warehouse.reviews import reviews_to_structure, save_structure

log = logging.getLogger(__name__)


@dataclass
class StructureCounts:
    structured: int = 0
    empty: int = 0
    failed: int = 0


def structure_reviews(
    wh: Warehouse,
    structurer: Structurer,
    *,
    limit: int | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> StructureCounts:
    """Structure the reviews this method (and prompt version) has not done yet.

    A review that fails keeps its reason in ``structure_error`` and is tried again next time.
    """
    counts = StructureCounts()
    params = {"method": structurer.method, "prompt_version": structurer.prompt_version}
    with recorded_run(wh, "structure-reviews", {**params, "limit": limit}) as run:
        todo = reviews_to_structure(
            wh, method=structurer.method, prompt_version=structurer.prompt_version, limit=limit
        )
        for done, review in enumerate(todo, start=1):
            try:
                aspects = structurer.structure(review.content)
            except StructureError as exc:
                counts.failed += 1
                save_structure(
                    wh, review.review_id, None, method=structurer.method,
                    prompt_version=structurer.prompt_version, error=str(exc),
                )  # fmt: skip
            else:
                counts.structured += 1
                counts.empty += aspects.is_empty()
                save_structure(
                    wh, review.review_id, aspects.as_dict(), method=structurer.method,
                    prompt_version=structurer.prompt_version,
                )  # fmt: skip
            if progress:
                progress(done, len(todo))
        run.update(counts.__dict__)
    return counts
