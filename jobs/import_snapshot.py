"""Job ``import-arxiv-snapshot``: the Kaggle arXiv metadata snapshot into the catalog."""

from __future__ import annotations

import contextlib
from pathlib import Path

from jobs.lineage import recorded_run
from sources.arxiv_snapshot import DEFAULT_BATCH_BYTES, line_batches
from warehouse.db import Warehouse
from warehouse.snapshot import DEFAULT_COMMIT_ROWS, ImportResult, Progress, load_snapshot


def import_snapshot(
    wh: Warehouse,
    path: Path,
    *,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    commit_rows: int = DEFAULT_COMMIT_ROWS,
    hold_s: float = 10.0,
    progress: Progress | None = None,
) -> ImportResult:
    """Stream ``path`` into ``papers`` (rerunnable: unchanged lines change nothing), recorded
    as a run. Bad lines land in ``rejects`` with their number and reason."""
    with recorded_run(wh, "import-arxiv-snapshot", {"path": path.name}) as run:
        with contextlib.closing(line_batches(path, batch_bytes)) as batches:
            result = load_snapshot(
                wh,
                batches,
                str(path.resolve()),
                commit_rows=commit_rows,
                hold_s=hold_s,
                progress=progress,
            )
        run.update(
            {
                "lines": result.lines,
                "new": result.papers.inserted,
                "updated": result.papers.updated,
                "unchanged": result.papers.unchanged,
                "rejected": result.rejected,
            }
        )
    return result
