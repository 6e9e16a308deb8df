"""Job ``import-arxiv-bulk``: PDFs or LaTeX sources from arXiv's requester-pays S3 tars.

The manifest says which tars hold the papers the catalog wants (by categories, ids and
dates; only papers with no stored file of that kind). Each chosen tar is streamed once, its
md5 checked against the manifest, and only the wanted members are kept; they are stored
exactly like downloaded files (PDFs validated in an isolated process, then ``pdfs``; sources
in ``fulltext_files``). A tar's completion record (``bulk_tars``) is written after its
members: a rerun skips completed tars, and a run killed mid-tar streams that tar again and
stores only what is still missing, so nothing is lost and nothing doubles.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from jobs.lineage import recorded_run
from jobs.steps import InlineSteps, Steps
from parsers.isolate import IsolatedWorker
from sources.arxiv_bulk import (
    DEFAULT_BLOCK_BYTES,
    KINDS,
    MANIFESTS,
    BulkError,
    BulkMember,
    Kind,
    ManifestEntry,
    Md5MismatchError,
    PlanLine,
    bulk_key,
    plan_line,
    read_manifest,
    select_tars,
    stream_tar,
)
from sources.errors import InvalidParameterError
from sources.fulltext import FulltextTarget, body_problem
from sources.pdfs import (
    VALIDATION_LIMITS,
    InvalidPdfError,
    PdfTarget,
    quarantine_path,
    validate_pdf,
    write_atomic,
)
from warehouse.db import Warehouse
from warehouse.fulltext import FulltextLedger, completed_tars, record_tar, wanted_for_bulk
from warehouse.pdfs import PdfLedger

Progress = Callable[[str, int], None]  # (tar filename, bytes just read)


@dataclass(frozen=True)
class BulkConfig:
    """Where the bulk archive is and how to read it (from settings)."""

    bucket: str = "arxiv"
    storage_options: dict[str, Any] = field(default_factory=dict)
    block_bytes: int = DEFAULT_BLOCK_BYTES

    def filesystem(self) -> Any:
        import s3fs

        options = {"requester_pays": True, **self.storage_options}
        return s3fs.S3FileSystem(**options)


@dataclass
class BulkCounts:
    wanted: int = 0
    tars_selected: int = 0
    tars_skipped: int = 0
    tars_done: int = 0
    tars_failed: int = 0
    stored: int = 0
    quarantined: int = 0
    refused: int = 0
    bytes_read: int = 0
    plan: list[PlanLine] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def as_counts(self) -> dict[str, int]:
        data = asdict(self)
        data.pop("plan")
        data.pop("failures")
        return data


def plan_bulk(
    wh: Warehouse,
    config: BulkConfig,
    kind: Kind,
    *,
    categories: Sequence[str] = (),
    ids: Sequence[str] = (),
    from_date: str | None = None,
    until: str | None = None,
    fs: Any = None,
) -> tuple[list[ManifestEntry], dict[str, list[str]], BulkCounts]:
    """The manifest's tars still to import, each with the wanted keys it holds."""
    if kind not in KINDS:
        raise InvalidParameterError(f"--kind must be pdf or src, got {kind!r}")
    fs = fs or config.filesystem()
    manifest = f"{config.bucket}/{MANIFESTS[kind]}"
    try:
        data = fs.cat_file(manifest)
    except (OSError, ValueError) as exc:
        raise BulkError(f"cannot read s3://{manifest}: {exc}") from None
    entries = read_manifest(data, kind)
    wanted = wanted_for_bulk(
        wh, kind, categories=categories, ids=ids, from_date=from_date, until=until
    )
    counts = BulkCounts(wanted=len(wanted))
    first_seen = {bulk_key(pid): seen for pid, seen in wanted}
    chosen = select_tars(entries, first_seen)
    done = completed_tars(wh, kind)
    todo: dict[str, list[str]] = {}
    by_name = {e.filename: e for e in entries}
    for name, keys in chosen.items():
        record = done.get(name)
        # A completed tar is read again only for papers the catalog learnt of since.
        if record and record[0] == by_name[name].md5:
            keys = [k for k in keys if first_seen[k] > record[1]]
            if not keys:
                counts.tars_skipped += 1
                continue
        todo[name] = keys
    counts.tars_selected = len(todo)
    counts.plan = [plan_line(by_name[n], len(k), config.block_bytes) for n, k in todo.items()]
    return entries, todo, counts


