"""Arrow upserts: counts, idempotence, in-batch duplicates, identifier safety."""

from __future__ import annotations

import pyarrow as pa
import pytest

from warehouse import Warehouse
from warehouse.upsert import UpsertResult, quote_ident, upsert_arrow


def _rows(*items: tuple[str, str, str]) -> pa.Table:
    return pa.table(
        {
            "source": [i[0] for i in items],
            "scope": [i[1] for i in items],
            "watermark": [i[2] for i in items],
        }
    )


def test_insert_update_unchanged_counts(mem_wh: Warehouse) -> None:
    with mem_wh.write() as con:
        first = upsert_arrow(
            con,
            "crawl_state",
            _rows(("oai", "cs", "2026-01-01"), ("oai", "math", "2026-01-02")),
            ["source", "scope"],
            change_column="watermark",
        )
        again = upsert_arrow(
            con,
            "crawl_state",
            _rows(("oai", "cs", "2026-01-01"), ("oai", "math", "2026-02-01"), ("api", "x", "1")),
            ["source", "scope"],
            change_column="watermark",
        )
        rows = con.execute("SELECT * EXCLUDE (updated_at) FROM crawl_state ORDER BY ALL").fetchall()
    assert first == UpsertResult(inserted=2)
    assert again == UpsertResult(inserted=1, updated=1, unchanged=1)
    assert rows == [
        ("api", "x", "1", None),
        ("oai", "cs", "2026-01-01", None),
        ("oai", "math", "2026-02-01", None),
    ]


def test_duplicate_keys_in_one_batch_keep_the_last(mem_wh: Warehouse) -> None:
    with mem_wh.write() as con:
        result = upsert_arrow(
            con,
            "crawl_state",
            _rows(("oai", "cs", "old"), ("oai", "cs", "new")),
            ["source", "scope"],
            change_column="watermark",
        )
        assert con.execute("SELECT watermark FROM crawl_state").fetchall() == [("new",)]
    assert result == UpsertResult(inserted=1)


def test_empty_batch_is_a_no_op(mem_wh: Warehouse) -> None:
    with mem_wh.write() as con:
        assert upsert_arrow(con, "crawl_state", _rows(), ["source", "scope"]) == UpsertResult()


def test_failed_upsert_rolls_back_the_transaction(mem_wh: Warehouse) -> None:
    bad = pa.table({"source": ["a"], "scope": ["b"], "no_such_column": ["c"]})
    with pytest.raises(Exception, match="no_such_column"), mem_wh.write() as con:
        con.execute("INSERT INTO crawl_state (source, scope) VALUES ('kept?', 'no')")
        upsert_arrow(con, "crawl_state", bad, ["source", "scope"], change_column=None)
    with mem_wh.read() as con:
        assert con.execute("SELECT count(*) FROM crawl_state").fetchall() == [(0,)]


def test_missing_key_column_is_rejected(mem_wh: Warehouse) -> None:
    with pytest.raises(ValueError, match="key column"), mem_wh.write() as con:
        upsert_arrow(con, "crawl_state", _rows(("a", "b", "c")), ["nope"])


@pytest.mark.parametrize("name", ['a"; DROP TABLE papers; --', "1abc", "a b", ""])
def test_identifiers_are_checked(name: str) -> None:
    with pytest.raises(ValueError, match="identifier"):
        quote_ident(name)


def _papers(*rows: tuple[str, str]) -> pa.Table:
    return pa.table(
        {
            "paper_id": [r[0] for r in rows],
            "source": ["arxiv-oai"] * len(rows),
            "title": [r[1] for r in rows],
        }
    )


def test_mixed_batch_inserts_updates_and_leaves_alone(mem_wh: Warehouse) -> None:
    with mem_wh.write() as con:
        first = upsert_arrow(con, "papers", _papers(("1", "a"), ("2", "b")), ["paper_id"])
        hashes = dict(con.execute("SELECT paper_id, content_hash FROM papers").fetchall())
        batch = _papers(("1", "a"), ("2", "b, revised"), ("3", "c"), ("3", "c, later"))
        again = upsert_arrow(con, "papers", batch, ["paper_id"])
        rows = con.execute("SELECT paper_id, title, content_hash FROM papers ORDER BY 1").fetchall()
    assert first == UpsertResult(inserted=2)
    assert again == UpsertResult(inserted=1, updated=1, unchanged=1)
    assert [r[:2] for r in rows] == [("1", "a"), ("2", "b, revised"), ("3", "c, later")]
    assert rows[0][2] == hashes["1"]  # unchanged row, unchanged hash
    assert rows[1][2] != hashes["2"]  # the change shows in the hash


def test_without_a_change_column_every_stored_row_is_updated(mem_wh: Warehouse) -> None:
    rows = _rows(("oai", "cs", "1"), ("oai", "math", "2"))
    with mem_wh.write() as con:
        upsert_arrow(con, "crawl_state", rows, ["source", "scope"], change_column=None)
        again = upsert_arrow(con, "crawl_state", rows, ["source", "scope"], change_column=None)
    assert again == UpsertResult(updated=2)
