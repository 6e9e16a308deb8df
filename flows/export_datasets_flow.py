"""The Prefect flow ``export-datasets`` around ``flows.export_datasets``."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.export_datasets import DEFAULT_DATASETS, export_datasets
from flows.settings import load_settings
from warehouse import migrate


@flow(name="export-datasets", description="Build and publish the configured training sets.")
def export_datasets_flow(
    datasets: list[str] = list(DEFAULT_DATASETS),  # noqa: B006 - Prefect parameters
    home: str | None = None,
) -> dict[str, int]:
    settings = load_settings(home=home)
    wh = settings.warehouse()
    migrate(wh)
    exported = export_datasets(wh, settings.datasets_dir, datasets, echo=get_run_logger().info)
    rows = []
    for item in exported:
        r, d = item.result, item.diff
        rows.append(
            {
                "dataset": r.name,
                "version": r.version,
                "new_version": r.created,
                **{f"rows_{split}": n for split, n in r.rows.items()},
                "added": d.added if d else None,
                "removed": d.removed if d else None,
                "changed": d.changed if d else None,
            }
        )
    create_table_artifact(key="export-datasets", table=rows, description="versions and diffs")
    create_markdown_artifact(
        key="export-datasets-summary",
        markdown="# export-datasets\n\n"
        + "\n".join(
            f"- `{r['dataset']}` v{r['version']}"
            + (" (new)" if r["new_version"] else " (unchanged)")
            for r in rows
        )
        + "\n\nTrainers: `scicurate datasets pull NAME@vN --to DIR` verifies every checksum.",
    )
    return {item.result.name: item.result.version for item in exported}
