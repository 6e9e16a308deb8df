"""What the feedback builders read: routed expert consensus joined with its feedback."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from warehouse.db import Warehouse


@dataclass(frozen=True)
class Routed:
    feedback_id: str
    query: str
    answer: str
    contexts: list[dict[str, Any]]
    corrected_answer: str | None
    error_types: list[str]
    regions: list[dict[str, Any]]
    paper_id: str | None
    page_image: str | None
    agreement: float | None
    annotators: int


def routed(wh: Warehouse, error_types: tuple[str, ...]) -> list[Routed]:
    """Feedback whose consensus includes any of ``error_types`` (ties never get here)."""
    with wh.read() as con:
        rows = con.execute(
            """
            SELECT f.feedback_id, f.query, f.answer, f.contexts, c.corrected_answer,
                   c.error_types, c.regions, f.paper_id, f.page_image, c.agreement, c.annotators
            FROM task_consensus c JOIN feedback f USING (feedback_id)
            WHERE c.status = 'consensus' AND len(list_intersect(c.error_types, ?)) > 0
            ORDER BY f.feedback_id
            """,
            [list(error_types)],
        ).fetchall()
    return [
        Routed(
            r[0],
            r[1],
            r[2],
            json.loads(r[3] or "[]"),
            r[4],
            list(r[5] or []),
            json.loads(r[6] or "[]"),
            r[7],
            r[8],
            r[9],
            int(r[10]),
        )
        for r in rows
    ]


def contexts_text(contexts: list[dict[str, Any]]) -> str:
    return "\n\n".join(
        f"[{i}] ({c.get('paper_id', '?')}) {c.get('text', '')}" for i, c in enumerate(contexts, 1)
    )


def mark_routed(wh: Warehouse) -> None:
    """Feedback whose consensus has been routed into the datasets."""
    with wh.write() as con:
        con.execute(
            "UPDATE feedback SET state = 'routed' WHERE state = 'annotated' AND feedback_id IN "
            "(SELECT feedback_id FROM task_consensus WHERE status = 'consensus')"
        )
