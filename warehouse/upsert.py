"""Idempotent, batched upserts from Arrow tables.

Rows are written through Arrow, one INSERT for new keys and one UPDATE for changed rows per
batch. A row whose key exists and whose change hash is unchanged is left alone, so re-running
a crawl or an import rewrites nothing and the counts say so.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from warehouse.db import fetch_int

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_VIEW = "_scicurate_batch"


def quote_ident(name: str) -> str:
    """Quote a column or table name after checking it is a plain identifier."""
    if not _IDENT.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return f'"{name}"'


@dataclass(frozen=True)
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged


def upsert_arrow(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: pa.Table,
    keys: Sequence[str],
    *,
    change_column: str | None = "content_hash",
    hash_exclude: Sequence[str] = (),
    touch: Sequence[str] = (),
    merge_prefer_existing: str | None = None,
) -> UpsertResult:
    """Upsert an Arrow table; see ``upsert_view`` for the rules."""
    if rows.num_rows == 0:
        return UpsertResult()
    con.register(_VIEW, rows.append_column("_ord", pa.array(range(rows.num_rows), pa.int64())))
    try:
        return upsert_view(
            con,
            table,
            _VIEW,
            list(rows.column_names),
            keys,
            order_column="_ord",
            change_column=change_column,
            hash_exclude=hash_exclude,
            touch=touch,
            merge_prefer_existing=merge_prefer_existing,
        )
    finally:
        # After a failed statement the transaction is aborted and DuckDB refuses even this;
        # the view then dies with the rollback, and the original error is what matters.
        with contextlib.suppress(duckdb.TransactionException):
            con.unregister(_VIEW)


def upsert_view(
    con: duckdb.DuckDBPyConnection,
    table: str,
    view: str,
    columns: Sequence[str],
    keys: Sequence[str],
    *,
    order_column: str,
    change_column: str | None = "content_hash",
    hash_exclude: Sequence[str] = (),
    touch: Sequence[str] = (),
    merge_prefer_existing: str | None = None,
) -> UpsertResult:
    """Insert the rows of ``view`` into ``table``, updating rows whose key exists and changed.

    ``columns`` are the view's columns to write. ``change_column`` names the column that tells
    whether a row changed; if the view lacks it, it is computed in DuckDB as the md5 of the
    row's JSON, leaving out the keys and ``hash_exclude`` (fields such as ``source`` that do
    not make a record different). With ``change_column=None`` every existing row counts as
    changed. Duplicate keys keep the row with the highest ``order_column``. ``touch`` lists
    columns set to the current time when a row is inserted or changed.

    With ``merge_prefer_existing`` (a SQL condition over ``b``, the incoming row, and ``t``, the
    stored one), incoming NULLs never erase stored values: where the condition holds the stored
    value wins and the incoming one only fills gaps, otherwise the incoming value wins. The
    change hash is computed over the merged row.
    """
    cols = list(columns)
    for key in keys:
        if key not in cols:
            raise ValueError(f"key column {key!r} missing from the batch for {table}")
    qt = quote_ident(table)
    qkeys = [quote_ident(k) for k in keys]
    latest = (
        f"SELECT * FROM {quote_ident(view)} QUALIFY row_number() OVER "
        f"(PARTITION BY {', '.join(qkeys)} ORDER BY {quote_ident(order_column)} DESC) = 1"
    )
    if merge_prefer_existing:
        join_on = " AND ".join(f"t.{k} = b.{k}" for k in qkeys)
        exprs = [
            f"b.{q}"
            if c in keys
            else f"CASE WHEN t.{qkeys[0]} IS NULL THEN b.{q} WHEN ({merge_prefer_existing}) "
            f"THEN coalesce(t.{q}, b.{q}) ELSE coalesce(b.{q}, t.{q}) END AS {q}"
            for c in cols
            for q in [quote_ident(c)]
        ]
        source = f"(SELECT {', '.join(exprs)} FROM ({latest}) b LEFT JOIN {qt} t ON {join_on})"
    else:
        source = f"({latest})"
    select = [quote_ident(c) for c in cols]
    if change_column and change_column not in cols:
        hashed = [quote_ident(c) for c in cols if c not in keys and c not in hash_exclude]
        pairs = ", ".join(f"{c[1:-1]!r}: {c}" for c in hashed)
        select.append(f"md5(to_json({{{pairs}}})::VARCHAR) AS {quote_ident(change_column)}")
        cols.append(change_column)
    qcols = [quote_ident(c) for c in cols]
    touched = [quote_ident(c) for c in touch if c not in cols]

    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _scicurate_dedup AS "
        f"SELECT {', '.join(select)} FROM {source} AS m"
    ).fetchall()
    distinct = fetch_int(con, "SELECT count(*) FROM _scicurate_dedup")
    join = " AND ".join(f"t.{k} = b.{k}" for k in qkeys)
    inserted = fetch_int(
        con,
        f"INSERT INTO {qt} ({', '.join(qcols + touched)}) "
        f"SELECT {', '.join(f'b.{c}' for c in qcols)}"
        f"{''.join(', get_current_timestamp()' for _ in touched)} "
        f"FROM _scicurate_dedup b WHERE NOT EXISTS (SELECT 1 FROM {qt} t WHERE {join})",
    )
    updated = 0
    set_cols = [c for c in qcols if c not in qkeys]
    if distinct > inserted and (set_cols or touched):
        assignments = [f"{c} = b.{c}" for c in set_cols]
        assignments += [f"{c} = get_current_timestamp()" for c in touched]
        where = join.replace("t.", f"{qt}.")
        if change_column:
            qc = quote_ident(change_column)
            where += f" AND {qt}.{qc} IS DISTINCT FROM b.{qc}"
        updated = fetch_int(
            con,
            f"UPDATE {qt} SET {', '.join(assignments)} FROM _scicurate_dedup b WHERE {where}",
        )
    con.execute("DROP TABLE _scicurate_dedup").fetchall()
    return UpsertResult(inserted, updated, distinct - inserted - updated)
