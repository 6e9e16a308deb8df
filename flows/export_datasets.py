"""The Prefect flow ``export-datasets``: an adapter over ``jobs.export_datasets``."""

from __future__ import annotations

from prefect import flow

from flows.steps import PrefectSteps, on_task_runner
from jobs.export_datasets import DEFAULT_DATASETS, Exported, export_datasets
from jobs.mix_datasets import mixture_specs, rebuild_mixtures
from settings import load_settings


@flow(name="export-datasets", description="Build and publish the configured training sets.")
def export_datasets_flow(
    datasets: list[str] = list(DEFAULT_DATASETS),  # noqa: B006 - Prefect parameters
    executor: str = "local",
    home: str | None = None,
) -> dict[str, int]:
    """``executor="dask"`` runs the near-dedup sketches as tasks on a Dask cluster."""
    if executor not in ("local", "dask"):
        raise ValueError(f"executor must be 'local' or 'dask', not {executor!r}")
    settings = load_settings(home=home)
    wh = settings.migrated_warehouse()

    def job(fan_out: bool) -> list[Exported]:
        return export_datasets(
            wh, settings.datasets_dir, datasets, fan_out=fan_out, steps=PrefectSteps(),
            eval_minimum=settings.eval_minimum,
        )  # fmt: skip

    if executor == "dask":
        from flows.dask_runner import dask_task_runner

        runner = dask_task_runner(settings.dask_address)
        exported = on_task_runner("export-datasets-dask", runner, lambda: job(True))
    else:
        exported = job(False)
    versions = {item.result.name: item.result.version for item in exported}
    # Named mixtures (specs under <home>/mixtures/) follow their sources' new versions.
    mixed = rebuild_mixtures(
        wh, settings.datasets_dir, mixture_specs(settings.mixtures_dir), steps=PrefectSteps()
    )
    versions.update({m.publish.name: m.publish.version for m in mixed})
    return versions
