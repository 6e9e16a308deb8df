"""The Prefect flow ``crawl-arxiv``: an adapter over ``jobs.crawl_arxiv``, followed by the
day's digest (``jobs.digest``), published as the ``digest`` artifact and written under the
home as ``digests/YYYY-MM-DD.md``."""

from __future__ import annotations

from prefect import flow

from flows.steps import PrefectSteps
from jobs.crawl_arxiv import DEFAULT_CATEGORIES, crawl_arxiv
from jobs.digest import daily_digest, latest_announcement
from settings import load_settings


@flow(name="crawl-arxiv", description="Harvest arXiv metadata over OAI-PMH, then PDFs.")
def crawl_arxiv_flow(
    categories: list[str] = list(DEFAULT_CATEGORIES),  # noqa: B006 - Prefect parameters
    from_date: str | None = None,
    until: str | None = None,
    max_records: int | None = None,
    pdfs: bool = True,
    fulltext: list[str] | None = None,
    home: str | None = None,
) -> dict[str, int]:
    """Parameters default to the scheduled crawl: cs.AI, cs.CV and cs.LG from the watermark."""
    settings = load_settings(home=home)
    wh = settings.migrated_warehouse()
    steps = PrefectSteps()
    counts = crawl_arxiv(
        wh,
        home=settings.home,
        oai_url=str(settings.arxiv_oai_url),
        pdf_url=str(settings.arxiv_pdf_url),
        politeness=settings.arxiv_politeness(),
        categories=categories,
        from_date=from_date,
        until=until,
        max_records=max_records,
        pdfs=pdfs,
        pdf_store=settings.pdf_store_client(),
        fulltext=fulltext,
        fulltext_urls=settings.arxiv_fulltext_urls(),
        fulltext_order=settings.fulltext_order,
        steps=steps,
    )
    # The day's digest: the newest announcement day among the papers this crawl stored.
    day = latest_announcement(wh, counts.paper_ids)
    if day is not None:
        _, path = steps.run("digest", daily_digest, wh, settings.home, day, steps=steps)
        steps.log(f"digest of {day} written to {path}")
    return counts.as_counts()
