"""The numbers of the feedback loop: queue depth, annotations by error type, agreement, routing.

The same figures feed ``scicurate annotate stats``, the flows' artifacts and ``scicurate
status``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from annotation.agreement import fleiss_kappa, primary
from warehouse.builders import ROUTED_DATASETS
from warehouse.db import Warehouse


@dataclass
class LoopStats:
    feedback_by_state: dict[str, int] = field(default_factory=dict)
    queue_depth: int = 0  # negatives not yet in Label Studio
    in_label_studio: int = 0  # pushed, no consensus yet
    annotations_by_error_type: dict[str, int] = field(default_factory=dict)
    annotations_by_annotator: dict[str, int] = field(default_factory=dict)
    consensus_by_status: dict[str, int] = field(default_factory=dict)
    fleiss_kappa: float | None = None
    mean_agreement: float | None = None
    multi_annotated_tasks: int = 0
    rows_routed: dict[str, int] = field(default_factory=dict)
    rejects: int = 0
    no_consent: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def collect_stats(wh: Warehouse) -> LoopStats:
    s = LoopStats()
    with wh.read() as con:
        s.feedback_by_state = dict(
            con.execute("SELECT state, count(*) FROM feedback GROUP BY 1 ORDER BY 1").fetchall()
        )
        s.queue_depth = s.feedback_by_state.get("queued", 0)
        s.in_label_studio = s.feedback_by_state.get("pushed", 0)
        s.annotations_by_error_type = dict(
            con.execute(
                "SELECT t, count(*) FROM (SELECT unnest(error_types) AS t FROM annotations "
                "WHERE is_current AND NOT is_deleted AND NOT was_cancelled) GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
        s.annotations_by_annotator = dict(
            con.execute(
                "SELECT coalesce(annotator, '?'), count(*) FROM annotations WHERE is_current "
                "AND NOT is_deleted GROUP BY 1 ORDER BY 2 DESC, 1"
            ).fetchall()
        )
        s.consensus_by_status = dict(
            con.execute(
                "SELECT status, count(*) FROM task_consensus GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
        votes = con.execute(
            "SELECT task_id, list(error_types) FROM annotations WHERE is_current "
            "AND NOT is_deleted AND NOT was_cancelled GROUP BY task_id HAVING count(*) >= 2"
        ).fetchall()
        mean = con.execute(
            "SELECT avg(agreement) FROM task_consensus WHERE annotators >= 2"
        ).fetchone()
        for name in ROUTED_DATASETS:
            row = con.execute(
                'SELECT rows FROM dataset_versions WHERE name = ? ORDER BY "version" DESC LIMIT 1',
                [name],
            ).fetchone()
            s.rows_routed[name] = int(row[0]) if row else 0
        rejects = con.execute("SELECT count(*) FROM feedback_rejects").fetchone()
        consent = con.execute(
            "SELECT coalesce(sum(no_consent), 0) FROM feedback_ingests"
        ).fetchone()
    s.multi_annotated_tasks = len(votes)
    s.fleiss_kappa = fleiss_kappa([[primary(v) for v in task_votes] for _, task_votes in votes])
    s.mean_agreement = float(mean[0]) if mean and mean[0] is not None else None
    s.rejects = int(rejects[0]) if rejects else 0
    s.no_consent = int(consent[0]) if consent else 0
    return s
