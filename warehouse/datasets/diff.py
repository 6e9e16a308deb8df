"""Differences between two versions, by stable sample id."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from warehouse.datasets.read import verify


@dataclass(frozen=True)
class VersionDiff:
    added: int
    removed: int
    changed: int
    unchanged: int
    examples: dict[str, list[str]] = field(default_factory=dict)


def diff_versions(a: Path, b: Path, *, examples: int = 5) -> VersionDiff:
    """Rows added, removed and changed from version ``a`` to ``b`` (all splits together)."""
    files = []
    for path in (a, b):
        manifest = verify(path)
        files.append([str(path / e["path"]) for e in manifest["files"] if "split" in e])
    con = duckdb.connect()
    try:
        for alias, paths in zip(("va", "vb"), files, strict=True):
            con.execute(
                f"CREATE TEMP TABLE {alias} AS SELECT sample_id, md5(to_json(t)) AS h "
                "FROM read_parquet(?) t",
                [paths],
            ).fetchall()
        counts = con.execute(
            "SELECT count(*) FILTER (WHERE va.sample_id IS NULL), "
            "count(*) FILTER (WHERE vb.sample_id IS NULL), "
            "count(*) FILTER (WHERE va.h <> vb.h), count(*) FILTER (WHERE va.h = vb.h) "
            "FROM va FULL OUTER JOIN vb USING (sample_id)"
        ).fetchall()[0]
        picks = {}
        for label, where in (
            ("added", "va.sample_id IS NULL"),
            ("removed", "vb.sample_id IS NULL"),
            ("changed", "va.h <> vb.h"),
        ):
            picks[label] = [
                r[0]
                for r in con.execute(
                    f"SELECT coalesce(va.sample_id, vb.sample_id) AS id FROM va FULL OUTER JOIN "
                    f"vb USING (sample_id) WHERE {where} ORDER BY id LIMIT {int(examples)}"
                ).fetchall()
            ]
    finally:
        con.close()
    added, removed, changed, unchanged = (int(c) for c in counts)
    return VersionDiff(added, removed, changed, unchanged, examples=picks)
