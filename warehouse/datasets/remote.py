"""Copying versions to and from object storage (any fsspec URI: ``s3://``, ``file://``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import fsspec

from warehouse.datasets.model import MANIFEST, DatasetIntegrityError, DatasetNotFoundError
from warehouse.datasets.read import pull_local, verify


def _fs(uri: str, storage_options: dict[str, Any] | None) -> tuple[Any, str]:
    fs, root = fsspec.core.url_to_fs(uri, **(storage_options or {}))
    return fs, root.rstrip("/")


def publish_remote(
    version_dir: Path, uri: str, *, storage_options: dict[str, Any] | None = None
) -> str:
    """Upload a verified version to ``<uri>/<name>/v<N>/``; the manifest goes last, so a
    remote version without one is incomplete and never pulled. Returns the remote path."""
    manifest = verify(version_dir)
    fs, root = _fs(uri, storage_options)
    target = f"{root}/{manifest['name']}/v{manifest['version']}"
    if fs.exists(f"{target}/{MANIFEST}"):
        remote = json.loads(fs.cat_file(f"{target}/{MANIFEST}"))
        if remote["content_hash"] != manifest["content_hash"]:
            raise DatasetIntegrityError(
                f"{target} already holds a different v{manifest['version']}; versions are "
                "immutable, so nothing was overwritten"
            )
        return target
    folders = {entry["path"].rpartition("/")[0] for entry in manifest["files"]} - {""}
    for folder in sorted(folders):  # needed by local paths; harmless on S3
        fs.makedirs(f"{target}/{folder}", exist_ok=True)
    for entry in manifest["files"]:
        fs.put_file(str(version_dir / entry["path"]), f"{target}/{entry['path']}")
    fs.put_file(str(version_dir / MANIFEST), f"{target}/{MANIFEST}")
    return target


def pull_remote(
    uri: str,
    name: str,
    version: int | None,
    dest: Path,
    *,
    storage_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Download ``name`` (latest or ``version``) from ``uri`` into ``dest``, verified."""
    fs, root = _fs(uri, storage_options)
    base = f"{root}/{name}"
    if version is None:
        found = [
            int(p.rstrip("/").rsplit("/v", 1)[1])
            for p in (fs.ls(base, detail=False) if fs.exists(base) else [])
            if p.rstrip("/").rsplit("/", 1)[-1][1:].isdigit() and fs.exists(f"{p}/{MANIFEST}")
        ]
        if not found:
            raise DatasetNotFoundError(f"no versions of {name} at {uri}")
        version = max(found)
    source = f"{base}/v{version}"
    if not fs.exists(f"{source}/{MANIFEST}"):
        raise DatasetNotFoundError(f"{name} v{version} is not at {uri} (or is incomplete)")
    staging = dest.with_name(f".{dest.name}.download")
    staging.mkdir(parents=True, exist_ok=True)
    manifest = json.loads(fs.cat_file(f"{source}/{MANIFEST}"))
    for entry in manifest["files"]:
        local = staging / entry["path"]
        local.parent.mkdir(parents=True, exist_ok=True)
        fs.get_file(f"{source}/{entry['path']}", str(local))
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    try:
        return pull_local(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
