"""``preference-pairs``: chosen = the expert's correction, rejected = the model's answer
(instruction-following errors), as a LLaMA-Factory ranking dataset."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from warehouse.builders.base import BuildOutput, Mapper, NothingToBuildError, local_map
from warehouse.builders.feedback_rows import contexts_text, routed
from warehouse.builders.splits import sample_id, split_tables
from warehouse.datasets.model import DatasetCard
from warehouse.db import Warehouse

SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("instruction", pa.string()),
        ("input", pa.string()),
        ("chosen", pa.string()),
        ("rejected", pa.string()),
        ("feedback_id", pa.string()),
    ]
)


class PreferencePairsBuilder:
    name = "preference-pairs"
    version = "1"
    defaults: dict[str, Any] = {"validation": 0.05, "test": 0.0}

    def build(
        self, wh: Warehouse, params: dict[str, Any], mapper: Mapper = local_map
    ) -> BuildOutput:
        items = [
            r
            for r in routed(wh, ("instruction_following",))
            if r.corrected_answer and r.corrected_answer.strip() != r.answer.strip()
        ]
        if not items:
            raise NothingToBuildError("no corrected instruction-following errors yet")
        rows = (
            (
                r.feedback_id,
                {
                    "sample_id": sample_id(self.name, r.feedback_id),
                    "instruction": r.query,
                    "input": contexts_text(r.contexts),
                    "chosen": r.corrected_answer,
                    "rejected": r.answer,
                    "feedback_id": r.feedback_id,
                },
            )
            for r in items
        )
        splits = split_tables(rows, SCHEMA, params)
        stats = {"rows": {k: t.num_rows for k, t in splits.items()}}
        card = DatasetCard(
            description="Preference pairs from instruction-following errors: chosen is the "
            "expert's corrected answer, rejected is the deployed model's answer (DPO/ORPO).",
            license_notes="Feedback given with the user's consent; PII scrubbed at ingest.",
            how_built="Label Studio consensus on instruction following with a corrected answer "
            "that differs from the model's.",
            source_stats=stats,
            columns={
                "prompt": "instruction",
                "query": "input",
                "chosen": "chosen",
                "rejected": "rejected",
            },
            ranking=True,
        )
        return BuildOutput(splits=splits, card=card, params=params, stats=stats)
