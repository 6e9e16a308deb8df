"""The flows route-feedback and sync-annotations, and the annotate CLI, on a real Label Studio."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotation.client import LabelStudioClient
from annotation.sample import sample_feedback, write_jsonl
from annotation.server import LabelStudioServer
from cli.app import command
from cli.errors import run_cli
from tests.labelstudio_helpers import FAST, ls_env
from tests.prefect_helpers import artifact_rows
from warehouse import Warehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_route_then_sync_flows_publish_artifacts(
    tmp_path: Path,
    label_studio: LabelStudioServer,
    project_title: str,
    prefect_harness: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flows.feedback import route_feedback_flow, sync_annotations_flow

    home = tmp_path / "home"
    for key, value in ls_env(label_studio, home, project_title).items():
        monkeypatch.setenv(key, value)
    records = sample_feedback(80, seed=21)
    inbox = home / "feedback" / "inbox"
    write_jsonl(records, inbox / "batch-1.jsonl")
    (inbox / "broken.parquet").write_bytes(b"not parquet")

    state = route_feedback_flow(return_state=True)
    out = state.result()
    consented = [r for r in records if r["user_consent"]]
    negatives = sum(1 for r in consented if r["rating"] == "down")
    assert out == {
        "ingested": len(consented), "rejected": 0,
        "no_consent": len(records) - len(consented), "pushed": negatives, "queue_depth": 0,
    }  # fmt: skip
    assert (home / "feedback" / "done" / "batch-1.jsonl").exists()
    assert (home / "feedback" / "refused" / "broken.parquet.reason.txt").exists()
    rows = {
        r["what"]: r["value"]
        for r in artifact_rows("route-feedback", state.state_details.flow_run_id)
    }
    assert rows["pushed"] == negatives and rows["queue depth (not yet in Label Studio)"] == 0
    assert rows["in Label Studio, not decided"] == negatives

    with LabelStudioClient(label_studio.url, label_studio.api_key, FAST) as client:
        from annotation.push import ensure_project

        project = ensure_project(client, project_title)
        tasks = list(client.iter_tasks(project))
        for task in tasks[:6]:
            client.create_annotation(
                task["id"],
                [
                    {"from_name": "error_type", "to_name": "answer", "type": "choices",
                     "value": {"choices": ["instruction_following"]}},
                    {"from_name": "corrected_answer", "to_name": "answer", "type": "textarea",
                     "value": {"text": [f"- fixed {task['id']}"]}},
                ],
            )  # fmt: skip
    state = sync_annotations_flow(return_state=True)
    assert state.result()["consensus"] == {"consensus": 6}
    rows = {
        r["what"]: r["value"]
        for r in artifact_rows("sync-annotations", state.state_details.flow_run_id)
    }
    assert rows["new"] == 6 and rows["annotations: instruction_following"] == 6
    assert rows["rows routed: preference-pairs"] == 6 and rows["rows routed: sft-corrections"] == 6
    assert "agreement (Fleiss' kappa)" in rows
    wh = Warehouse(home / "warehouse.duckdb")
    with wh.read() as con:
        assert con.execute(
            "SELECT flow, status FROM runs WHERE flow IN ('route-feedback', 'sync-annotations') "
            "ORDER BY started_at"
        ).fetchall() == [("route-feedback", "completed"), ("sync-annotations", "completed")]


def test_annotate_cli_push_sync_stats(
    tmp_path: Path,
    label_studio: LabelStudioServer,
    project_title: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = tmp_path / "home"
    for key, value in ls_env(label_studio, home, project_title).items():
        monkeypatch.setenv(key, value)
    path = write_jsonl(sample_feedback(30, seed=4), tmp_path / "f.jsonl")
    assert run_cli(command(), ["feedback", "ingest", str(path)]) == 0
    assert run_cli(command(), ["annotate", "push", "--batch-size", "5"]) == 0
    out = capsys.readouterr().out
    assert "tasks pushed" in out and label_studio.url in out
    assert label_studio.api_key not in out  # the key never reaches the terminal
    assert run_cli(command(), ["annotate", "sync"]) == 0
    out = capsys.readouterr().out
    assert "0 new annotations" in out
    # One job, one run name, whoever runs it (the CLI used to record "annotate-sync").
    with Warehouse(home / "warehouse.duckdb").read() as con:
        names = [r[0] for r in con.execute("SELECT flow FROM runs ORDER BY started_at").fetchall()]
    assert names.count("sync-annotations") == 1 and "annotate-sync" not in names
    assert run_cli(command(), ["annotate", "stats"]) == 0
    assert "queue depth" in capsys.readouterr().out
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "0" * 40)
    assert run_cli(command(), ["annotate", "push"]) == 1
    err = capsys.readouterr().err
    assert "HTTP 401" in err and "0" * 40 not in err
