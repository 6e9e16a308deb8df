"""``sft-corrections``: query -> the expert's corrected answer (domain-knowledge and
instruction-following errors), Alpaca format."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from warehouse.builders.base import (
    ALPACA_COLUMNS,
    ALPACA_FIELDS,
    BuildOutput,
    Mapper,
    NothingToBuildError,
    local_map,
)
from warehouse.builders.feedback_rows import contexts_text, routed
from warehouse.builders.splits import sample_id, split_tables
from warehouse.datasets.model import DatasetCard
from warehouse.db import Warehouse

SCHEMA = pa.schema(
    [*ALPACA_FIELDS, ("feedback_id", pa.string()), ("error_types", pa.list_(pa.string()))]
)
ROUTED_TYPES = ("domain_knowledge", "instruction_following")


class SftCorrectionsBuilder:
    name = "sft-corrections"
    version = "1"
    defaults: dict[str, Any] = {"with_contexts": True, "validation": 0.05, "test": 0.0}

    def build(
        self, wh: Warehouse, params: dict[str, Any], mapper: Mapper = local_map
    ) -> BuildOutput:
        items = [r for r in routed(wh, ROUTED_TYPES) if r.corrected_answer]
        if not items:
            raise NothingToBuildError("no corrected domain-knowledge or instruction errors yet")
        rows = (
            (
                r.feedback_id,
                {
                    "sample_id": sample_id(self.name, r.feedback_id),
                    "instruction": r.query,
                    "input": contexts_text(r.contexts) if params["with_contexts"] else "",
                    "output": r.corrected_answer,
                    "feedback_id": r.feedback_id,
                    "error_types": r.error_types,
                },
            )
            for r in items
        )
        splits = split_tables(rows, SCHEMA, params)
        stats = {"rows": {k: t.num_rows for k, t in splits.items()}, "feedback": len(items)}
        card = DatasetCard(
            description="Expert-corrected answers for domain-knowledge and instruction-following "
            "errors of the deployed model (Alpaca: query, contexts, corrected answer).",
            license_notes="Feedback given with the user's consent; e-mails and phone numbers "
            "scrubbed at ingest.",
            how_built="Label Studio consensus (majority of annotators; ties excluded) joined "
            "with the feedback record, split by a hash of the feedback id.",
            source_stats=stats,
            columns=ALPACA_COLUMNS,
        )
        return BuildOutput(splits=splits, card=card, params=params, stats=stats)
