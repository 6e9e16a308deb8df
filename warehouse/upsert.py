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

from warehouse.db import fetch_int, fetch_one

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
    whether a row changed; if the view lacks it, it is computed in DuckDB (see ``row_hash``),
    leaving out the keys and ``hash_exclude`` (fields such as ``source`` that do not make a
    record different). With ``change_column=None`` every existing row counts as changed.
    Duplicate keys keep the row with the highest ``order_column``. ``touch`` lists columns set
    to the current time when a row is inserted or changed.

    With ``merge_prefer_existing`` (a SQL condition over ``b``, the incoming row, and ``t``, the
    stored one), incoming NULLs never erase stored values: where the condition holds the stored
    value wins and the incoming one only fills gaps, otherwise the incoming value wins. The
    change hash is computed over the merged row.

    Work is done only where it is needed: the batch is deduplicated only when it holds a key
    twice, only rows whose key is stored are merged and compared, and new rows go straight
    from the batch into the table.
    """
    cols = list(columns)
    for key in keys:
        if key not in cols:
            raise ValueError(f"key column {key!r} missing from the batch for {table}")
    qt, qv = quote_ident(table), quote_ident(view)
    qkeys = [quote_ident(k) for k in keys]
    join = " AND ".join(f"t.{k} = b.{k}" for k in qkeys)
    rows, distinct = fetch_one(
        con, f"SELECT count(*), count(DISTINCT ({', '.join(qkeys)})) FROM {qv}"
    ) or (0, 0)
    source = qv
    if rows > distinct:
        source = (
            f"(SELECT * FROM {qv} QUALIFY row_number() OVER "
            f"(PARTITION BY {', '.join(qkeys)} ORDER BY {quote_ident(order_column)} DESC) = 1)"
        )
    qc = quote_ident(change_column) if change_column else ""
    hashed = [c for c in cols if c not in keys and c not in hash_exclude]
    computes_hash = bool(change_column) and change_column not in cols
    hash_expr = row_hash(hashed) if computes_hash else ""
    touched = [quote_ident(c) for c in touch if c not in cols]
    qcols = [quote_ident(c) for c in cols]
    all_cols = qcols + ([qc] if computes_hash else [])
    set_cols = [c for c in all_cols if c not in qkeys]

    # Rows whose key is stored. With a computed hash, an incoming row that hashes like the
    # stored one is unchanged (merging equal values changes nothing); that is settled from
    # the key and hash columns alone, and only the other rows are merged with their whole
    # stored row, which is what a re-import of unchanged data would otherwise read in full.
    b_keys = ", ".join(f"b.{k}" for k in qkeys)
    if computes_hash:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _scicurate_stored AS SELECT {b_keys}, "
            f"{row_hash(hashed, alias='b')} = t.{qc} AS same "
            f"FROM {source} AS b JOIN {qt} AS t ON {join}"
        ).fetchall()
        existing, same = fetch_one(
            con, "SELECT count(*), count(*) FILTER (WHERE same) FROM _scicurate_stored"
        ) or (0, 0)
        s_join = " AND ".join(f"s.{k} = b.{k}" for k in qkeys)
        to_merge = f"{source} AS b JOIN _scicurate_stored AS s ON {s_join} AND NOT s.same"
    else:
        existing = fetch_int(con, f"SELECT count(*) FROM {source} AS b JOIN {qt} AS t ON {join}")
        same = 0
        to_merge = f"{source} AS b"
    known = "_scicurate_stored" if computes_hash else "_scicurate_merged"

    updated = 0
    if existing - same:
        if merge_prefer_existing:
            merged = [
                f"b.{q}"
                if c in keys
                else f"CASE WHEN ({merge_prefer_existing}) THEN coalesce(t.{q}, b.{q}) "
                f"ELSE coalesce(b.{q}, t.{q}) END AS {q}"
                for c in cols
                for q in [quote_ident(c)]
            ]
        else:
            merged = [f"b.{q}" for q in qcols]
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _scicurate_merged AS SELECT {', '.join(merged)} "
            f"FROM {to_merge} JOIN {qt} AS t ON {join}"
        ).fetchall()
        if set_cols or touched:
            values = qcols + ([f"{hash_expr} AS {qc}"] if hash_expr else [])
            assignments = [f"{c} = m.{c}" for c in set_cols]
            assignments += [f"{c} = get_current_timestamp()" for c in touched]
            where = " AND ".join(f"{qt}.{k} = m.{k}" for k in qkeys)
            if qc:
                where += f" AND {qt}.{qc} IS DISTINCT FROM m.{qc}"
            updated = fetch_int(
                con,
                f"UPDATE {qt} SET {', '.join(assignments)} "
                f"FROM (SELECT {', '.join(values)} FROM _scicurate_merged) AS m WHERE {where}",
            )

    # New keys: straight from the batch, anti-joined against the stored keys just found (a
    # far smaller table than the target).
    inserted = 0
    if distinct > existing:
        values = [f"b.{c}" for c in qcols] + ([hash_expr] if hash_expr else [])
        k_join = " AND ".join(f"k.{k} = b.{k}" for k in qkeys)
        new_only = f" WHERE NOT EXISTS (SELECT 1 FROM {known} AS k WHERE {k_join})"
        inserted = fetch_int(
            con,
            f"INSERT INTO {qt} ({', '.join(all_cols + touched)}) "
            f"SELECT {', '.join(values)}{''.join(', get_current_timestamp()' for _ in touched)} "
            f"FROM {source} AS b{new_only if existing else ''}",
        )
    con.execute(
        "DROP TABLE IF EXISTS _scicurate_stored; DROP TABLE IF EXISTS _scicurate_merged"
    ).fetchall()
    return UpsertResult(inserted, updated, existing - updated)


def row_hash(columns: Sequence[str], *, alias: str | None = None) -> str:
    """SQL for a row's change hash over ``columns``: DuckDB's 64-bit ``hash()`` of a struct.

    It only has to tell a stored row from an incoming one with the same key, and it is about
    eight times cheaper than an md5 of the row's JSON. If a DuckDB upgrade ever changed
    ``hash()``, the next re-import would count its rows as updated once and rewrite them with
    the same values; nothing would be lost.
    """
    prefix = f"{alias}." if alias else ""
    pairs = ", ".join(f"{c!r}: {prefix}{quote_ident(c)}" for c in columns)
    return f"hash({{{pairs}}})::VARCHAR"
