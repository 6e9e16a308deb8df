"""The whole loop against a real Label Studio: ingest -> push -> annotate via the API (as experts
would) -> sync -> route -> new dataset versions; plus outage, reconciliation and escaping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from annotation.client import LabelStudioClient
from annotation.config import label_config
from annotation.errors import LabelStudioAPIError, LabelStudioUnavailableError
from annotation.ingest import ingest_file
from annotation.push import push_negatives
from annotation.sample import sample_feedback, write_jsonl
from annotation.server import LabelStudioServer
from annotation.stats import collect_stats
from annotation.sync import sync_annotations
from jobs.feedback import route_feedback
from tests.labelstudio_helpers import FAST
from warehouse import Warehouse, migrate
from warehouse.datasets import load

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _negatives(n: int, seed: int = 11) -> list[dict[str, Any]]:
    """Exactly ``n`` consented negative records."""
    out = [
        r
        for r in sample_feedback(4 * n, seed=seed, negative_share=0.5)
        if r["rating"] == "down" and r["user_consent"]
    ]
    assert len(out) >= n
    return out[:n]


def _choices(*types: str) -> dict[str, Any]:
    return {
        "from_name": "error_type", "to_name": "answer", "type": "choices",
        "value": {"choices": list(types)},
    }  # fmt: skip


def _text(name: str, text: str, to: str = "answer", region: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "from_name": name, "to_name": to, "type": "textarea", "value": {"text": [text]},
    }  # fmt: skip
    if region:
        item["id"] = region
        item["value"].update({"x": 10.0, "y": 20.0, "width": 30.0, "height": 5.0})
    return item


def _region(region: str, label: str) -> dict[str, Any]:
    return {
        "id": region, "from_name": "regions", "to_name": "page", "type": "rectanglelabels",
        "original_width": 1, "original_height": 1,
        "value": {"x": 10.0, "y": 20.0, "width": 30.0, "height": 5.0, "rotation": 0,
                  "rectanglelabels": [label]},
    }  # fmt: skip


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    migrate(warehouse)
    return warehouse


def test_labeling_config_is_validated_by_the_server(ls_client: LabelStudioClient) -> None:
    ls_client.validate_config(label_config())  # accepted as it is
    broken = label_config().replace('toName="page"', 'toName="no-such-object"')
    with pytest.raises(LabelStudioAPIError, match="no-such-object"):
        ls_client.validate_config(broken)


def test_whole_loop_push_annotate_sync_route_publish(
    wh: Warehouse, tmp_path: Path, ls_client: LabelStudioClient, project_title: str
) -> None:
    records = _negatives(200)
    records[0]["query"] = "<script>alert('x')</script> What is <b>attention</b>?"
    ingest_file(wh, write_jsonl(records, tmp_path / "neg.jsonl"))
    pushed = push_negatives(wh, ls_client, project_title=project_title, batch_size=64)
    assert (pushed.pushed, pushed.batches) == (200, 4)
    project = pushed.project_id
    tasks = {t["data"]["feedback_id"]: t for t in ls_client.iter_tasks(project)}
    assert len(tasks) == 200
    assert all(t["total_predictions"] == 1 for t in tasks.values())
    first = tasks[records[0]["id"]]["data"]["query_html"]
    assert "&lt;script&gt;" in first and "<script>" not in first and "<b>" not in first

    users = {
        "a": ls_client.create_user("alice@lab.example", "alice"),
        "b": ls_client.create_user("bob@lab.example", "bob"),
    }
    ids = [tasks[r["id"]]["id"] for r in records]

    def annotate(i: int, who: str, result: list[dict[str, Any]], **kw: Any) -> int:
        return ls_client.create_annotation(ids[i], result, completed_by=users[who], **kw)

    for i in range(10):  # two experts agree: retrieval
        for who in "ab":
            annotate(i, who, [_choices("retrieval"), _text("corrected_answer", f"right {i}")])
    for i in range(10, 15):  # two experts disagree: a tie, flagged, not routed
        annotate(i, "a", [_choices("domain_knowledge"), _text("corrected_answer", "x")])
        annotate(i, "b", [_choices("instruction_following"), _text("corrected_answer", "y")])
    for i in range(15, 20):  # instruction following: sft-corrections + preference-pairs
        annotate(
            i, "a", [_choices("instruction_following"), _text("corrected_answer", f"- a\n- b {i}")]
        )
    for i in range(20, 25):  # a misread formula, boxed with its correct markup
        annotate(
            i,
            "b",
            [
                _choices("multimodal"),
                _region(f"r{i}", "formula"),
                _text("region_markup", f"\\frac{{a}}{{{i}}}", to="page", region=f"r{i}"),
            ],
        )
    for i in range(25, 30):  # domain knowledge: sft-corrections
        annotate(i, "a", [_choices("domain_knowledge"), _text("corrected_answer", f"science {i}")])
    edited = annotate(30, "a", [_choices("domain_knowledge"), _text("corrected_answer", "first")])
    deleted = annotate(31, "b", [_choices("retrieval"), _text("corrected_answer", "gone")])
    annotate(32, "a", [], was_cancelled=True)  # a skip
    annotate(33, "b", [_choices("not_an_error")])

    first_sync = sync_annotations(wh, ls_client, project)
    assert (first_sync.new, first_sync.edited, first_sync.deleted) == (49, 0, 0)
    assert first_sync.skipped == 1

    ls_client.update_annotation(
        edited, [_choices("retrieval"), _text("corrected_answer", "second thoughts")]
    )
    ls_client.delete_annotation(deleted)
    second = sync_annotations(wh, ls_client, project)
    assert (second.new, second.edited, second.deleted) == (0, 1, 1)
    # incremental: the two changed tasks, plus those updated in the last second before the
    # watermark (re-read on purpose, so updates in the same instant are never lost)
    assert 2 <= second.tasks_seen < 60

    with wh.read() as con:
        history = con.execute(
            "SELECT revision, corrected_answer, is_current, is_deleted FROM annotations "
            "WHERE annotation_id = ? ORDER BY revision",
            [edited],
        ).fetchall()
        assert history == [(1, "first", False, False), (2, "second thoughts", True, False)]
        assert con.execute(
            "SELECT revision, is_current, is_deleted FROM annotations WHERE annotation_id = ? "
            "ORDER BY revision",
            [deleted],
        ).fetchall() == [(1, False, False), (2, True, True)]
        status = dict(
            con.execute("SELECT status, count(*) FROM task_consensus GROUP BY 1").fetchall()
        )
    # 10 retrieval + 5 instruction + 5 multimodal + 5 domain + 1 edited to retrieval
    assert status == {"consensus": 26, "tie": 5, "skipped": 1, "not_error": 1}

    exported = {e.result.name: e.result for e in route_feedback(wh, tmp_path / "datasets")}
    root = tmp_path / "datasets"
    rag = load(root, "rag-retrieval", exported["rag-retrieval"].version)
    assert rag.num_rows == 11
    assert set(rag.column("answer").to_pylist()) == {f"right {i}" for i in range(10)} | {
        "second thoughts"
    }
    assert all(len(n) == 1 for n in rag.column("hard_negatives").to_pylist())
    sft = load(root, "sft-corrections", exported["sft-corrections"].version)
    assert sft.num_rows == 10  # 5 instruction + 5 domain; ties never routed
    assert not {"x", "y"} & set(sft.column("output").to_pylist())
    pairs = load(root, "preference-pairs", exported["preference-pairs"].version)
    assert pairs.num_rows == 5
    assert all(c.startswith("- a") for c in pairs.column("chosen").to_pylist())
    assert set(pairs.column("rejected").to_pylist()) <= {r["answer"] for r in records}
    info = json.loads((exported["preference-pairs"].path / "dataset_info.json").read_text())
    assert info["preference-pairs"]["ranking"] is True
    parser = load(root, "parser-corrections", exported["parser-corrections"].version)
    assert parser.num_rows == 5
    assert parser.column("region_label").to_pylist() == ["formula"] * 5
    assert sorted(parser.column("corrected_markup").to_pylist()) == sorted(
        f"\\frac{{a}}{{{i}}}" for i in range(20, 25)
    )
    assert parser.column("bbox").to_pylist()[0] == [10.0, 20.0, 30.0, 5.0]
    assert "cpt-reinforcement" not in exported  # no parsed documents in this warehouse

    stats = collect_stats(wh)
    # Fleiss' kappa on 15 two-annotator tasks: 10 agree, 5 split domain/instruction:
    # P_e = (20/30)^2 + 2 (5/30)^2 = 0.5, P_bar = 10/15, kappa = (2/3 - 1/2) / (1/2) = 1/3
    assert stats.fleiss_kappa == pytest.approx(1 / 3)
    assert stats.multi_annotated_tasks == 15
    assert stats.rows_routed["rag-retrieval"] == 11
    assert stats.annotations_by_annotator["alice@lab.example"] >= 20
    with wh.read() as con:
        states = dict(con.execute("SELECT state, count(*) FROM feedback GROUP BY 1").fetchall())
    assert states == {"routed": 26, "review": 5, "annotated": 1, "pushed": 168}

    again = route_feedback(wh, root)
    assert not any(e.result.created for e in again)  # nothing changed: no new versions
    assert push_negatives(wh, ls_client, project_title=project_title).pushed == 0


def test_outage_during_push_then_rerun_has_no_duplicates(
    wh: Warehouse, tmp_path: Path, label_studio: LabelStudioServer, project_title: str
) -> None:
    ingest_file(wh, write_jsonl(_negatives(200, seed=5), tmp_path / "neg.jsonl"))
    with LabelStudioClient(label_studio.url, label_studio.api_key, FAST) as client:

        def stop_after_two_batches(done: int, total: int) -> None:
            if done == 100:
                label_studio.stop()

        try:
            with pytest.raises(LabelStudioUnavailableError, match="unavailable"):
                push_negatives(
                    wh, client, project_title=project_title, batch_size=50,
                    progress=stop_after_two_batches,
                )  # fmt: skip
        finally:
            label_studio.start()  # same port, data and token
        with wh.read() as con:
            assert con.execute("SELECT count(*) FROM annotation_tasks").fetchone() == (100,)
        resumed = push_negatives(wh, client, project_title=project_title, batch_size=50)
        assert resumed.pushed == 100 and resumed.reconciled == 0
        project = resumed.project_id
        fids = [t["data"]["feedback_id"] for t in client.iter_tasks(project)]
        assert len(fids) == len(set(fids)) == 200

        # An import that reached Label Studio but whose answer was lost: the mapping is
        # missing locally. The next push recovers it instead of creating the tasks again.
        with wh.write() as con:
            con.execute(
                "DELETE FROM annotation_tasks WHERE feedback_id IN "
                "(SELECT feedback_id FROM annotation_tasks ORDER BY task_id DESC LIMIT 30)"
            )
            con.execute("UPDATE feedback SET state = 'queued' WHERE feedback_id NOT IN "
                        "(SELECT feedback_id FROM annotation_tasks)")  # fmt: skip
        healed = push_negatives(wh, client, project_title=project_title)
        assert (healed.reconciled, healed.pushed) == (30, 0)
        assert len(list(client.iter_tasks(project))) == 200
        with wh.read() as con:
            assert con.execute(
                "SELECT count(*), count(DISTINCT task_id) FROM annotation_tasks"
            ).fetchone() == (200, 200)
            assert con.execute(
                "SELECT count(*) FROM feedback WHERE state = 'pushed'"
            ).fetchone() == (200,)
