"""``sft-feedback``: the enhancement pool -- answers users rated up -- filtered and deduped."""

from __future__ import annotations

import json
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
from warehouse.builders.feedback_rows import contexts_text
from warehouse.builders.splits import sample_id, split_tables
from warehouse.datasets.model import DatasetCard
from warehouse.db import Warehouse

SCHEMA = pa.schema(
    [*ALPACA_FIELDS, ("feedback_id", pa.string()), ("task", pa.string()),
     ("model_version", pa.string())]
)  # fmt: skip


class SftFeedbackBuilder:
    name = "sft-feedback"
    version = "1"
    defaults: dict[str, Any] = {
        "min_answer_chars": 20,
        "max_answer_chars": 20000,
        "with_contexts": True,
        "validation": 0.02,
        "test": 0.0,
    }

    def build(
        self, wh: Warehouse, params: dict[str, Any], mapper: Mapper = local_map
    ) -> BuildOutput:
        with wh.read() as con:
            rows = con.execute(
                "SELECT feedback_id, query, contexts, answer, task, model_version FROM feedback "
                "WHERE rating = 'up' QUALIFY row_number() OVER "
                "(PARTITION BY dedup_key ORDER BY created_at, feedback_id) = 1 "
                "ORDER BY feedback_id"
            ).fetchall()
            total = con.execute("SELECT count(*) FROM feedback WHERE rating = 'up'").fetchone()
        if not rows:
            raise NothingToBuildError("no positive feedback in the pool yet")
        dropped = {"duplicate": int(total[0] if total else 0) - len(rows), "answer length": 0}
        kept: list[tuple[str, dict[str, Any]]] = []
        for fid, query, contexts, answer, task, model_version in rows:
            if not params["min_answer_chars"] <= len(answer.strip()) <= params["max_answer_chars"]:
                dropped["answer length"] += 1
                continue
            ctx = contexts_text(json.loads(contexts or "[]")) if params["with_contexts"] else ""
            kept.append(
                (
                    fid,
                    {
                        "sample_id": sample_id(self.name, fid),
                        "instruction": query,
                        "input": ctx,
                        "output": answer,
                        "feedback_id": fid,
                        "task": task,
                        "model_version": model_version,
                    },
                )
            )
        if not kept:
            raise NothingToBuildError("every positive answer was filtered out")
        splits = split_tables(kept, SCHEMA, params)
        stats = {"rows": {k: t.num_rows for k, t in splits.items()}, "dropped": dropped}
        card = DatasetCard(
            description="Answers the deployed model's users rated up (the enhancement pool), "
            "deduplicated on normalised query + answer, Alpaca format.",
            license_notes="Feedback given with the user's consent; PII scrubbed at ingest.",
            how_built="Positive feedback, one row per distinct query/answer, answers between "
            f"{params['min_answer_chars']} and {params['max_answer_chars']} characters.",
            source_stats=stats,
            columns=ALPACA_COLUMNS,
        )
        return BuildOutput(splits=splits, card=card, params=params, stats=stats)
