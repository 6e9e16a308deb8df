"""Job ``crawl-arxiv``: harvest arXiv metadata over OAI-PMH (or the API), then fetch PDFs.

``crawl_arxiv`` (and ``crawl_arxiv_ids`` for ids and queries) is the job, composed once: the
CLI calls it with inline steps, the Prefect flow with steps that are tasks. Watermarks follow
the data: a page's papers, its rejects and the resumption token for the next page are
committed in one transaction, and the date watermark moves only once the whole list has been
stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from core.http import PoliteClient, Politeness
from core.records import Paper
from jobs.arxiv_fulltext import FulltextStepCounts, fulltext_step, parse_fulltext_option
from jobs.lineage import recorded_run
from jobs.steps import InlineSteps, Steps, counts_markdown, counts_table
from sources.arxiv_ids import parse_arxiv_id
from sources.arxiv_oai import OAIHarvester, OAIPage, guarded
from sources.errors import (
    BadResumptionTokenError,
    InvalidParameterError,
)
from sources.pdfs import PdfCounts, PdfTarget, fetch_pdfs
from warehouse.best_source import DEFAULT_ORDER
from warehouse.crawl_state import get_state, set_state, store_harvested
from warehouse.db import HeldWriter, Warehouse
from warehouse.papers import store_papers
from warehouse.pdf_store import PdfStore
from warehouse.pdfs import PdfLedger, due_targets, only_due
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
    pdfs_mirrored: int = 0
    html_ok: int = 0
    html_absent: int = 0
    src_ok: int = 0
    fulltext_documents: int = 0
    fulltext_quarantined: int = 0
    fulltext_rejected: int = 0
    eprint_pdfs: int = 0
    paper_ids: list[str] = field(default_factory=list)

    def add_fulltext(self, ft: FulltextStepCounts) -> None:
        for key, value in asdict(ft).items():
            setattr(self, key, value)

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
        counts.add(store_harvested(con, SOURCE, papers, page.rejected, input_name=input_name))
        if not hit_limit:
            set_state(con, SOURCE, scope.key, watermark=watermark, cursor=next_cursor)
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
            watermark, cursor = get_state(wh, SOURCE, scope.key)
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
                set_state(con, SOURCE, scope.key, watermark=until or started, cursor=None)
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


def check_crawl(categories: Sequence[str], from_date: str | None, until: str | None) -> None:
    """Refuse unknown categories and malformed dates before anything is fetched or recorded."""
    scopes_for(categories)
    for name, value in (("--from", from_date), ("--until", until)):
        check_date(name, value)


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
    pdf_store: PdfStore | None = None,
    fulltext: Sequence[str] | None = None,
    fulltext_urls: dict[str, str] | None = None,
    fulltext_order: Sequence[str] = DEFAULT_ORDER,
    steps: Steps | None = None,
) -> CrawlCounts:
    """The whole job, recorded in ``runs``: harvest, then PDFs for the harvested papers, then
    (with ``pdf_store``) mirror verified PDFs to object storage.

    ``fulltext`` (any of html, src, pdf) says which full texts to fetch; None keeps ``pdfs``.
    HTML pages and e-prints are parsed into documents (``fulltext_urls`` maps html and src to
    arXiv's bases), and each paper's best document is chosen under ``fulltext_order``."""
    steps = steps or InlineSteps()
    check_crawl(categories, from_date, until)
    kinds = parse_fulltext_option(fulltext)
    pdfs = pdfs if kinds is None else "pdf" in kinds
    params = {
        "categories": list(categories),
        "from": from_date,
        "until": until,
        "max": max_records,
        "pdfs": pdfs,
        "fulltext": list(kinds or ()),
    }
    with recorded_run(wh, "crawl-arxiv", params) as run_counts:
        counts = steps.run(
            "harvest-oai",
            harvest_step,
            wh,
            oai_url,
            politeness,
            list(categories),
            from_date=from_date,
            until=until,
            max_records=max_records,
            echo=steps.log,
        )
        run_counts.update(counts.as_counts())
        if pdfs:
            pdf_counts = steps.run(
                "fetch-pdfs", pdfs_step, wh, home, pdf_url, politeness, counts.paper_ids,
                echo=steps.log,
            )  # fmt: skip
            counts.pdfs_ok, counts.pdfs_quarantined = pdf_counts.ok, pdf_counts.quarantined
            counts.pdfs_skipped = pdf_counts.skipped
            run_counts.update(counts.as_counts())
            if pdf_store is not None:
                counts.pdfs_mirrored = steps.run("mirror-pdfs", pdf_store.mirror, wh, home)
                run_counts["pdfs_mirrored"] = counts.pdfs_mirrored
        _fulltext(wh, home, kinds, fulltext_urls, politeness, counts.paper_ids, None,
                  fulltext_order, counts, steps)  # fmt: skip
        run_counts.update(counts.as_counts())
    publish_counts(steps, "crawl-arxiv", counts.as_counts())
    return counts


def _fulltext(
    wh: Warehouse,
    home: Path,
    kinds: Sequence[str] | None,
    urls: dict[str, str] | None,
    politeness: Politeness,
    paper_ids: list[str],
    pinned: dict[str, str] | None,
    order: Sequence[str],
    counts: CrawlCounts,
    steps: Steps,
) -> None:
    """The HTML / e-print step, when asked for."""
    if not kinds or not {"html", "src"} & set(kinds):
        return
    if not urls or not all(urls.get(k) for k in ("html", "src") if k in kinds):
        raise InvalidParameterError("full text asked for without arXiv's html/e-print URLs")
    ft = steps.run(
        "fetch-fulltext", fulltext_step, wh, home, urls, politeness, list(kinds), paper_ids,
        pinned=pinned, order=list(order), echo=steps.log,
    )  # fmt: skip
    counts.add_fulltext(ft)


def publish_counts(steps: Steps, key: str, counts: dict[str, int]) -> None:
    """A crawl's counts as a summary, with what to do about rejects and quarantined PDFs."""
    next_steps = ""
    if counts.get("rejected") or counts.get("pdfs_quarantined"):
        next_steps = (
            "Next: `scicurate status` lists the reasons; quarantined PDFs are retried "
            "automatically on later runs, rejected records are in the `rejects` table."
        )
    steps.publish(
        key, markdown=counts_markdown(key, counts, next_steps), table=counts_table(counts)
    )


def harvest_step(
    wh: Warehouse,
    oai_url: str,
    politeness: Politeness,
    categories: list[str],
    *,
    from_date: str | None,
    until: str | None,
    max_records: int | None,
    echo: Echo = log.info,
) -> CrawlCounts:
    """Harvest OAI-PMH on a client of its own (a step may run in another task or process)."""
    with PoliteClient(politeness) as http:
        return harvest(
            wh,
            OAIHarvester(http, oai_url),
            categories,
            from_date=from_date,
            until=until,
            max_records=max_records,
            echo=echo,
        )


def pdfs_step(
    wh: Warehouse,
    home: Path,
    pdf_url: str,
    politeness: Politeness,
    paper_ids: list[str] | None,
    *,
    echo: Echo = log.info,
) -> PdfCounts:
    """PDFs for ``paper_ids`` (or every paper) that are missing or due for a retry."""
    targets = due_targets(wh, paper_ids, arxiv_pdf_url=pdf_url)
    echo(f"fetching {len(targets)} PDF(s)")
    return _fetch(wh, home, politeness, targets, echo)


def _fetch(
    wh: Warehouse, home: Path, politeness: Politeness, targets: list[PdfTarget], echo: Echo
) -> PdfCounts:
    """Fetch ``targets`` on a client of this step's own, recording each in ``pdfs``."""
    with PoliteClient(politeness) as http:
        return fetch_pdfs(
            PdfLedger(wh), http, home, targets,
            on_done=lambda t, status: _discard(echo(f"pdf {t.versioned_id}: {status}")),
        )  # fmt: skip


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
    pdf_store: PdfStore | None = None,
    fulltext: Sequence[str] | None = None,
    fulltext_urls: dict[str, str] | None = None,
    fulltext_order: Sequence[str] = DEFAULT_ORDER,
    steps: Steps | None = None,
) -> CrawlCounts:
    """Ad-hoc: papers by id or by API query, through the arXiv API, recorded in ``runs``.
    ``fulltext`` works as in ``crawl_arxiv``; an id with a version pins that version."""
    steps = steps or InlineSteps()
    kinds = parse_fulltext_option(fulltext)
    pdfs = pdfs if kinds is None else "pdf" in kinds
    params = {"ids": list(ids), "query": query, "max": max_records, "pdfs": pdfs,
              "fulltext": list(kinds or ())}  # fmt: skip
    with recorded_run(wh, "crawl-arxiv", params) as run_counts:
        counts = steps.run(
            "lookup-arxiv-api", lookup_step, wh, api_url, politeness, list(ids), query,
            max_records, echo=steps.log,
        )  # fmt: skip
        if pdfs:
            pdf_counts = steps.run(
                "fetch-pdfs", pinned_pdfs_step, wh, home, pdf_url, politeness, list(ids),
                counts.paper_ids, echo=steps.log,
            )  # fmt: skip
            counts.pdfs_ok, counts.pdfs_quarantined = pdf_counts.ok, pdf_counts.quarantined
            counts.pdfs_skipped = pdf_counts.skipped
            if pdf_store is not None:
                counts.pdfs_mirrored = steps.run("mirror-pdfs", pdf_store.mirror, wh, home)
        pinned = {a.base: f"v{a.version}" for a in map(parse_arxiv_id, ids) if a.version}
        _fulltext(wh, home, kinds, fulltext_urls, politeness, counts.paper_ids, pinned,
                  fulltext_order, counts, steps)  # fmt: skip
        run_counts.update(counts.as_counts())
    publish_counts(steps, "crawl-arxiv", counts.as_counts())
    return counts


