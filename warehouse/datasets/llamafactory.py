"""One LLaMA-Factory ``dataset_dir`` for several dataset versions, so they mix in one run.

Layout of the export folder::

    dataset_info.json          one entry per split of every chosen version (``name``,
                               ``name_validation``…), file names relative to this folder
    export.json                the versions, and every file with its sha256
    <name>-v<N>/<split>/…      the version's Parquet files: symlinks (default) or copies

Every source version is verified against its manifest first, and every linked or copied file
again after, so the folder a trainer points at holds exactly the published bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warehouse.datasets.files import sha256_file
from warehouse.datasets.model import LLAMAFACTORY, DatasetIntegrityError
from warehouse.datasets.read import resolve, verify

EXPORT = "export.json"


@dataclass(frozen=True)
class ExportedVersion:
    name: str
    version: int
    stage: str  # pt | sft | dpo (or rm)
    train: str | None  # the dataset_info key of its train split
    evals: tuple[str, ...]  # the keys of its validation/test splits


def stage_of_entry(entry: dict[str, Any]) -> str:
    if entry.get("ranking"):
        return "dpo"
    if set(entry.get("columns", {})) == {"prompt"}:
        return "pt"
    return "sft"


def export_llamafactory(
    root: Path, dest: Path, refs: list[tuple[str, int | None]], *, copy: bool = False
) -> list[ExportedVersion]:
    """Write ``dest`` (new or empty) with the chosen versions of several datasets."""
    names = [name for name, _ in refs]
    if len(set(names)) != len(names):
        raise DatasetIntegrityError("name each dataset once (one version per dataset and run)")
    if dest.exists() and any(dest.iterdir()):
        raise DatasetIntegrityError(f"{dest} is not empty; export into a new directory")
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}-{uuid.uuid4().hex[:6]}.partial")
    tmp.mkdir(parents=True)
    info: dict[str, Any] = {}
    listed: list[dict[str, Any]] = []
    out: list[ExportedVersion] = []
    try:
        for name, version in refs:
            source = resolve(root, name, version)
            manifest = verify(source)
            entries: dict[str, Any] = json.loads((source / LLAMAFACTORY).read_text())
            folder = f"{name}-v{manifest['version']}"
            keys: dict[str, str] = {}
            for split in manifest["rows"]:
                files = [f for f in manifest["files"] if f.get("split") == split]
                for f in files:
                    rel = f"{folder}/{split}/{Path(f['path']).name}"
                    target = tmp / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if copy:
                        shutil.copyfile(source / f["path"], target)
                    else:
                        target.symlink_to((source / f["path"]).resolve())
                    if sha256_file(target) != f["sha256"]:
                        raise DatasetIntegrityError(f"{rel} changed while it was exported")
                    listed.append({"path": rel, "sha256": f["sha256"], "bytes": f["bytes"]})
                key = name if split == "train" else f"{name}_{split}"
                entry = dict(entries.get(key) or next(iter(entries.values())))
                entry["file_name"] = (
                    f"{folder}/{split}/{Path(files[0]['path']).name}"
                    if len(files) == 1
                    else f"{folder}/{split}"
                )
                info[key] = entry
                keys[split] = key
            stage = stage_of_entry(next(iter(entries.values())))
            evals = tuple(k for s, k in keys.items() if s != "train")
            out.append(ExportedVersion(name, manifest["version"], stage, keys.get("train"), evals))
        (tmp / LLAMAFACTORY).write_text(json.dumps(info, indent=2) + "\n")
        summary = {
            "versions": [{"name": v.name, "version": v.version, "stage": v.stage} for v in out],
            "mode": "copy" if copy else "symlink",
            "files": listed,
        }
        (tmp / EXPORT).write_text(json.dumps(summary, indent=2) + "\n")
        if dest.exists():
            dest.rmdir()
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def verify_export(dest: Path) -> int:
    """Check every file of an export against ``export.json``; return how many there are."""
    summary = json.loads((dest / EXPORT).read_text())
    for f in summary["files"]:
        path = dest / f["path"]
        if not path.is_file() or sha256_file(path) != f["sha256"]:
            raise DatasetIntegrityError(f"{path} does not match export.json")
    return len(summary["files"])
