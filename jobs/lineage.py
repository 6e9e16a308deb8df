"""Recording each flow run in the warehouse's ``runs`` table."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from warehouse.db import Warehouse
from warehouse.runs import finish_run, start_run


def current_prefect_run_id() -> str | None:
    """The Prefect flow-run id when called inside a flow run, else None."""
    if "prefect" not in sys.modules:
        return None  # not under Prefect; importing it here would cost seconds for nothing
    from prefect.runtime import flow_run

    run_id = flow_run.id
    return str(run_id) if run_id else None


_claimed: set[str] = set()  # Prefect flow-run ids already given to a job in this process
_claimed_lock = threading.Lock()


def _run_id_for_job() -> str | None:
    """The Prefect flow-run id for the first job a flow run records, None (a fresh id) for any
    later or nested one, so two jobs of one flow run never share a ``runs`` row."""
    run_id = current_prefect_run_id()
    if run_id is None:
        return None
    with _claimed_lock:
        if run_id in _claimed:
            return None
        _claimed.add(run_id)
    return run_id


class RunCounts(dict[str, Any]):
    """The counts (and, for a training run, the metrics) a run reports, and the id it is
    recorded under."""

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id


@contextmanager
def recorded_run(wh: Warehouse, flow: str, params: dict[str, Any]) -> Iterator[RunCounts]:
    """Record a run around the block; the block fills the yielded counts. Inside a Prefect
    flow run, the first job recorded takes the flow run's id (lineage to the UI).

    The run is marked ``failed`` with the error's message if the block raises.
    """
    run = start_run(wh, flow, params, run_id=_run_id_for_job())
    counts = RunCounts(run.run_id)
    try:
        yield counts
    except BaseException as exc:
        finish_run(wh, run.run_id, counts=counts, error=f"{type(exc).__name__}: {exc}"[:1000])
        raise
    finish_run(wh, run.run_id, counts=counts)
