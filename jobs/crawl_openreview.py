"""Job ``crawl-openreview``: venues' submissions with reviews, meta-reviews and decisions.

Each page of submissions (with their replies) is stored in one transaction. Reruns update in
place: no paper or reply is stored twice. Papers are then linked to arXiv where the title and
first author match, and PDFs go through the same validated, quarantined download as arXiv's.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from core.http import PoliteClient, Politeness
from jobs.lineage import recorded_run
from jobs.steps import InlineSteps, Steps, counts_markdown
from sources.openreview import OpenReviewClient, forum_from_note, rate_limit_wait
from sources.pdfs import PdfCounts, fetch_pdfs
from warehouse.db import Warehouse
from warehouse.papers import store_papers
from warehouse.pdf_store import PdfStore
from warehouse.pdfs import PdfLedger, openreview_due_targets
from warehouse.reviews import link_openreview_to_arxiv, upsert_reviews

log = logging.getLogger(__name__)
DEFAULT_VENUES = (
    "ICLR.cc/2023/Conference",
    "ICLR.cc/2024/Conference",
    "ICLR.cc/2025/Conference",
)
Echo = Callable[[str], object]


@dataclass
class OpenReviewCounts:
    papers_new: int = 0
    papers_updated: int = 0
    papers_unchanged: int = 0
    replies_new: int = 0
    replies_updated: int = 0
    replies_unchanged: int = 0
    linked_to_arxiv: int = 0
    pdfs_ok: int = 0
    pdfs_quarantined: int = 0
    pdfs_skipped: int = 0
    pdfs_mirrored: int = 0
    by_venue_decision: Counter[tuple[str, str]] = field(default_factory=Counter)
    forum_ids: list[str] = field(default_factory=list)

    def as_counts(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int)}


@dataclass(frozen=True)
class OpenReviewConfig:
    api_url: str
    api_v1_url: str
    web_url: str
    politeness: Politeness
    username: str | None = None
    password: SecretStr | None = None


def crawl_venues(
    wh: Warehouse,
    config: OpenReviewConfig,
    venues: Sequence[str],
    *,
    echo: Echo = log.info,
) -> OpenReviewCounts:
    counts = OpenReviewCounts()
    with PoliteClient(config.politeness, wait_hint=rate_limit_wait) as http:
        client = OpenReviewClient(
            http,
            api_url=config.api_url,
            api_v1_url=config.api_v1_url,
            username=config.username,
            password=config.password,
        )
        for venue in venues:
            stored = 0
            for api, notes in client.venue_forums(venue):
                forums = [forum_from_note(n, web_url=config.web_url, venue_id=venue) for n in notes]
                papers = [f.paper for f in forums]
                replies = [r for f in forums for r in f.replies]
                with wh.write() as con:
                    result = store_papers(con, papers)
                    counts.papers_new += result.inserted
                    counts.papers_updated += result.updated
                    counts.papers_unchanged += result.unchanged
                    replied = upsert_reviews(con, replies)
                counts.replies_new += replied.inserted
                counts.replies_updated += replied.updated
                counts.replies_unchanged += replied.unchanged
                for paper in papers:
                    counts.by_venue_decision[(venue, paper.decision or "undecided")] += 1
                    counts.forum_ids.append(paper.forum_id or "")
                stored += len(papers)
                echo(f"{venue} (API {api}): stored {stored} submissions, {len(replies)} replies")
        with wh.write() as con:
            counts.linked_to_arxiv = link_openreview_to_arxiv(con)
    return counts


def crawl_openreview(
    wh: Warehouse,
    config: OpenReviewConfig,
    *,
    home: Path,
    venues: Sequence[str] = DEFAULT_VENUES,
    pdfs: bool = False,
    pdf_store: PdfStore | None = None,
    steps: Steps | None = None,
) -> OpenReviewCounts:
    """The whole job, recorded in ``runs``: venues, then PDFs, then (with ``pdf_store``) the
    mirror of verified PDFs to object storage."""
    steps = steps or InlineSteps()
    with recorded_run(wh, "crawl-openreview", {"venues": list(venues), "pdfs": pdfs}) as run:
        counts = steps.run("crawl-venues", crawl_venues, wh, config, venues, echo=steps.log)
        run.update(counts.as_counts())
        if pdfs:
            pdf_counts = steps.run(
                "fetch-pdfs", pdfs_step, wh, config, home, counts.forum_ids, echo=steps.log
            )
            counts.pdfs_ok, counts.pdfs_quarantined = pdf_counts.ok, pdf_counts.quarantined
            counts.pdfs_skipped = pdf_counts.skipped
            if pdf_store is not None:
                counts.pdfs_mirrored = steps.run("mirror-pdfs", pdf_store.mirror, wh, home)
            run.update(counts.as_counts())
    _publish(steps, counts)
    return counts


def pdfs_step(
    wh: Warehouse,
    config: OpenReviewConfig,
    home: Path,
    forum_ids: list[str],
    *,
    echo: Echo = log.info,
) -> PdfCounts:
    targets = openreview_due_targets(wh, config.web_url, forum_ids)
    echo(f"fetching {len(targets)} OpenReview PDF(s)")
    with PoliteClient(config.politeness, wait_hint=rate_limit_wait) as http:
        return fetch_pdfs(PdfLedger(wh), http, home, targets)


def _publish(steps: Steps, counts: OpenReviewCounts) -> None:
    next_steps = (
        "Next: quarantined PDFs are retried on later runs; see `scicurate status`."
        if counts.pdfs_quarantined
        else ""
    )
    steps.publish(
        "crawl-openreview",
        markdown=counts_markdown("crawl-openreview", counts.as_counts(), next_steps),
        table=[
            {"venue": venue, "decision": decision, "papers": n}
            for (venue, decision), n in sorted(counts.by_venue_decision.items())
        ],
    )
