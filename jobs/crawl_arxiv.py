"""Flow ``crawl-arxiv``: harvest arXiv metadata over OAI-PMH, then fetch PDFs.

The job is written as plain functions (used by the CLI directly) and wrapped as a Prefect flow
with tasks. Watermarks follow the data: a page's papers, its rejects and the resumption token
for the next page are committed in one transaction, and the date watermark moves only once the
whole list has been stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from core.http import PoliteClient, Politeness
from core.records import Paper
from jobs.lineage import recorded_run
from sources.arxiv_ids import parse_arxiv_id
from sources.arxiv_oai import OAIHarvester, OAIPage, guarded
from sources.errors import (
    BadResumptionTokenError,
    InvalidParameterError,
)
from sources.pdfs import PdfCounts, PdfTarget, due_targets, fetch_pdfs, only_due
from warehouse.db import HeldWriter, Warehouse
from warehouse.papers import store_papers
from warehouse.upsert import UpsertResult

log = logging.getLogger(__name__)

DEFAULT_CATEGORIES = ("cs.AI", "cs.CV", "cs.LG")
SOURCE = "arxiv-oai"
QUICK_PAGE_S = 0.5  # pages fetched faster than this are stored on one held connection
_GROUPS = {
    "cs", "math", "stat", "eess", "econ", "q-bio", "q-fin", "nlin",
}  # fmt: skip
_PHYSICS = {
    "astro-ph", "cond-mat", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph",
    "nucl-ex", "nucl-th", "physics", "quant-ph",
}  # fmt: skip

Echo = Callable[[str], object]


@dataclass
class HarvestScope:
    """One OAI set to harvest and the categories to keep from it (empty: keep all)."""

    set_spec: str
    keep: frozenset[str] = frozenset()

    @property
    def key(self) -> str:
        return f"{self.set_spec}|{','.join(sorted(self.keep))}"


def scopes_for(categories: Sequence[str]) -> list[HarvestScope]:
    """``cs`` -> the whole ``cs`` set; ``cs.AI`` -> the ``cs`` set, keeping cs.AI records;
    ``cs:cs:AI`` (the new OAI set form) is used as it is."""
    by_set: dict[str, set[str]] = {}
    whole: set[str] = set()
    for raw in categories:
        cat = raw.strip()
        if not cat:
            continue
        if ":" in cat:
            whole.add(cat)
            continue
        archive = cat.split(".", 1)[0]
        group = archive if archive in _GROUPS else "physics" if archive in _PHYSICS else None
        if group is None:
            raise InvalidParameterError(
                f"unknown arXiv category or archive: {cat!r} (e.g. cs, cs.AI, math.GT, hep-th)"
            )
        if cat == archive and archive in _GROUPS:
            whole.add(group)
        else:
            by_set.setdefault(group, set()).add(cat)
    scopes = [HarvestScope(s) for s in sorted(whole)]
    scopes += [
        HarvestScope(s, frozenset(keep)) for s, keep in sorted(by_set.items()) if s not in whole
    ]
    return scopes


@dataclass
class CrawlCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    skipped_other_categories: int = 0
    deleted: int = 0
    pages: int = 0
    pdfs_ok: int = 0
    pdfs_quarantined: int = 0
    pdfs_skipped: int = 0
    paper_ids: list[str] = field(default_factory=list)

    def add(self, result: UpsertResult) -> None:
        self.new += result.inserted
        self.updated += result.updated
        self.unchanged += result.unchanged

    def as_counts(self) -> dict[str, int]:
        data = asdict(self)
        data.pop("paper_ids")
        return data


def check_date(name: str, value: str | None) -> None:
    """OAI-PMH takes dates as YYYY-MM-DD; anything else is refused up front."""
    if value is None:
        return
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise InvalidParameterError(
            f"{name} must be a date like 2026-11-01, got {value!r}"
        ) from None


def _state(wh: Warehouse, scope: str) -> tuple[str | None, str | None]:
    with wh.read() as con:
        rows = con.execute(
            "SELECT watermark, cursor FROM crawl_state WHERE source = ? AND scope = ?",
            [SOURCE, scope],
        ).fetchall()
    return (rows[0][0], rows[0][1]) if rows else (None, None)


def _set_state(con: Any, scope: str, *, watermark: str | None, cursor: str | None) -> None:
    con.execute(
        "INSERT INTO crawl_state (source, scope, watermark, cursor, updated_at) "
        "VALUES (?, ?, ?, ?, now()) ON CONFLICT (source, scope) DO UPDATE SET "
        "watermark = excluded.watermark, cursor = excluded.cursor, updated_at = now()",
        [SOURCE, scope, watermark, cursor],
    ).fetchall()


def _store_page(
    writer: HeldWriter,
    page: OAIPage,
    scope: HarvestScope,
    *,
    watermark: str | None,
    next_cursor: str | None,
    input_name: str,
    limit: int | None,
    counts: CrawlCounts,
) -> bool:
    """Store one page and the cursor after it in one transaction. True when ``limit`` stops
    the list here (records left on this page, or more pages after a page that reached it)."""
    papers: list[Paper] = []
    hit_limit = False
    for record in page.records:
        if record.deleted or record.paper is None:
            counts.deleted += 1
            continue
        if scope.keep and not scope.keep.intersection(record.paper.categories):
            counts.skipped_other_categories += 1
            continue
        if limit is not None and len(counts.paper_ids) + len(papers) >= limit:
            hit_limit = True
            break
        papers.append(record.paper)
    with writer.transaction() as con:
        counts.add(store_papers(con, papers))
        for identifier, reason in page.rejected:
            con.execute(
                "INSERT INTO rejects (source, input, line_no, reason, raw) VALUES (?, ?, 0, ?, ?) "
                "ON CONFLICT (source, input, line_no) DO UPDATE SET reason = excluded.reason",
                [SOURCE, f"{input_name}#{identifier}", reason, identifier],
            ).fetchall()
        if not hit_limit:
            _set_state(con, scope.key, watermark=watermark, cursor=next_cursor)
    counts.rejected += len(page.rejected)
    counts.paper_ids.extend(p.paper_id for p in papers)
    counts.pages += 1
    reached = limit is not None and len(counts.paper_ids) >= limit
    return hit_limit or (reached and page.resumption_token is not None)


def harvest(
    wh: Warehouse,
    harvester: OAIHarvester,
    categories: Sequence[str],
    *,
    from_date: str | None = None,
    until: str | None = None,
    max_records: int | None = None,
    metadata_prefix: str = "arXivRaw",
    echo: Echo = log.info,
) -> CrawlCounts:
    """Harvest every scope incrementally. A run killed anywhere can simply be run again.

    Pages are stored on one held connection while they arrive quickly (a local mirror, a
    replay); once a page took ``QUICK_PAGE_S`` or more to fetch (a real server, with its
    politeness gaps), the connection is let go after each page, so the warehouse is never held
    while this harvest waits on the network.
    """
    counts = CrawlCounts()
    started = datetime.now(UTC).date().isoformat()
    with wh.writer() as writer:
        for scope in scopes_for(categories):
            if max_records is not None and len(counts.paper_ids) >= max_records:
                break
            watermark, cursor = _state(wh, scope.key)
            start_from = from_date or watermark
            if from_date:
                cursor = None  # an explicit window starts a fresh list
            echo(
                f"harvesting set {scope.set_spec}"
                + (f" (keeping {', '.join(sorted(scope.keep))})" if scope.keep else "")
                + (f" from {start_from}" if start_from else "")
                + (" (resuming a list)" if cursor else "")
            )
            fetch = partial(
                harvester.list_records,
                metadata_prefix=metadata_prefix,
                set_spec=scope.set_spec,
                from_date=start_from,
                until=until,
            )
            source = f"{harvester.base_url}?set={scope.set_spec}"
            if _harvest_list(
                writer, fetch, source, scope, cursor, watermark, max_records, counts, echo
            ):
                echo(f"stopped at --max {max_records}; the next run continues from here")
                break
            with writer.transaction() as con:  # the whole list is stored: move the watermark
                _set_state(con, scope.key, watermark=until or started, cursor=None)
    return counts


def _harvest_list(
    writer: HeldWriter,
    fetch: Callable[..., OAIPage],
    input_name: str,
    scope: HarvestScope,
    token: str | None,
    watermark: str | None,
    max_records: int | None,
    counts: CrawlCounts,
    echo: Echo,
) -> bool:
    """Store one ListRecords list page by page, from ``token`` on. True when ``--max`` is hit."""
    fetch = guarded(fetch, input_name)  # a list that does not advance raises HarvestLoopError
    while True:
        asked = time.monotonic()
        try:
            page = fetch(resumption_token=token)
        except BadResumptionTokenError:
            if token is None:
                raise
            echo("resumption token expired; harvesting again from the watermark")
            token = None
            continue
        fetch_s = time.monotonic() - asked
        limit_hit = _store_page(
            writer,
            page,
            scope,
            watermark=watermark,
            next_cursor=page.resumption_token,
            input_name=input_name,
            limit=max_records,
            counts=counts,
        )
        if fetch_s >= QUICK_PAGE_S:
            writer.release()
        echo(
            f"stored page {counts.pages}: {len(page.records)} records, "
            f"{counts.new} new, {counts.updated} updated, {counts.unchanged} unchanged"
        )
        if limit_hit or not page.resumption_token:
            return limit_hit
        token = page.resumption_token


def crawl_arxiv(
    wh: Warehouse,
    *,
    home: Path,
    oai_url: str,
    pdf_url: str,
    politeness: Politeness,
    categories: Sequence[str] = DEFAULT_CATEGORIES,
    from_date: str | None = None,
    until: str | None = None,
    max_records: int | None = None,
    pdfs: bool = False,
    echo: Echo = log.info,
) -> CrawlCounts:
    """The whole job, recorded in ``runs``: harvest, then PDFs for the harvested papers."""
    scopes_for(categories)  # unknown categories fail before anything is recorded
    for name, value in (("--from", from_date), ("--until", until)):
        check_date(name, value)
    params = {
        "categories": list(categories),
        "from": from_date,
        "until": until,
        "max": max_records,
        "pdfs": pdfs,
    }
    with recorded_run(wh, "crawl-arxiv", params) as run_counts, PoliteClient(politeness) as http:
        counts = harvest(
            wh,
            OAIHarvester(http, oai_url),
            categories,
            from_date=from_date,
            until=until,
            max_records=max_records,
            echo=echo,
        )
        run_counts.update(counts.as_counts())
        if pdfs:
            pdf_counts = download_pdfs(wh, http, home, pdf_url, counts.paper_ids, echo=echo)
            counts.pdfs_ok, counts.pdfs_quarantined = pdf_counts.ok, pdf_counts.quarantined
            counts.pdfs_skipped = pdf_counts.skipped
            run_counts.update(counts.as_counts())
    return counts


def download_pdfs(
    wh: Warehouse,
    http: PoliteClient,
    home: Path,
    pdf_url: str,
    paper_ids: Sequence[str] | None,
    *,
    echo: Echo = log.info,
) -> PdfCounts:
    """PDFs for ``paper_ids`` (or every paper) that are missing or due for a retry."""
    targets = due_targets(wh, paper_ids, arxiv_pdf_url=pdf_url)
    echo(f"fetching {len(targets)} PDF(s)")
    return fetch_pdfs(
        wh,
        http,
        home,
        targets,
        on_done=lambda t, status: _discard(echo(f"pdf {t.versioned_id}: {status}")),
    )


def _discard(_: object) -> None:
    """Adapts an ``echo`` that returns something to a callback that returns nothing."""


def crawl_arxiv_ids(
    wh: Warehouse,
    *,
    home: Path,
    api_url: str,
    pdf_url: str,
    politeness: Politeness,
    ids: Sequence[str] = (),
    query: str | None = None,
    max_records: int = 100,
    pdfs: bool = False,
    echo: Echo = log.info,
) -> CrawlCounts:
    """Ad-hoc: papers by id or by API query, through the arXiv API, recorded in ``runs``."""
    from sources.arxiv_api import ArxivAPI

    params = {"ids": list(ids), "query": query, "max": max_records, "pdfs": pdfs}
    counts = CrawlCounts()
    with recorded_run(wh, "crawl-arxiv", params) as run_counts, PoliteClient(politeness) as http:
        api = ArxivAPI(http, api_url, page_size=min(max(max_records, 1), 2000))
        papers = api.lookup(ids) if ids else []
        if query:
            papers += list(api.search(query, max_results=max_records))
        if ids:
            found = {p.paper_id for p in papers}
            missing = [i for i in ids if parse_arxiv_id(i).base not in found]
            for i in missing:
                echo(f"{i}: not found on arXiv")
        with wh.write() as con:
            counts.add(store_papers(con, papers))
        counts.paper_ids = [p.paper_id for p in papers]
        echo(f"stored {len(papers)} paper(s): {counts.new} new, {counts.updated} updated")
        if pdfs:
            # An id given with a version (2104.12255v1) asks for that version's PDF.
            requested = [parse_arxiv_id(i) for i in ids]
            base = pdf_url.rstrip("/") + "/"
            pinned = [
                PdfTarget(a.base, f"v{a.version}", f"{base}{a.versioned}")
                for a in requested
                if a.version
            ]
            pinned_ids = {t.paper_id for t in pinned}
            latest = [i for i in counts.paper_ids if i not in pinned_ids]
            targets = [*due_targets(wh, latest, arxiv_pdf_url=pdf_url), *only_due(wh, pinned)]
            pdf_counts = fetch_pdfs(
                wh, http, home, targets,
                on_done=lambda t, status: _discard(echo(f"pdf {t.versioned_id}: {status}")),
            )  # fmt: skip
            counts.pdfs_ok, counts.pdfs_quarantined = pdf_counts.ok, pdf_counts.quarantined
            counts.pdfs_skipped = pdf_counts.skipped
        run_counts.update(counts.as_counts())
    return counts
