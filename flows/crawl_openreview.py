"""The Prefect flow ``crawl-openreview``: an adapter over ``jobs.crawl_openreview``."""

from __future__ import annotations

from prefect import flow

from flows.steps import PrefectSteps
from jobs.crawl_openreview import DEFAULT_VENUES, crawl_openreview
from settings import load_settings


@flow(name="crawl-openreview", description="Venues' submissions, reviews and decisions.")
def crawl_openreview_flow(
    venues: list[str] = list(DEFAULT_VENUES),  # noqa: B006 - Prefect parameters
    pdfs: bool = True,
    home: str | None = None,
) -> dict[str, int]:
    settings = load_settings(home=home)
    counts = crawl_openreview(
        settings.migrated_warehouse(),
        settings.openreview_config(),
        home=settings.home,
        venues=venues,
        pdfs=pdfs,
        pdf_store=settings.pdf_store_client(),
        steps=PrefectSteps(),
    )
    return counts.as_counts()
