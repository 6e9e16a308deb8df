"""The Prefect flow ``parse-pdfs``: an adapter over ``jobs.parse_pdfs``.

GPU work (``nougat``, and ``auto`` on a machine with CUDA) holds a slot of the global
concurrency limit ``gpu`` for the whole batch, so two runs never share a device; ``scicurate
deploy`` creates that limit with one slot per GPU. Without the limit (ephemeral runs) the
slot is not enforced. ``executor="dask"`` runs the same job in a subflow whose task runner is
a Dask cluster, so each PDF becomes a task there.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from prefect import flow
from prefect.concurrency.sync import concurrency

from flows.steps import PrefectSteps, on_task_runner
from jobs.parse_pdfs import ParseCounts, parse_pdfs
from parsers.router import cuda_available
from settings import load_settings


def _gpu_slot(parser: str) -> AbstractContextManager[object]:
    if parser == "nougat" or (parser == "auto" and cuda_available()):
        return concurrency("gpu", occupy=1)
    return nullcontext()


@flow(name="parse-pdfs", description="Parse verified PDFs into documents and elements.")
def parse_pdfs_flow(
    parser: str = "pymupdf",
    limit: int | None = None,
    paper_ids: list[str] | None = None,
    workers: int | None = None,
    executor: str = "local",
    home: str | None = None,
    all_sources: bool = False,
) -> dict[str, object]:
    """``executor``: "local" (isolated parser processes on this machine) or "dask" (one task
    per PDF on the Dask cluster at SCICURATE_DASK_ADDRESS, or a local cluster).
    ``all_sources``: parse PDFs of papers that already have a better document too."""
    if executor not in ("local", "dask"):
        raise ValueError(f"executor must be 'local' or 'dask', not {executor!r}")
    settings = load_settings(home=home)
    wh = settings.migrated_warehouse()
    spec = settings.parse_spec(parser)

    def job(fan_out: bool) -> ParseCounts:
        return parse_pdfs(
            wh,
            settings.home,
            spec,
            limit=limit,
            paper_ids=paper_ids,
            workers=workers,
            storage_options=settings.storage_options(settings.pdf_store or ""),
            fan_out=fan_out,
            order=settings.fulltext_order,
            all_sources=all_sources,
            # A parse that failed is a stored result, not an error: nothing to retry.
            steps=PrefectSteps(retries=0),
        )

    with _gpu_slot(parser):
        if executor == "dask":
            from flows.dask_runner import dask_task_runner

            runner = dask_task_runner(settings.dask_address, n_workers=workers or 2)
            counts = on_task_runner("parse-pdfs-dask", runner, lambda: job(True))
        else:
            counts = job(False)
    return counts.as_dict()
