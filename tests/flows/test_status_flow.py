"""The status flow runs on a real (ephemeral) Prefect API and publishes its artifacts."""

from __future__ import annotations

import dataclasses

import pytest

from flows.status import status_flow, status_markdown
from tests.prefect_helpers import artifact_rows
from tests.warehouse.test_papers import FULL
from warehouse import Warehouse
from warehouse.papers import upsert_papers
from warehouse.status import collect_status


@pytest.mark.usefixtures("prefect_harness")
def test_status_flow_publishes_table_artifact(wh: Warehouse) -> None:
    upsert_papers(wh, [dataclasses.replace(FULL, paper_id=f"p{i}") for i in range(4)])
    with wh.write() as con:
        con.execute(
            "INSERT INTO pdfs (paper_id, version, url, status, reason) "
            "VALUES ('p0', 'v1', 'u', 'quarantined', 'truncated PDF')"
        )

    state = status_flow(str(wh.path.parent), return_state=True)  # type: ignore[union-attr]
    assert state.is_completed()
    report = state.result()
    assert report.count("papers") == 4

    # the console formatter Prefect configured puts the run id in every flow-run log line
    import logging

    [handler] = [
        h for h in logging.getLogger().handlers if type(h).__name__ == "PrefectConsoleHandler"
    ]
    record = logging.LogRecord("prefect.flow_runs", logging.INFO, __file__, 1, "hi", None, None)
    record.flow_run_name, record.flow_run_id = "a-run", str(state.state_details.flow_run_id)
    assert f"'a-run' {state.state_details.flow_run_id} - hi" in handler.format(record)
    rows = artifact_rows("status", state.state_details.flow_run_id)
    counts = {r["stage"]: r["count"] for r in rows}
    assert counts["papers"] == 4
    assert counts["pdfs quarantined"] == 1


def test_status_markdown_lists_problems_and_next_steps(mem_wh: Warehouse) -> None:
    assert "No failures" in status_markdown(collect_status(mem_wh))
    with mem_wh.write() as con:
        con.execute(
            "INSERT INTO rejects (source, input, line_no, reason) "
            "VALUES ('arxiv-snapshot', 'f', 3, 'bad JSON')"
        )
    text = status_markdown(collect_status(mem_wh))
    assert "1 in `rejects`: arxiv-snapshot: bad JSON" in text
    assert "Next:" in text
