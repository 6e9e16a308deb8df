"""Scale-out on Dask: parse-pdfs and the near-dedup step as Prefect tasks on a Dask cluster.

``dask_task_runner`` gives prefect-dask's ``DaskTaskRunner`` for a cluster address
(``SCICURATE_DASK_ADDRESS``, e.g. ``tcp://scheduler:8786``) or, without one, a
``LocalCluster`` of worker processes. Workers must be allowed to start child processes (each
PDF is parsed in an isolated child): ``distributed.worker.daemon`` is turned off for local
clusters here; remote workers need ``DASK_DISTRIBUTED__WORKER__DAEMON=False`` in their
environment (see docs/scale-out.md).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow, task

from parsers.base import Document
from parsers.isolate import IsolatedWorker
from parsers.run import ParseSpec, parse_isolated


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


def _where() -> str:
    try:
        from distributed import get_worker

        return f"dask:{get_worker().address}"
    except (ImportError, ValueError):
        return "local"


@task(name="parse-pdf", retries=0)
def parse_pdf_task(
    path: str,
    spec: ParseSpec,
    store_uri: str | None = None,
    sha256: str = "",
    storage_options: dict[str, Any] | None = None,
) -> Document:
    """Parse one PDF on whichever worker runs this; a worker without the file fetches it
    from the object store first."""
    from parsers.run import failed_document
    from warehouse.pdf_store import PdfStoreError, materialise

    try:
        materialise(Path(path), store_uri, sha256, storage_options or {})
    except PdfStoreError as exc:
        return failed_document(spec, str(exc))
    with IsolatedWorker(spec.limits()) as worker:
        doc = parse_isolated(Path(path), spec, worker)
    doc.metadata["executor"] = _where()
    return doc


@task(name="apply")
def apply_task(fn: Callable[[Any], Any], item: Any) -> Any:
    return fn(item)


def task_mapper(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """A ``Mapper`` that runs each call as a Prefect task on the flow's task runner."""
    from prefect.utilities.annotations import unmapped

    futures = apply_task.map(fn=unmapped(fn), item=items)
    return [f.result() for f in futures]


@flow(name="parse-pdfs-dask", description="Parse PDFs as tasks on a Dask cluster.")
def parse_on_dask_flow(
    warehouse_path: str, home: str, spec: ParseSpec, limit: int | None,
    paper_ids: list[str] | None, run_id: str | None,
    storage_options: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Each pending PDF is a task; results are stored as they complete (one transaction per
    document, in this process: the single writer)."""
    from prefect.futures import as_completed
    from prefect.utilities.annotations import unmapped

    from jobs.parse_pdfs import ParseCounts, store_result
    from parsers.run import parser_version
    from warehouse.db import Warehouse
    from warehouse.documents import pending_pdfs

    wh = Warehouse(Path(warehouse_path))
    version = parser_version(spec)
    todo = pending_pdfs(
        wh, Path(home), parser=spec.parser, parser_version=version, limit=limit,
        paper_ids=paper_ids,
    )  # fmt: skip
    counts = ParseCounts(parser=spec.parser, parser_version=version)
    if not todo:
        return counts.as_dict()
    import time

    start = time.perf_counter()
    futures = parse_pdf_task.map(
        path=[str(t.path) for t in todo],
        spec=unmapped(spec),
        store_uri=[t.store_uri for t in todo],
        sha256=[t.sha256 for t in todo],
        storage_options=unmapped(storage_options or {}),
    )
    by_future = {f.task_run_id: target for f, target in zip(futures, todo, strict=True)}
    for future in as_completed(futures):
        store_result(wh, by_future[future.task_run_id], future.result(), spec, version, run_id,
                     counts)  # fmt: skip
    counts.seconds = time.perf_counter() - start
    return counts.as_dict()
