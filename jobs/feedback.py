"""The feedback loop's jobs: ingest the inbox, push to Label Studio, sync, route and publish.

The Prefect flows ``route-feedback`` and ``sync-annotations`` (``flows.feedback``) and
the ``scicurate feedback`` / ``scicurate annotate`` commands are thin wrappers over these.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from annotation.errors import FeedbackFileError
from annotation.ingest import IngestResult, ingest_file
from jobs.export_datasets import Exported, export_datasets
from warehouse.builders import ROUTED_DATASETS
from warehouse.builders.feedback_rows import mark_routed
from warehouse.db import Warehouse

log = logging.getLogger(__name__)
Echo = Callable[[str], object]
FEEDBACK_DATASETS = ("sft-feedback", *ROUTED_DATASETS)
_SUFFIXES = {".jsonl", ".ndjson", ".json", ".parquet"}


@dataclass
class InboxResult:
    files: list[IngestResult] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # file name -> why

    def total(self, key: str) -> int:
        return sum(getattr(f, key) for f in self.files)


def ingest_inbox(wh: Warehouse, inbox: Path, *, echo: Echo = log.info) -> InboxResult:
    """Ingest every feedback file in ``inbox``; each is moved to ``done/`` (or ``refused/``
    with its reason) afterwards, so a rerun never reads a file twice."""
    result = InboxResult()
    if not inbox.is_dir():
        return result
    done, refused = inbox.parent / "done", inbox.parent / "refused"
    for path in sorted(p for p in inbox.iterdir() if p.is_file()):
        if path.suffix.lower() not in _SUFFIXES:
            continue
        try:
            ingested = ingest_file(wh, path)
        except FeedbackFileError as exc:
            result.refused[path.name] = str(exc)
            refused.mkdir(parents=True, exist_ok=True)
            shutil.move(path, refused / path.name)
            (refused / f"{path.name}.reason.txt").write_text(str(exc) + "\n")
            echo(f"{path.name}: refused: {exc}")
            continue
        result.files.append(ingested)
        done.mkdir(parents=True, exist_ok=True)
        shutil.move(path, done / path.name)
        echo(
            f"{path.name}: {ingested.stored} stored, {ingested.duplicates} duplicates, "
            f"{ingested.rejected} rejected, {ingested.no_consent} without consent"
        )
    return result


def route_feedback(wh: Warehouse, datasets_dir: Path, *, echo: Echo = log.info) -> list[Exported]:
    """Rebuild and publish every feedback-fed dataset (a new version only where rows changed),
    then mark the routed feedback."""
    exported = export_datasets(wh, datasets_dir, FEEDBACK_DATASETS, echo=echo)
    mark_routed(wh)
    return exported
