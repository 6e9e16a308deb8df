"""``scicurate demo``: the pipeline end to end, offline, on the embedded defaults.

It uses a DuckDB file under the configured home, an ephemeral Prefect API and local files only.
Each stage that exists runs for real; the report at the end is the same one ``status`` shows.
"""

from __future__ import annotations

from collections.abc import Callable

from flows.settings import Settings
from warehouse import migrate
from warehouse.status import StatusReport

Echo = Callable[[str], object]


def run_demo(settings: Settings, *, echo: Echo = print) -> StatusReport:
    """Create or upgrade the warehouse, run the flows offline, and return the final status."""
    wh = settings.warehouse()
    applied = migrate(wh)
    echo(f"[1/2] warehouse {wh.path}: {len(applied)} migration(s) applied")

    from flows.status import status_flow  # imports Prefect; keep it off the CLI's start-up path

    echo("[2/2] status flow on an ephemeral Prefect API (a cold start takes ~10 s)")
    report = status_flow(str(wh.path))
    echo(
        "done. Next: `scicurate status` any time; "
        f'`scicurate warehouse sql "SELECT * FROM runs"`; data lives under {settings.home}'
    )
    return report
