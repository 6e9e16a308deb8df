"""The Prefect flow ``crawl-openreview`` around the job in ``jobs.crawl_openreview``."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from jobs.crawl_openreview import DEFAULT_VENUES, crawl_openreview
from settings import load_settings
from warehouse import migrate


@flow(name="crawl-openreview", description="Venues' submissions, reviews and decisions.")
def crawl_openreview_flow(
    venues: list[str] = list(DEFAULT_VENUES),  # noqa: B006 - Prefect parameters
    pdfs: bool = True,
    home: str | None = None,
) -> dict[str, int]:
    settings = load_settings(home=home)
    wh = settings.warehouse()
    migrate(wh)
    logger = get_run_logger()
    counts = crawl_openreview(
        wh, settings.openreview_config(), home=settings.home, venues=venues, pdfs=pdfs,
        echo=logger.info,
    )  # fmt: skip
    if pdfs and (store := settings.pdf_store_client()) is not None:
        logger.info("%d PDFs mirrored to %s", store.mirror(wh, settings.home), store.uri)
    create_table_artifact(
        key="crawl-openreview",
        table=[
            {"venue": venue, "decision": decision, "papers": n}
            for (venue, decision), n in sorted(counts.by_venue_decision.items())
        ],
        description="papers per venue and decision",
    )
    summary = ["# crawl-openreview", ""]
    summary += [f"- {k.replace('_', ' ')}: {v}" for k, v in counts.as_counts().items()]
    if counts.pdfs_quarantined:
        summary += ["", "Next: quarantined PDFs are retried on later runs; see `scicurate status`."]
    create_markdown_artifact(key="crawl-openreview-summary", markdown="\n".join(summary))
    return counts.as_counts()