def import_arxiv_bulk(
    wh: Warehouse,
    config: BulkConfig,
    *,
    home: Path,
    kind: Kind,
    categories: Sequence[str] = (),
    ids: Sequence[str] = (),
    from_date: str | None = None,
    until: str | None = None,
    plan_only: bool = False,
    progress: Progress | None = None,
    steps: Steps | None = None,
) -> BulkCounts:
    """Plan, then (unless ``plan_only``) import every chosen tar; recorded in ``runs``."""
    steps = steps or InlineSteps()
    fs = config.filesystem()
    entries, todo, counts = plan_bulk(
        wh, config, kind, categories=categories, ids=ids, from_date=from_date, until=until,
        fs=fs,
    )  # fmt: skip
    if plan_only:
        return counts
    params = {"kind": kind, "categories": list(categories), "ids": list(ids),
              "from": from_date, "until": until}  # fmt: skip
    by_name = {e.filename: e for e in entries}
    with recorded_run(wh, "import-arxiv-bulk", params) as run_counts:
        with IsolatedWorker(VALIDATION_LIMITS) as worker:
            for name, keys in todo.items():
                steps.log(f"{name}: {len(keys)} wanted paper(s), {by_name[name].size:,} bytes")
                try:
                    _import_tar(
                        wh, config, fs, home, kind, by_name[name], set(keys), worker,
                        counts, progress,
                    )  # fmt: skip
                except (Md5MismatchError, BulkError, OSError) as exc:
                    counts.tars_failed += 1
                    counts.failures.append(str(exc))
                    steps.log(f"{name}: failed: {exc}")
                run_counts.update(counts.as_counts())
        run_counts.update(counts.as_counts())
    return counts


def _import_tar(
    wh: Warehouse,
    config: BulkConfig,
    fs: Any,
    home: Path,
    kind: Kind,
    entry: ManifestEntry,
    keys: set[str],
    worker: IsolatedWorker,
    counts: BulkCounts,
    progress: Progress | None,
) -> None:
    staging = home / "tmp" / "bulk" / PurePosixPath(entry.filename).stem
    url = f"s3://{config.bucket}/{entry.filename}"

    def on_bytes(n: int) -> None:
        counts.bytes_read += n
        if progress:
            progress(entry.filename, n)

    with fs.open(f"{config.bucket}/{entry.filename}", "rb", block_size=config.block_bytes) as raw:
        staged, refused = stream_tar(
            raw, entry, lambda aid, ext: aid.base.replace("/", "") in keys, staging,
            block_bytes=config.block_bytes, on_bytes=on_bytes,
        )  # fmt: skip
    counts.refused += len(refused)
    pdf_ledger = PdfLedger(wh)
    source_ledger = FulltextLedger(wh, pdf_ledger)
    stored = 0
    try:
        for member in staged:
            if _store_member(home, kind, member, f"{url}#{member.name}", worker,
                             pdf_ledger, source_ledger):  # fmt: skip
                stored += 1
            else:
                counts.quarantined += 1
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    counts.stored += stored
    record_tar(wh, kind, entry.filename, entry.md5, entry.size, len(keys), stored)
    counts.tars_done += 1


def _store_member(
    home: Path,
    kind: Kind,
    member: BulkMember,
    url: str,
    worker: IsolatedWorker,
    pdfs: PdfLedger,
    sources: FulltextLedger,
) -> bool:
    """Store one staged member exactly as a download would be; False when it was bad."""
    data = member.staged.read_bytes()
    if member.ext == "pdf":  # a PDF tar's member, or a PDF-only submission in a source tar
        target = PdfTarget(member.paper_id, member.version, url)
        scratch = home / "tmp" / f"validate-bulk-{os.getpid()}.pdf"
        try:
            pages = validate_pdf(data, scratch, worker=worker)
        except InvalidPdfError as exc:
            write_atomic(home / quarantine_path(target), data)
            pdfs.quarantined(target, url, str(exc), data)
            return False
        write_atomic(home / target.relative_path(), data)
        pdfs.ok(target, url, target.relative_path(), data, pages)
        if kind == "src":
            src = FulltextTarget(member.paper_id, member.version, "src", url)
            sources.eprint_pdf(src, url, data)
            sources.pdf_bodies.clear()  # already stored above
        return True
    src = FulltextTarget(member.paper_id, member.version, "src", url)
    problem = body_problem("src", data)
    if problem is not None:
        write_atomic(home / src.quarantine_path(), data)
        sources.quarantined(src, url, problem, data)
        return False
    write_atomic(home / src.relative_path(), data)
    sources.ok(src, url, src.relative_path(), data)
    return True
