"""The pipeline's backlog, stage by stage, read from the catalog."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.records import RunRecord
from warehouse.db import Warehouse, fetch_int
from warehouse.runs import last_runs


@dataclass(frozen=True)
class StageCount:
    pipeline: str  # "literature" or "feedback"
    stage: str
    count: int


@dataclass(frozen=True)
class Problem:
    where: str  # table the problem is recorded in
    reason: str
    count: int


@dataclass(frozen=True)
class Coverage:
    source: str  # arxiv-src | arxiv-html | nougat | pymupdf
    papers: int  # papers with a usable document from this source
    best: int  # papers whose best document comes from it


@dataclass(frozen=True)
class StatusReport:
    stages: list[StageCount]
    runs: list[RunRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)

    def count(self, stage: str) -> int:
        return next(s.count for s in self.stages if s.stage == stage)


_STAGES: list[tuple[str, str, str]] = [
    ("literature", "papers", "SELECT count(*) FROM papers"),
    ("literature", "pdfs ok", "SELECT count(*) FROM pdfs WHERE status = 'ok'"),
    ("literature", "pdfs quarantined", "SELECT count(*) FROM pdfs WHERE status = 'quarantined'"),
    (
        "literature",
        "pdfs awaiting parse",
        "SELECT count(*) FROM pdfs p WHERE status = 'ok' AND NOT EXISTS "
        "(SELECT 1 FROM documents d WHERE d.pdf_sha256 = p.sha256)",
    ),
    (
        "literature",
        "html pages",
        "SELECT count(*) FROM fulltext_files WHERE kind = 'html' AND status = 'ok'",
    ),
    (
        "literature",
        "no html on arXiv",
        "SELECT count(*) FROM fulltext_files WHERE kind = 'html' AND status = 'absent'",
    ),
    (
        "literature",
        "e-prints",
        "SELECT count(*) FROM fulltext_files WHERE kind = 'src' AND status = 'ok'",
    ),
    ("literature", "documents ok", "SELECT count(*) FROM documents WHERE status = 'ok'"),
    (
        "literature",
        "documents not ok",
        "SELECT count(*) FROM documents WHERE status <> 'ok'",
    ),
    ("literature", "reviews", "SELECT count(*) FROM reviews"),
    ("literature", "rejected records", "SELECT count(*) FROM rejects"),
    ("feedback", "feedback", "SELECT count(*) FROM feedback"),
    ("feedback", "feedback rejected", "SELECT count(*) FROM feedback_rejects"),
    ("feedback", "positives in pool", "SELECT count(*) FROM feedback WHERE state = 'pool'"),
    ("feedback", "negatives queued", "SELECT count(*) FROM feedback WHERE state = 'queued'"),
    ("feedback", "in Label Studio", "SELECT count(*) FROM annotation_tasks"),
    (
        "feedback",
        "annotated",
        "SELECT count(DISTINCT feedback_id) FROM annotations "
        "WHERE is_current AND NOT is_deleted AND NOT was_cancelled",
    ),
    ("feedback", "ties for review", "SELECT count(*) FROM feedback WHERE state = 'review'"),
    ("feedback", "routed", "SELECT count(*) FROM feedback WHERE state = 'routed'"),
    ("datasets", "datasets", "SELECT count(*) FROM datasets"),
    ("datasets", "dataset versions", "SELECT count(*) FROM dataset_versions"),
]

_PROBLEMS = """
SELECT 'pdfs', coalesce(reason, 'unknown'), count(*) FROM pdfs
  WHERE status = 'quarantined' GROUP BY ALL
UNION ALL
SELECT 'documents', coalesce(reason, status), count(*) FROM documents
  WHERE status <> 'ok' GROUP BY ALL
UNION ALL
SELECT 'fulltext_files', kind || ': ' || coalesce(reason, status), count(*) FROM fulltext_files
  WHERE status IN ('quarantined', 'rejected') GROUP BY ALL
UNION ALL
SELECT 'rejects', source || ': ' || reason, count(*) FROM rejects GROUP BY ALL
UNION ALL
SELECT 'feedback_rejects', reason, count(*) FROM feedback_rejects GROUP BY ALL
ORDER BY 3 DESC, 1, 2
LIMIT 20
"""


def collect_status(wh: Warehouse) -> StatusReport:
    """Counts per stage, the last run of each flow, and the commonest failure reasons."""
    with wh.read() as con:
        stages = [StageCount(p, s, fetch_int(con, sql)) for p, s, sql in _STAGES]
        problems = [Problem(w, r, int(n)) for w, r, n in con.execute(_PROBLEMS).fetchall()]
    from warehouse.best_source import coverage

    return StatusReport(
        stages=stages,
        runs=last_runs(wh),
        problems=problems,
        coverage=[Coverage(*row) for row in coverage(wh)],
    )
