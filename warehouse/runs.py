"""Run lineage: every flow run records its parameters, counts and outcome."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from core.records import RunRecord
from warehouse.db import Warehouse, fetch_one


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def start_run(
    wh: Warehouse, flow: str, params: dict[str, Any], *, run_id: str | None = None
) -> RunRecord:
    """Record that ``flow`` started. ``run_id`` defaults to a fresh UUID."""
    record = RunRecord(
        run_id=run_id or str(uuid.uuid4()),
        flow=flow,
        started_at=_now(),
        status="running",
        params=params,
    )
    with wh.write() as con:
        con.execute(
            "INSERT INTO runs (run_id, flow, params, started_at, status) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (run_id) DO UPDATE SET started_at = excluded.started_at, "
            "status = excluded.status, finished_at = NULL, error = NULL",
            [
                record.run_id,
                flow,
                json.dumps(params, default=str, sort_keys=True),
                record.started_at,
                record.status,
            ],
        )
    return record


def finish_run(
    wh: Warehouse, run_id: str, *, counts: dict[str, Any], error: str | None = None
) -> None:
    """Record the end of a run: ``completed`` without ``error``, else ``failed``."""
    with wh.write() as con:
        con.execute(
            "UPDATE runs SET finished_at = ?, status = ?, counts = ?, error = ? WHERE run_id = ?",
            [
                _now(),
                "failed" if error else "completed",
                json.dumps(counts, sort_keys=True),
                error,
                run_id,
            ],
        )


def _record(row: tuple[Any, ...]) -> RunRecord:
    run_id, flow, params, started, finished, status, counts, error = row
    return RunRecord(
        run_id=run_id,
        flow=flow,
        params=json.loads(params) if params else {},
        started_at=started,
        finished_at=finished,
        status=status,
        counts=json.loads(counts) if counts else {},
        error=error,
    )


_COLUMNS = "run_id, flow, params, started_at, finished_at, status, counts, error"


def get_run(wh: Warehouse, run_id: str) -> RunRecord | None:
    with wh.read() as con:
        row = fetch_one(con, f"SELECT {_COLUMNS} FROM runs WHERE run_id = ?", [run_id])
    return _record(row) if row else None


def last_runs(wh: Warehouse) -> list[RunRecord]:
    """The most recent run of each flow, newest first."""
    with wh.read() as con:
        rows = con.execute(
            f"SELECT {_COLUMNS} FROM runs "
            "QUALIFY row_number() OVER (PARTITION BY flow ORDER BY started_at DESC) = 1 "
            "ORDER BY started_at DESC"
        ).fetchall()
    return [_record(r) for r in rows]
