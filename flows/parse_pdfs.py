"""The Prefect flow ``parse-pdfs`` around ``jobs.parse_pdfs``.

GPU work (``nougat``, and ``auto`` on a machine with CUDA) holds a slot of the global
concurrency limit ``gpu`` for the whole batch, so two runs never share a device; ``scicurate
deploy`` creates that limit with one slot per GPU. Without the limit (ephemeral runs) the
slot is not enforced.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.concurrency.sync import concurrency

from jobs.lineage import recorded_run
from jobs.parse_pdfs import ParseCounts, parse_pdfs
from parsers.router import cuda_available
from settings import load_settings
from warehouse import migrate


def _gpu_slot(parser: str) -> AbstractContextManager[object]:
    if parser == "nougat" or (parser == "auto" and cuda_available()):
        return concurrency("gpu", occupy=1)
    return nullcontext()


def summary_markdown(counts: ParseCounts) -> str:
    lines = [
        "# parse-pdfs",
        "",
        f"{counts.documents} documents, {counts.pages} pages in {counts.seconds:.1f} s "
        f"({counts.pages_per_s:.1f} pages/s) with `{counts.parser}` {counts.parser_version}.",
        "",
        f"- ok {counts.ok}, low quality {counts.low_quality}, needs OCR {counts.needs_ocr}, "
        f"failed {counts.failed}; {counts.fallback_pages} pages fell back to PyMuPDF",
    ]
    if counts.quality:
        lines.append(
            "- quality: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.quality.items()))
        )
    if counts.failures:
        lines += ["", "## Failures by reason", ""]
        lines += [f"- {reason}: {n}" for reason, n in counts.failures.most_common()]
        lines += [
            "",
            'Next steps: `scicurate warehouse sql "SELECT paper_id, reason FROM documents '
            "WHERE status = 'failed'\"` lists them; a timeout or memory limit can be raised with "
            "`SCICURATE_PARSE_TIMEOUT_S` / `SCICURATE_PARSE_MEMORY_MB`, and documents needing "
            "OCR go to `--parser nougat` on a GPU machine.",
        ]
    return "\n".join(lines)


@flow(name="parse-pdfs", description="Parse verified PDFs into documents and elements.")
def parse_pdfs_flow(
    parser: str = "pymupdf",
    limit: int | None = None,
    paper_ids: list[str] | None = None,
    workers: int | None = None,
    executor: str = "local",
    home: str | None = None,
) -> dict[str, object]:
    """``executor``: "local" (isolated parser processes on this machine) or "dask" (one task
    per PDF on the Dask cluster at SCICURATE_DASK_ADDRESS, or a local cluster)."""
    settings = load_settings(home=home)
    wh = settings.warehouse()
    migrate(wh)
    spec = settings.parse_spec(parser)
    logger = get_run_logger()
    params = {"parser": parser, "limit": limit, "paper_ids": paper_ids, "workers": workers}
    if executor not in ("local", "dask"):
        raise ValueError(f"executor must be 'local' or 'dask', not {executor!r}")
    params["executor"] = executor
    with recorded_run(wh, "parse-pdfs", params) as run, _gpu_slot(parser):
        if executor == "dask":
            from flows.dask_runner import dask_task_runner, parse_on_dask_flow

            runner = dask_task_runner(settings.dask_address, n_workers=workers or 2)
            summary = parse_on_dask_flow.with_options(task_runner=runner)(
                str(wh.path), str(settings.home), spec, limit, paper_ids, run.run_id,
                settings.storage_options(settings.pdf_store or ""),
            )  # fmt: skip
            counts = ParseCounts.from_dict(summary)
        else:
            counts = parse_pdfs(
                wh,
                settings.home,
                spec,
                limit=limit,
                paper_ids=paper_ids,
                workers=workers,
                run_id=run.run_id,
                progress=lambda done, total: logger.info("parsed %d/%d", done, total),
                storage_options=settings.storage_options(settings.pdf_store or ""),
            )
        summary = counts.as_dict()
        run.update(
            {k: v for k, v in summary.items() if isinstance(v, int) and not isinstance(v, bool)}
        )
    rows = [
        {"what": key, "value": value}
        for key, value in summary.items()
        if not isinstance(value, dict)
    ]
    rows += [{"what": f"failed: {k}", "value": v} for k, v in counts.failures.items()]
    rows += [{"what": f"quality {k}", "value": v} for k, v in sorted(counts.quality.items())]
    create_table_artifact(key="parse-pdfs", table=rows, description="parse counts")
    create_markdown_artifact(key="parse-pdfs-summary", markdown=summary_markdown(counts))
    logger.info(
        "parsed %d documents (%d pages, %.1f pages/s): %d ok, %d failed",
        counts.documents,
        counts.pages,
        counts.pages_per_s,
        counts.ok,
        counts.failed,
    )
    return summary
