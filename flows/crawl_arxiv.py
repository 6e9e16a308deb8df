"""The Prefect flow ``crawl-arxiv``: an adapter over ``jobs.crawl_arxiv``."""

from __future__ import annotations

from prefect import flow

from flows.steps import PrefectSteps
from jobs.crawl_arxiv import DEFAULT_CATEGORIES, crawl_arxiv
from settings import load_settings


@flow(name="crawl-arxiv", description="Harvest arXiv metadata over OAI-PMH, then PDFs.")
def crawl_arxiv_flow(
    categories: list[str] = list(DEFAULT_CATEGORIES),  # noqa: B006 - Prefect parameters
    from_date: str | None = None,
    until: str | None = None,
    max_records: int | None = None,
    pdfs: bool = True,
    home: str | None = None,
) -> dict[str, int]:
    """Parameters default to the scheduled crawl: cs.AI, cs.CV and cs.LG from the watermark."""
    settings = load_settings(home=home)
    counts = crawl_arxiv(
        settings.migrated_warehouse(),
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
        steps=PrefectSteps(),
    )
    return counts.as_counts()
