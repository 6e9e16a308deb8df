"""The Prefect flow ``export-datasets`` around ``jobs.export_datasets``."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from jobs.export_datasets import DEFAULT_DATASETS, Exported, export_datasets
from settings import load_settings
from warehouse import migrate


@flow(name="export-datasets-dask", description="export-datasets with tasks on Dask.")
def _export_on_dask(warehouse_path: str, root: str, datasets: list[str]) -> list[Exported]:
    from pathlib import Path

    from flows.dask_runner import task_mapper
    from warehouse import Warehouse

    return export_datasets(
        Warehouse(Path(warehouse_path)), Path(root), datasets, echo=get_run_logger().info,
        mapper=task_mapper,
    )  # fmt: skip


@flow(name="export-datasets", description="Build and publish the configured training sets.")
def export_datasets_flow(
    datasets: list[str] = list(DEFAULT_DATASETS),  # noqa: B006 - Prefect parameters
    executor: str = "local",
    home: str | None = None,
) -> dict[str, int]:
    """``executor="dask"`` runs the near-dedup sketches as tasks on a Dask cluster."""
    settings = load_settings(home=home)
    wh = settings.warehouse()
    migrate(wh)
    if executor == "dask":
        from flows.dask_runner import dask_task_runner

        runner = dask_task_runner(settings.dask_address)
        exported = _export_on_dask.with_options(task_runner=runner)(
            str(wh.path), str(settings.datasets_dir), datasets
        )
    else:
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
