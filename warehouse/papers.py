"""Reading and writing papers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

import duckdb

from core.records import Paper, paper_from_row, papers_to_arrow
from warehouse.db import Warehouse, fetch_int
from warehouse.upsert import UpsertResult, upsert_arrow

DEFAULT_BATCH = 5000

# Which source describes a paper best. A lower-ranked source (the API, which lacks submitter,
# versions and licence) only fills gaps in a record that a higher-ranked one wrote, and a
# record with fewer versions than the stored one (an older snapshot) never overwrites it.
SOURCE_RANK = {"arxiv-api": 1, "openreview": 1, "arxiv-oai": 2, "arxiv-snapshot": 2}
_RANK = (
    "CASE {side}.source "
    + " ".join(f"WHEN '{name}' THEN {rank}" for name, rank in SOURCE_RANK.items())
    + " ELSE 0 END"
)
PREFER_EXISTING = (
    f"({_RANK.format(side='b')}) < ({_RANK.format(side='t')}) "
    "OR coalesce(len(b.versions), 0) < coalesce(len(t.versions), 0)"
)


def _batched(items: Iterable[Paper], size: int) -> Iterator[list[Paper]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def store_papers(con: duckdb.DuckDBPyConnection, papers: list[Paper]) -> UpsertResult:
    """Upsert papers inside the caller's transaction (merging with what is stored)."""
    if not papers:
        return UpsertResult()
    return upsert_arrow(
        con,
        "papers",
        papers_to_arrow(papers),
        ["paper_id"],
        hash_exclude=["source"],  # the same paper from another path is not a change
        touch=["last_changed"],
        merge_prefer_existing=PREFER_EXISTING,
    )


def upsert_papers(
    wh: Warehouse, papers: Iterable[Paper], *, batch_size: int = DEFAULT_BATCH
) -> UpsertResult:
    """Insert new papers and update changed ones, one short transaction per batch."""
    total = UpsertResult()
    for batch in _batched(papers, batch_size):
        with wh.write() as con:
            total += store_papers(con, batch)
    return total


def get_paper(wh: Warehouse, paper_id: str) -> Paper | None:
    with wh.read() as con:
        cur = con.execute("SELECT * FROM papers WHERE paper_id = ?", [paper_id])
        rows = cur.fetchall()
        if not rows:
            return None
        row = rows[0]
        names = [d[0] for d in cur.description]
    return paper_from_row(dict(zip(names, row, strict=True)))


def count_papers(wh: Warehouse) -> int:
    with wh.read() as con:
        return fetch_int(con, "SELECT count(*) FROM papers")