def lookup_step(
    wh: Warehouse,
    api_url: str,
    politeness: Politeness,
    ids: list[str],
    query: str | None,
    max_records: int,
    *,
    echo: Echo = log.info,
) -> CrawlCounts:
    """Papers by id or by query through the arXiv API, stored."""
    from sources.arxiv_api import ArxivAPI

    counts = CrawlCounts()
    with PoliteClient(politeness) as http:
        api = ArxivAPI(http, api_url, page_size=min(max(max_records, 1), 2000))
        papers = api.lookup(ids) if ids else []
        if query:
            papers += list(api.search(query, max_results=max_records))
    if ids:
        found = {p.paper_id for p in papers}
        for i in ids:
            if parse_arxiv_id(i).base not in found:
                echo(f"{i}: not found on arXiv")
    with wh.write() as con:
        counts.add(store_papers(con, papers))
    counts.paper_ids = [p.paper_id for p in papers]
    echo(f"stored {len(papers)} paper(s): {counts.new} new, {counts.updated} updated")
    return counts


def pinned_pdfs_step(
    wh: Warehouse,
    home: Path,
    pdf_url: str,
    politeness: Politeness,
    ids: list[str],
    paper_ids: list[str],
    *,
    echo: Echo = log.info,
) -> PdfCounts:
    """PDFs of looked-up papers: an id given with a version (2104.12255v1) asks for that
    version's PDF, others for the latest."""
    requested = [parse_arxiv_id(i) for i in ids]
    base = pdf_url.rstrip("/") + "/"
    pinned = [
        PdfTarget(a.base, f"v{a.version}", f"{base}{a.versioned}") for a in requested if a.version
    ]
    pinned_ids = {t.paper_id for t in pinned}
    latest = [i for i in paper_ids if i not in pinned_ids]
    targets = [*due_targets(wh, latest, arxiv_pdf_url=pdf_url), *only_due(wh, pinned)]
    return _fetch(wh, home, politeness, targets, echo)
