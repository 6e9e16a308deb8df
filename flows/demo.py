"""``scicurate demo``: the pipeline end to end, offline, on the embedded defaults.

It uses a DuckDB file under the configured home, an ephemeral Prefect API, local files, and a
local HTTP server with the bundled arXiv-style sample, so every stage runs for real. Running it
again changes nothing that is already there.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from flows.sample import sample_papers
from flows.sample_server import SampleServer
from flows.settings import Settings
from warehouse import migrate
from warehouse.status import StatusReport

Echo = Callable[[str], object]
DEMO_PAPERS = 60


def run_demo(settings: Settings, *, echo: Echo = print) -> StatusReport:
    """Create or upgrade the warehouse, run the flows offline, and return the final status."""
    wh = settings.warehouse()
    applied = migrate(wh)
    echo(f"[1/3] warehouse {wh.path}: {len(applied)} migration(s) applied")

    # Prefect is imported here, not at start-up: it costs seconds.
    from flows.crawl_arxiv_flow import crawl_arxiv_flow
    from flows.status import status_flow

    with SampleServer(sample_papers(DEMO_PAPERS)) as server:
        echo(f"[2/3] crawl-arxiv against the bundled sample at {server.url} (Prefect, ephemeral)")
        overrides = {
            "SCICURATE_ARXIV_OAI_URL": f"{server.url}/oai",
            "SCICURATE_ARXIV_PDF_URL": f"{server.url}/pdf/",
            "SCICURATE_ARXIV_MIN_INTERVAL_S": "0.05",  # a local server; arXiv itself gets 3 s
        }
        saved = {k: os.environ.get(k) for k in overrides}
        os.environ.update(overrides)
        try:
            counts = crawl_arxiv_flow(
                categories=["cs.AI", "cs.CV", "cs.LG"],
                from_date="2026-11-01",
                pdfs=True,
                home=str(settings.home),
            )
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    echo(
        f"      papers: {counts['new']} new, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged; PDFs: {counts.get('pdfs_ok', 0)} downloaded, "
        f"{counts.get('pdfs_quarantined', 0)} quarantined"
    )
    echo("[3/3] status flow (publishes the `status` artifact)")
    report = status_flow(str(wh.path))
    echo(
        f"done. PDFs are under {settings.pdf_dir}; try "
        f'`scicurate --home {settings.home} warehouse sql "SELECT paper_id, title FROM papers '
        'LIMIT 5"` or `scicurate status`.'
    )
    return report
