"""``rag-retrieval``: queries whose retrieved contexts were wrong, with those contexts as hard
negatives and the expert's corrected answer."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from warehouse.builders.base import BuildOutput, Mapper, NothingToBuildError, local_map
from warehouse.builders.feedback_rows import routed
from warehouse.builders.splits import sample_id, split_tables
from warehouse.datasets.model import DatasetCard
from warehouse.db import Warehouse

SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("query", pa.string()),
        ("hard_negatives", pa.list_(pa.string())),
        ("hard_negative_papers", pa.list_(pa.string())),
        ("answer", pa.string()),
        ("feedback_id", pa.string()),
    ]
)


class RagRetrievalBuilder:
    name = "rag-retrieval"
    version = "1"
    defaults: dict[str, Any] = {"validation": 0.05, "test": 0.0}

    def build(
        self, wh: Warehouse, params: dict[str, Any], mapper: Mapper = local_map
    ) -> BuildOutput:
        items = [r for r in routed(wh, ("retrieval",)) if r.corrected_answer]
        if not items:
            raise NothingToBuildError("no corrected retrieval errors yet")
        rows = (
            (
                r.feedback_id,
                {
                    "sample_id": sample_id(self.name, r.feedback_id),
                    "query": r.query,
                    "hard_negatives": [str(c.get("text", "")) for c in r.contexts],
                    "hard_negative_papers": [str(c.get("paper_id", "")) for c in r.contexts],
                    "answer": r.corrected_answer,
                    "feedback_id": r.feedback_id,
                },
            )
            for r in items
        )
        splits = split_tables(rows, SCHEMA, params)
        stats = {"rows": {k: t.num_rows for k, t in splits.items()}}
        card = DatasetCard(
            description="Retrieval training data: queries where the retrieved contexts were "
            "wrong (kept as hard negatives) with the expert's corrected answer.",
            license_notes="Feedback given with the user's consent; PII scrubbed at ingest.",
            how_built="Label Studio consensus on retrieval errors.",
            source_stats=stats,
            columns={"prompt": "query", "response": "answer"},
        )
        return BuildOutput(splits=splits, card=card, params=params, stats=stats)
