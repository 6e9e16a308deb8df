"""The Prefect flow ``crawl-arxiv`` around the job in ``jobs.crawl_arxiv``."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from core.http import PoliteClient, Politeness
from jobs.crawl_arxiv import DEFAULT_CATEGORIES, CrawlCounts, download_pdfs, harvest
from jobs.lineage import recorded_run
from settings import load_settings
from sources.arxiv_oai import OAIHarvester
from sources.errors import TransientHTTPError


def retry_transient_only(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect retry condition: retry on 429/5xx/connection trouble, never on other errors."""
    try:
        state.result()
    except TransientHTTPError:
        return True
    except Exception:  # noqa: BLE001 - any other failure is final, by design
        return False
    return False


@task(
    name="harvest-oai", retries=2, retry_delay_seconds=60, retry_condition_fn=retry_transient_only
)
def harvest_task(
    warehouse_path: str,
    oai_url: str,
    politeness: Politeness,
    categories: list[str],
    from_date: str | None,
    until: str | None,
    max_records: int | None,
) -> CrawlCounts:
    from pathlib import Path

    from warehouse import Warehouse

    logger = get_run_logger()
    with PoliteClient(politeness) as http:
        return harvest(
            Warehouse(Path(warehouse_path)),
            OAIHarvester(http, oai_url),
            categories,
            from_date=from_date,
            until=until,
            max_records=max_records,
            echo=logger.info,
        )


@task(name="fetch-pdfs", retries=2, retry_delay_seconds=60, retry_condition_fn=retry_transient_only)
def pdfs_task(
    warehouse_path: str, home: str, pdf_url: str, politeness: Politeness, paper_ids: list[str]
) -> dict[str, int]:
    from pathlib import Path

    from warehouse import Warehouse

    logger = get_run_logger()
    with PoliteClient(politeness) as http:
        counts = download_pdfs(
            Warehouse(Path(warehouse_path)), http, Path(home), pdf_url, paper_ids, echo=logger.info
        )
    return {
        "pdfs_ok": counts.ok,
        "pdfs_quarantined": counts.quarantined,
        "pdfs_skipped": counts.skipped,
    }


def _summary(counts: dict[str, int]) -> str:
    lines = ["# crawl-arxiv", ""]
    lines += [f"- {k.replace('_', ' ')}: {v}" for k, v in counts.items()]
    if counts.get("rejected") or counts.get("pdfs_quarantined"):
        lines += [
            "",
            "Next: `scicurate status` lists the reasons; quarantined PDFs are retried "
            "automatically on later runs, rejected records are in the `rejects` table.",
        ]
    return "\n".join(lines)


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
    wh = settings.warehouse()
    from warehouse import migrate

    migrate(wh)
    politeness = settings.arxiv_politeness()
    params = {"categories": categories, "from": from_date, "until": until, "max": max_records}
    with recorded_run(wh, "crawl-arxiv", {**params, "pdfs": pdfs}) as run_counts:
        counts = harvest_task(
            str(wh.path),
            str(settings.arxiv_oai_url),
            politeness,
            categories,
            from_date,
            until,
            max_records,
        )
        run_counts.update(counts.as_counts())
        if pdfs:
            run_counts.update(
                pdfs_task(
                    str(wh.path),
                    str(settings.home),
                    str(settings.arxiv_pdf_url),
                    politeness,
                    counts.paper_ids,
                )
            )
            if (store := settings.pdf_store_client()) is not None:
                run_counts["pdfs_mirrored"] = store.mirror(wh, settings.home)
        result = dict(run_counts)
    create_table_artifact(
        key="crawl-arxiv",
        table=[{"count": k, "value": v} for k, v in result.items()],
        description="papers new/updated/unchanged/rejected, PDFs ok/quarantined",
    )
    create_markdown_artifact(key="crawl-arxiv-summary", markdown=_summary(result))
    return result
