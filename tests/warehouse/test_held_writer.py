"""Warehouse.writer(): consecutive transactions on one held connection, let go on time."""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from warehouse import RetryPolicy, Warehouse
from warehouse.papers import count_papers

CTX = mp.get_context("spawn")


def _try_write(path: str) -> None:
    """Exit 0 when this process could write within 0.3 s, 3 when the file stayed locked."""
    from warehouse.errors import LockTimeoutError

    try:
        with Warehouse(Path(path), retry=RetryPolicy(timeout=0.3)).write() as con:
            con.execute(
                "INSERT INTO crawl_state (source, scope) VALUES ('other', 'process') "
                "ON CONFLICT DO NOTHING"
            )
    except LockTimeoutError:
        raise SystemExit(3) from None


def _other_process_can_write(wh: Warehouse) -> bool:
    proc = CTX.Process(target=_try_write, args=(str(wh.path),))
    proc.start()
    proc.join(timeout=60)
    assert proc.exitcode in (0, 3), proc.exitcode
    return proc.exitcode == 0


def test_transactions_share_one_connection_until_released(wh: Warehouse) -> None:
    with wh.writer(hold_s=3600) as writer:
        with writer.transaction() as first:
            first.execute("INSERT INTO crawl_state (source, scope) VALUES ('a', '1')")
        with writer.transaction() as second:
            second.execute("INSERT INTO crawl_state (source, scope) VALUES ('a', '2')")
        assert first is second
        # Reads on the same handle work beside the held connection (DuckDB refuses a read-only
        # connection to a file this process holds open for writing), in another thread too,
        # and so do plain writes; they see the committed rows.
        with wh.read() as con:
            assert con.execute("SELECT count(*) FROM crawl_state").fetchall() == [(2,)]
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(count_papers, wh).result() == 0
        with wh.write() as con:
            con.execute("INSERT INTO crawl_state (source, scope) VALUES ('a', '3')")
        with writer.transaction() as con:
            assert con.execute("SELECT count(*) FROM crawl_state").fetchall() == [(3,)]
        # Meanwhile another process cannot get at the file.
        assert not _other_process_can_write(wh)
    assert _other_process_can_write(wh)  # let go when the block ends
    with wh.read() as con:
        assert con.execute("SELECT count(*) FROM crawl_state").fetchall() == [(4,)]


def test_the_connection_is_let_go_once_held_long_enough(wh: Warehouse) -> None:
    with wh.writer(hold_s=0) as writer:
        with writer.transaction() as con:
            con.execute("INSERT INTO crawl_state (source, scope) VALUES ('a', '1')")
        assert _other_process_can_write(wh)  # released after the commit
        with writer.transaction() as con:  # and reopened for the next transaction
            con.execute("INSERT INTO crawl_state (source, scope) VALUES ('a', '2')")
    with wh.read() as con:
        assert con.execute("SELECT count(*) FROM crawl_state").fetchall() == [(3,)]


def test_a_failed_transaction_rolls_back_and_lets_go(wh: Warehouse) -> None:
    with wh.writer(hold_s=3600) as writer:
        with writer.transaction() as con:
            con.execute("INSERT INTO crawl_state (source, scope) VALUES ('kept', '1')")
        with pytest.raises(RuntimeError, match="boom"), writer.transaction() as con:
            con.execute("INSERT INTO crawl_state (source, scope) VALUES ('lost', '1')")
            raise RuntimeError("boom")
        assert _other_process_can_write(wh)
    with wh.read() as con:
        assert con.execute("SELECT source FROM crawl_state ORDER BY 1").fetchall() == [
            ("kept",),
            ("other",),
        ]


def test_in_memory_warehouse_writes_through_the_writer(mem_wh: Warehouse) -> None:
    with mem_wh.writer() as writer, writer.transaction() as con:
        con.execute("INSERT INTO crawl_state (source, scope) VALUES ('a', '1')")
    with mem_wh.read() as con:
        assert con.execute("SELECT count(*) FROM crawl_state").fetchall() == [(1,)]


def test_a_warehouse_crosses_processes_with_its_settings(tmp_path: Path) -> None:
    """Pickled as its spec: the lock timeout and memory limit survive a task or worker hop."""
    import pickle

    from warehouse import WarehouseSpec

    spec = WarehouseSpec(str(tmp_path / "w.duckdb"), lock_timeout_s=7.5, memory_limit="256MB")
    wh = spec.open()
    clone = pickle.loads(pickle.dumps(wh))
    assert clone.spec == spec == wh.spec
    assert clone.retry.timeout == 7.5 and clone.memory_limit == "256MB"
    with pytest.raises(TypeError, match="in-memory"):
        pickle.dumps(Warehouse(":memory:"))
