"""Scale-out on Dask: prefect-dask's task runner for the flows whose jobs fan out.

``dask_task_runner`` gives a ``DaskTaskRunner`` for a cluster address
(``SCICURATE_DASK_ADDRESS``, e.g. ``tcp://scheduler:8786``) or, without one, a
``LocalCluster`` of worker processes. A flow runs its job inside a subflow on that runner
(``flows.steps.on_task_runner``), so the job's ``steps.map`` (one PDF to parse, one batch of
near-dedup sketches) becomes tasks on the cluster; the job itself is the same code as on one
machine. Workers must be allowed to start child processes (each PDF is parsed in an isolated
child): ``distributed.worker.daemon`` is turned off for local clusters here; remote workers
need ``DASK_DISTRIBUTED__WORKER__DAEMON=False`` in their environment (see docs/scale-out.md).
"""

from __future__ import annotations

from typing import Any


def dask_task_runner(address: str | None = None, n_workers: int = 2) -> Any:
    import dask
    from prefect_dask.task_runners import DaskTaskRunner

    dask.config.set({"distributed.worker.daemon": False})
    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={"n_workers": n_workers, "processes": True, "threads_per_worker": 1},
    )
