"""Job ``export-datasets``: build and publish training sets (composed once; the CLI and the
flow call ``export_datasets``, a single build is ``build_dataset``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobs.lineage import recorded_run
from jobs.steps import InlineSteps, Steps, ordered_mapper
from warehouse.builders import BUILDERS
from warehouse.builders.base import (
    BuildError,
    Mapper,
    NothingToBuildError,
    local_map,
    merge_params,
)
from warehouse.builders.finish import EvalMinimum, finish_build
from warehouse.datasets import BuilderInfo, PublishResult, publish
from warehouse.datasets.catalog import version_dirs
from warehouse.datasets.diff import VersionDiff, diff_versions
from warehouse.datasets.publish import ROWS_PER_FILE
from warehouse.db import Warehouse
from warehouse.migrate import current_version

log = logging.getLogger(__name__)
DEFAULT_DATASETS = tuple(BUILDERS)
Echo = Callable[[str], object]


@dataclass(frozen=True)
class Exported:
    result: PublishResult
    diff: VersionDiff | None  # against the previous version, when a new one was published
    notes: tuple[str, ...] = ()  # eval splits asked for but not written, and why


def warehouse_snapshot(wh: Warehouse) -> dict[str, Any]:
    """What the warehouse looked like when a dataset was built from it."""
    with wh.read() as con:
        papers, changed = con.execute(
            "SELECT count(*), max(last_changed)::VARCHAR FROM papers"
        ).fetchall()[0]
        reviews, documents, feedback, annotations = con.execute(
            "SELECT (SELECT count(*) FROM reviews), (SELECT count(*) FROM documents), "
            "(SELECT count(*) FROM feedback), (SELECT count(*) FROM annotations)"
        ).fetchall()[0]
    return {
        "schema_version": current_version(wh),
        "papers": papers,
        "papers_last_changed": changed,
        "reviews": reviews,
        "documents": documents,
        "feedback": feedback,
        "annotations": annotations,
    }


def build_dataset(
    wh: Warehouse,
    root: Path,
    name: str,
    params: dict[str, str] | None = None,
    *,
    run_id: str | None = None,
    mapper: Mapper = local_map,
    eval_minimum: EvalMinimum | None = None,
    rows_per_file: int = ROWS_PER_FILE,
) -> Exported:
    """Build ``name`` with its builder and publish it (a no-op when nothing changed).
    ``mapper`` runs the builder's parallel steps (near-dedup sketches) where it likes; eval
    splits under ``eval_minimum`` join train (``finish_build``); a split with more than
    ``rows_per_file`` rows is written as several Parquet files."""
    builder = BUILDERS.get(name)
    if builder is None:
        raise BuildError(f"no builder for {name!r}; known: {', '.join(sorted(BUILDERS))}")
    merged = merge_params(builder.defaults, params or {})
    output = finish_build(wh, builder.build(wh, merged, mapper), eval_minimum or EvalMinimum())
    before = version_dirs(root, name)
    result = publish(
        wh, root, name, output.splits, output.card,
        BuilderInfo(builder.name, builder.version, merged),
        run_id=run_id, snapshot=warehouse_snapshot(wh), rows_per_file=rows_per_file,
    )  # fmt: skip
    diff = None
    if result.created and before:
        diff = diff_versions(before[-1][1], result.path)
    return Exported(result, diff, tuple(output.card.extra.get("split_notes", ())))


def export_datasets(
    wh: Warehouse,
    root: Path,
    names: Sequence[str] = DEFAULT_DATASETS,
    *,
    params: dict[str, dict[str, str]] | None = None,
    fan_out: bool = False,
    steps: Steps | None = None,
    eval_minimum: EvalMinimum | None = None,
) -> list[Exported]:
    """The job, recorded in ``runs``: build and publish each dataset. With ``fan_out`` the
    builders' parallel steps (near-dedup sketches) go through ``steps.map`` (tasks on the
    flow's Dask cluster); otherwise they run here."""
    steps = steps or InlineSteps()
    mapper = ordered_mapper(steps, "near-dedup") if fan_out else local_map
    exported = []
    with recorded_run(wh, "export-datasets", {"datasets": list(names)}) as run:
        for name in names:
            try:
                item = build_dataset(
                    wh, root, name, (params or {}).get(name), run_id=run.run_id, mapper=mapper,
                    eval_minimum=eval_minimum,
                )  # fmt: skip
            except NothingToBuildError as exc:
                if len(names) == 1:
                    raise  # asked for this one dataset: say why it cannot be built
                steps.log(f"{name}: skipped, {exc}")
                run[f"{name}_skipped"] = 1
                continue
            r = item.result
            state = "published" if r.created else "unchanged, kept"
            sizes = ", ".join(f"{s} {n:,}" for s, n in r.rows.items())
            steps.log(f"{name} v{r.version}: {state} ({sizes})")
            for note in item.notes:
                steps.log(f"{name}: {note.replace('`', '')}")
            run[f"{name}_version"] = r.version
            run[f"{name}_rows"] = sum(r.rows.values())
            exported.append(item)
    _publish(steps, exported)
    return exported


def _publish(steps: Steps, exported: list[Exported]) -> None:
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
    markdown = (
        "# export-datasets\n\n"
        + "\n".join(
            f"- `{r['dataset']}` v{r['version']}"
            + (" (new)" if r["new_version"] else " (unchanged)")
            for r in rows
        )
        + "\n\nTrainers: `scicurate datasets pull NAME@vN --to DIR` verifies every checksum."
    )
    steps.publish("export-datasets", markdown=markdown, table=rows)
