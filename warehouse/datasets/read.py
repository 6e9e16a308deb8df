"""Reading published versions: resolve, verify, list, load, and pull to a directory."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.datasets.catalog import version_dirs
from warehouse.datasets.files import sha256_file
from warehouse.datasets.model import (
    MANIFEST,
    DatasetIntegrityError,
    DatasetNotFoundError,
    check_name,
)


def resolve(root: Path, name: str, version: int | None = None) -> Path:
    """The directory of ``name`` at ``version`` (default: the latest)."""
    check_name(name)
    versions = dict(version_dirs(root, name))
    if not versions:
        raise DatasetNotFoundError(
            f"no dataset {name!r} under {root}; see `scicurate datasets list`"
        )
    chosen = max(versions) if version is None else version
    if chosen not in versions:
        raise DatasetNotFoundError(
            f"{name} has no v{chosen}; versions: {', '.join(f'v{v}' for v in sorted(versions))}"
        )
    return versions[chosen]


def read_manifest(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((path / MANIFEST).read_text())
    return data


def verify(path: Path) -> dict[str, Any]:
    """Check every file against the manifest; raise naming the first file that differs."""
    manifest = read_manifest(path)
    listed = set()
    for entry in manifest["files"]:
        listed.add(entry["path"])
        file = path / entry["path"]
        if not file.is_file():
            raise DatasetIntegrityError(f"{file} is missing (listed in the manifest)")
        if file.stat().st_size != entry["bytes"] or sha256_file(file) != entry["sha256"]:
            raise DatasetIntegrityError(
                f"{file} does not match its manifest checksum: the file was modified or "
                "corrupted; pull the version again from its source"
            )
    extra = {str(p.relative_to(path)) for p in (path / "data").rglob("*") if p.is_file()} - listed
    if extra:
        raise DatasetIntegrityError(f"{path} has files not in its manifest: {sorted(extra)}")
    return manifest


def list_versions(root: Path) -> list[dict[str, Any]]:
    """One summary per dataset version, oldest first within each dataset."""
    out: list[dict[str, Any]] = []
    if not root.is_dir():
        return out
    for base in sorted(p for p in root.iterdir() if p.is_dir()):
        for version, path in version_dirs(root, base.name):
            m = read_manifest(path)
            out.append(
                {
                    "name": base.name, "version": version, "rows": m["rows"],
                    "created_at": m["created_at"], "builder": m["builder"]["name"],
                    "path": str(path),
                }
            )  # fmt: skip
    return out


def load(root: Path, name: str, version: int | None = None, split: str | None = None) -> pa.Table:
    """The rows of a verified version as one Arrow table (with a ``split`` column when all
    splits are loaded)."""
    path = resolve(root, name, version)
    manifest = verify(path)
    tables = []
    for entry in manifest["files"]:
        if "split" not in entry or (split is not None and entry["split"] != split):
            continue
        table = pq.read_table(path / entry["path"])
        if split is None:
            table = table.append_column("split", pa.array([entry["split"]] * table.num_rows))
        tables.append(table)
    if not tables:
        raise DatasetNotFoundError(f"{name} v{manifest['version']} has no split {split!r}")
    return pa.concat_tables(tables)


def pull_local(source: Path, dest: Path) -> dict[str, Any]:
    """Copy a verified version directory to ``dest`` and verify the copy."""
    manifest = verify(source)
    if dest.exists() and any(dest.iterdir()):
        raise DatasetIntegrityError(f"{dest} is not empty; pull into a new directory")
    tmp = dest.with_name(f".{dest.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    for entry in [*manifest["files"], {"path": MANIFEST}]:
        target = tmp / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / entry["path"], target)
    verify(tmp)
    if dest.exists():
        dest.rmdir()
    tmp.rename(dest)
    return manifest
