"""PDFs on object storage (any fsspec URI: ``s3://bucket/prefix``, ``file:///mnt/shared``).

With a store configured, every verified PDF is mirrored there under the same path-safe
layout as on local disk, and the URI is recorded in ``pdfs.store_uri``; local disk becomes a
cache. A machine whose cache lacks a file (a GPU worker, a fresh node) fetches it from the
store before parsing, and checks its sha256 against the catalog.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warehouse.db import Warehouse
from warehouse.errors import WarehouseError


class PdfStoreError(WarehouseError):
    """A PDF could not be copied to or from the object store, or its checksum is wrong."""


@dataclass
class PdfStore:
    uri: str
    storage_options: dict[str, Any] = field(default_factory=dict)

    def _fs(self) -> tuple[Any, str]:
        import fsspec

        fs, root = fsspec.core.url_to_fs(self.uri.rstrip("/"), **self.storage_options)
        return fs, root

    def url_for(self, rel: str) -> str:
        return f"{self.uri.rstrip('/')}/{rel}"

    def mirror(self, wh: Warehouse, home: Path) -> int:
        """Upload verified PDFs that are not in the store yet; returns how many."""
        with wh.read() as con:
            rows = con.execute(
                "SELECT paper_id, \"version\", path FROM pdfs WHERE status = 'ok' "
                "AND path IS NOT NULL AND (store_uri IS NULL OR store_uri NOT LIKE ? || '%')",
                [self.uri.rstrip("/")],
            ).fetchall()
        fs, root = self._fs()
        done = 0
        for paper_id, version, rel in rows:
            local = home / rel
            if not local.is_file():
                continue  # nothing to upload from this machine
            target = f"{root}/{rel}"
            try:
                fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
                fs.put_file(str(local), target)
            except OSError as exc:
                raise PdfStoreError(f"cannot upload {rel} to {self.uri}: {exc}") from None
            with wh.write() as con:
                con.execute(
                    'UPDATE pdfs SET store_uri = ? WHERE paper_id = ? AND "version" = ?',
                    [self.url_for(rel), paper_id, version],
                )
            done += 1
        return done


def materialise(
    local: Path, store_uri: str | None, sha256: str, storage_options: dict[str, Any]
) -> Path:
    """The local path of a verified PDF, fetched from its store URI when the cache lacks it."""
    if local.is_file() or not store_uri:
        return local  # there, or not mirrored (the parser then reports the missing file)
    import fsspec

    local.parent.mkdir(parents=True, exist_ok=True)
    part = local.with_name(f".{local.name}.{os.getpid()}.part")
    try:
        with fsspec.open(store_uri, "rb", **storage_options) as src:
            data = src.read()
    except OSError as exc:
        raise PdfStoreError(f"cannot fetch {store_uri}: {exc}") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise PdfStoreError(f"{store_uri}: checksum mismatch with the catalog")
    part.write_bytes(data)
    part.replace(local)
    return local
