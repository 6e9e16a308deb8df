"""Publishing a dataset version: immutable, atomic, checksummed, deduplicated by content.

Layout of ``<root>/<name>/v<N>/``::

    data/<split>/<split>-00000-of-0000K.parquet   zstd Parquet, sorted by sample_id
    README.md                                     HF dataset card (YAML configs per split)
    dataset_info.json                             LLaMA-Factory entries
    manifest.json                                 versions, rows, schema, files with sha256,
                                                  lineage

Each split has a folder of its own, so a reader pointed at a split's folder (LLaMA-Factory's
``file_name`` when a split has several files, the card's ``data/<split>/*.parquet``) reads that
split and no other. A split has more than one file when it has more than ``rows_per_file`` rows.

A version is written into a temporary directory, fsynced, then renamed into place, so a
publish killed at any moment leaves no visible version. Publishers of one dataset serialise on
a lock file, so two at once cannot take the same version number. Content identical to the
latest version (same rows, same schema) publishes nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from core.fs import pid_alive
from warehouse.datasets.card import llamafactory_entry, render_card
from warehouse.datasets.catalog import sync_catalog, version_dirs
from warehouse.datasets.files import exclusive_lock, fsync_path, sha256_file
from warehouse.datasets.model import (
    CARD,
    LLAMAFACTORY,
    MANIFEST,
    SPLIT,
    BuilderInfo,
    DatasetCard,
    DatasetError,
    PublishResult,
    check_name,
)
from warehouse.db import Warehouse

ROWS_PER_FILE = 2_000_000
ROW_GROUP = 100_000


def content_hash(schema: pa.Schema, files: list[dict[str, Any]]) -> str:
    """A hash of the schema and every data file's sha256 (files are written deterministically
    from rows sorted by sample_id, so equal rows give equal files)."""
    digest = hashlib.sha256(schema.to_string().encode())
    for entry in sorted(files, key=lambda e: e["path"]):
        digest.update(f"{entry['path']}:{entry['sha256']}\n".encode())
    return digest.hexdigest()


def _prepare(splits: Mapping[str, pa.Table]) -> dict[str, pa.Table]:
    if not splits:
        raise DatasetError("a dataset needs at least one split")
    schema = None
    prepared = {}
    for split, table in splits.items():
        if not SPLIT.match(split):
            raise DatasetError(f"split name {split!r} must be lowercase, like train")
        if "sample_id" not in table.column_names:
            raise DatasetError(f"split {split} has no sample_id column")
        if schema is not None and not table.schema.equals(schema):
            raise DatasetError(f"split {split} has a different schema from the others")
        schema = table.schema
        ids = table.column("sample_id")
        if ids.null_count:
            raise DatasetError(f"split {split}: every row needs a sample_id")
        # Rows are stored sorted by sample_id, so the same rows always give the same files.
        order = pc.sort_indices(ids)
        table = table.take(order).combine_chunks()
        ids = table.column("sample_id")
        if len(ids) > 1 and pc.any(pc.equal(ids.slice(1), ids.slice(0, len(ids) - 1))).as_py():
            raise DatasetError(f"split {split}: sample_id must be unique")
        prepared[split] = table
    return prepared


def _remove_stale_temps(base: Path) -> None:
    for entry in base.glob(".tmp-*"):
        pid = entry.name.split("-")[1]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def publish(
    wh: Warehouse,
    root: Path,
    name: str,
    splits: Mapping[str, pa.Table],
    card: DatasetCard,
    builder: BuilderInfo,
    *,
    run_id: str | None = None,
    snapshot: dict[str, Any] | None = None,
    rows_per_file: int = ROWS_PER_FILE,
) -> PublishResult:
    """Publish ``splits`` as the next version of ``name`` under ``root`` (or reuse the latest
    version if the content is the same). ``snapshot`` describes the warehouse state the rows
    were built from."""
    check_name(name)
    tables = _prepare(splits)
    rows = {split: t.num_rows for split, t in tables.items()}
    base = root / name
    base.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(base / ".lock"):
        _remove_stale_temps(base)
        existing = version_dirs(root, name)
        parent = existing[-1][0] if existing else None
        version = (parent or 0) + 1
        tmp = base / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        files_by_split: dict[str, list[str]] = {}
        files: list[dict[str, Any]] = []
        for split, table in tables.items():
            k = max(1, math.ceil(table.num_rows / rows_per_file))
            files_by_split[split] = []
            (tmp / "data" / split).mkdir(parents=True)
            for i in range(k):
                rel = f"data/{split}/{split}-{i:05d}-of-{k:05d}.parquet"
                part = table.slice(i * rows_per_file, rows_per_file)
                pq.write_table(
                    part, tmp / rel, compression="zstd", row_group_size=ROW_GROUP,
                    write_statistics=True,
                )  # fmt: skip
                fsync_path(tmp / rel)
                files_by_split[split].append(rel)
                files.append(
                    {
                        "path": rel, "split": split, "rows": part.num_rows,
                        "sha256": sha256_file(tmp / rel), "bytes": (tmp / rel).stat().st_size,
                    }
                )  # fmt: skip
        schema = next(iter(tables.values())).schema
        digest = content_hash(schema, files)
        if existing:
            latest_version, latest_path = existing[-1]
            if json.loads((latest_path / MANIFEST).read_text())["content_hash"] == digest:
                shutil.rmtree(tmp)  # same rows as the latest version: publish nothing
                sync_catalog(wh, root, name)
                return PublishResult(name, latest_version, latest_path, False, rows)
        extra = {
            "builder": {"name": builder.name, "version": builder.version, "params": builder.params},
            "parent_version": parent,
            "scicurate_version": package_version("scicurate"),
        }
        (tmp / CARD).write_text(
            render_card(
                name,
                version,
                card,
                schema,
                files_by_split,
                rows,
                extra,
                {split: t.nbytes for split, t in tables.items()},
            ),
            encoding="utf-8",
        )
        (tmp / LLAMAFACTORY).write_text(
            json.dumps(llamafactory_entry(name, card, files_by_split), indent=2) + "\n"
        )
        for extra_file in (CARD, LLAMAFACTORY):
            path = tmp / extra_file
            files.append(
                {"path": extra_file, "sha256": sha256_file(path), "bytes": path.stat().st_size}
            )
        manifest = {
            "name": name,
            "version": version,
            "description": card.description,
            "created_at": datetime.now(UTC).replace(tzinfo=None).isoformat(),
            "content_hash": digest,
            "rows": rows,
            "schema": [{"name": f.name, "type": str(f.type)} for f in schema],
            "files": files,
            "run_id": run_id,
            "warehouse_snapshot": snapshot or {},
            **extra,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        written = [tmp / MANIFEST, tmp / CARD, tmp / LLAMAFACTORY]
        for path in [*written, *(tmp / "data" / split for split in tables), tmp / "data", tmp]:
            fsync_path(path)
        final = base / f"v{version}"
        tmp.rename(final)  # atomic: the version appears whole or not at all
        fsync_path(base)
        sync_catalog(wh, root, name)
    return PublishResult(name, version, final, True, rows)
