"""Keeping the ``datasets``/``dataset_versions`` tables in step with what is on disk.

Versions on disk are immutable and authoritative: a version directory with a manifest exists
only after its atomic rename. The catalog rows are derived from the manifests, so a publish
killed between the rename and the catalog insert is repaired by the next ``sync_catalog``.
"""

from __future__ import annotations

import json
from pathlib import Path

from warehouse.datasets.files import sha256_file
from warehouse.datasets.model import MANIFEST
from warehouse.db import Warehouse


def version_dirs(root: Path, name: str) -> list[tuple[int, Path]]:
    base = root / name
    if not base.is_dir():
        return []
    found = []
    for entry in base.iterdir():
        if entry.name.startswith("v") and entry.name[1:].isdigit() and (entry / MANIFEST).is_file():
            found.append((int(entry.name[1:]), entry))
    return sorted(found)


def sync_catalog(wh: Warehouse, root: Path, name: str | None = None) -> int:
    """Insert catalog rows for versions on disk that lack them. Returns rows added."""
    names = (
        [name]
        if name
        else sorted(p.name for p in root.iterdir() if p.is_dir())
        if root.is_dir()
        else []
    )
    added = 0
    for dataset in names:
        versions = version_dirs(root, dataset)
        if not versions:
            continue
        with wh.write() as con:
            known = {
                r[0]
                for r in con.execute(
                    'SELECT "version" FROM dataset_versions WHERE name = ?', [dataset]
                ).fetchall()
            }
            for version, path in versions:
                if version in known:
                    continue
                m = json.loads((path / MANIFEST).read_text())
                con.execute(
                    "INSERT INTO datasets (name, description) VALUES (?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET description = excluded.description",
                    [dataset, m.get("description")],
                ).fetchall()
                con.execute(
                    'INSERT INTO dataset_versions (name, "version", parent_version, path, '
                    "content_hash, manifest_sha256, rows, splits, builder, builder_version, "
                    "params, run_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    'ON CONFLICT (name, "version") DO NOTHING',
                    [
                        dataset, version, m.get("parent_version"), str(path), m["content_hash"],
                        sha256_file(path / MANIFEST), sum(m["rows"].values()),
                        json.dumps(m["rows"]),
                        m["builder"]["name"], m["builder"]["version"],
                        json.dumps(m["builder"]["params"], sort_keys=True), m.get("run_id"),
                        m["created_at"],
                    ],
                ).fetchall()  # fmt: skip
                added += 1
    return added
