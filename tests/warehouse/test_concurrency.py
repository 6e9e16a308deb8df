"""Two real processes writing the same catalog at once both succeed."""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
from pathlib import Path
from typing import Any

import pytest

from tests.warehouse.test_papers import FULL
from warehouse import RetryPolicy, Warehouse
from warehouse.errors import LockTimeoutError
from warehouse.papers import count_papers, upsert_papers
from warehouse.runs import finish_run, start_run

CTX = mp.get_context("spawn")


def _writer(path: str, prefix: str, batches: int, start: Any, result: Any) -> None:
    """Child process: wait for the start signal, then write batches, holding each a while."""
    import time

    wh = Warehouse(Path(path), retry=RetryPolicy(timeout=60))
    start.wait()
    for b in range(batches):
        papers = [dataclasses.replace(FULL, paper_id=f"{prefix}.{b:03d}{i:03d}") for i in range(50)]
        upsert_papers(wh, papers)
        with wh.write() as con:  # a write transaction that holds the lock for a moment
            con.execute(
                "INSERT INTO rejects (source, input, line_no, reason) VALUES (?, ?, ?, 'test')",
                [prefix, "x", b],
            )
            time.sleep(0.05)
    run = start_run(wh, f"writer-{prefix}", {"batches": batches})
    finish_run(wh, run.run_id, counts={"batches": batches})
    result.put((prefix, wh.lock_waits))


def _holder(path: str, seconds: float, ready: Any) -> None:
    import time

    with Warehouse(Path(path)).write():
        ready.set()
        time.sleep(seconds)


def test_two_processes_write_at_once(wh: Warehouse) -> None:
    start, result = CTX.Event(), CTX.Queue()
    procs = [
        CTX.Process(target=_writer, args=(str(wh.path), prefix, 10, start, result))
        for prefix in ("2401", "2402")
    ]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0, f"writer exited with {p.exitcode}"
    outcomes = dict(result.get(timeout=5) for _ in procs)
    assert set(outcomes) == {"2401", "2402"}
    # The lock really was contended: at least one writer had to wait and retry.
    assert sum(outcomes.values()) > 0
    assert count_papers(wh) == 2 * 10 * 50
    with wh.read() as con:
        assert con.execute("SELECT count(*) FROM rejects").fetchall() == [(20,)]
        assert con.execute("SELECT count(*) FROM runs WHERE status = 'completed'").fetchall() == [
            (2,)
        ]


def test_lock_held_too_long_is_a_named_error(wh: Warehouse) -> None:
    ready = CTX.Event()
    holder = CTX.Process(target=_holder, args=(str(wh.path), 3.0, ready))
    holder.start()
    try:
        assert ready.wait(timeout=30)
        impatient = Warehouse(wh.path, retry=RetryPolicy(timeout=0.3))
        with pytest.raises(LockTimeoutError, match="stayed locked"), impatient.write():
            pass
        assert impatient.lock_waits > 0
    finally:
        holder.join(timeout=30)
    # Once the holder is gone the same handle writes fine.
    with Warehouse(wh.path).write() as con:
        con.execute("INSERT INTO crawl_state (source, scope) VALUES ('a', 'b')")
