"""The byte bound of task imports: rendered pages make tasks of hundreds of KB, and Label Studio
answers an over-large request with a misleading HTTP 500, so every import call stays within
``max_import_bytes`` of JSON (32 MiB by default), each task is imported exactly once, and a
rerun imports nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from annotation.client import LabelStudioClient
from annotation.page_view import page_view, page_worker
from annotation.push import MAX_IMPORT_BYTES, import_groups, json_size, push_negatives, task_for
from annotation.server import LabelStudioServer
from tests.annotation.stored_paper import PAPER, ingest, negative, store_paper
from tests.labelstudio_helpers import FAST
from warehouse import Warehouse


def _compact(tasks: list[dict[str, Any]]) -> bytes:
    return json.dumps(tasks, separators=(",", ":"), default=str).encode()


def test_groups_stay_within_the_real_default_bound() -> None:
    image = "data:image/jpeg;base64," + "A" * 300_000  # a page of figures: about 300 KB
    tasks = [
        task_for({**negative(f"f{i}", page=2), "feedback_id": f"f{i}", "page_image": image,
                  "comment": None})
        for i in range(120)
    ]  # fmt: skip
    groups = list(import_groups(tasks, json_size))
    assert [len(g) for g in groups] == [111, 9]  # 36 MB of tasks: two calls, none over 32 MiB
    assert all(len(_compact(g)) <= MAX_IMPORT_BYTES for g in groups)  # the bytes really sent
    assert len(_compact(groups[0])) > MAX_IMPORT_BYTES - 300_500  # the first call is full
    assert [t for g in groups for t in g] == tasks  # in order, each once


def test_groups_at_the_edge_and_a_task_over_the_bound() -> None:
    def size(n: int) -> int:
        return n

    # [a,b] is 2 brackets + a + b + 1 comma: 12 bytes for items of 4 and 5
    assert list(import_groups([4, 5], size, max_bytes=12)) == [[4, 5]]
    assert list(import_groups([4, 5], size, max_bytes=11)) == [[4], [5]]
    assert list(import_groups([3, 50, 3, 3], size, max_bytes=12)) == [[3], [50], [3, 3]]
    assert list(import_groups([], size)) == []


@pytest.mark.integration
@pytest.mark.slow
def test_a_push_over_the_bound_is_split_into_calls_within_it(
    wh: Warehouse, tmp_path: Path, label_studio: LabelStudioServer, project_title: str
) -> None:
    store_paper(wh, tmp_path)
    with page_worker() as worker:
        view = page_view(wh, worker, tmp_path, PAPER, 2)
    assert view is not None
    page_task = json_size(task_for({**negative("x", page=2), "feedback_id": "x"}, view))
    assert page_task > 20_000  # a real rendered page
    bound = 3 * page_task + 1000  # three page tasks a call at most
    records = [negative(f"fb-page-{i}", page=2) for i in range(10)]
    records += [negative(f"fb-none-{i}", page=None) for i in range(6)]
    ingest(wh, tmp_path / "neg.jsonl", records)

    calls: list[tuple[int, int]] = []  # (bytes of the body sent, tasks in it)

    def record(request: httpx.Request) -> None:
        if request.method == "POST" and request.url.path.endswith("/import"):
            calls.append((len(request.content), len(json.loads(request.content))))

    with LabelStudioClient(label_studio.url, label_studio.api_key, FAST) as client:
        client._http.event_hooks["request"].append(record)  # the bodies really sent
        pushed = push_negatives(
            wh, client, project_title=project_title, home=tmp_path, max_import_bytes=bound
        )
        assert pushed.pushed == 16 and pushed.batches == len(calls) >= 4
        assert all(size <= bound for size, _ in calls), calls
        assert sum(n for _, n in calls) == 16
        fids = [t["data"]["feedback_id"] for t in client.iter_tasks(pushed.project_id)]
        assert sorted(fids) == sorted(r["id"] for r in records)  # each exactly once

        calls.clear()
        again = push_negatives(
            wh, client, project_title=project_title, home=tmp_path, max_import_bytes=bound
        )
        assert (again.pushed, again.reconciled, calls) == (0, 0, [])
        assert len(list(client.iter_tasks(pushed.project_id))) == 16
    with wh.read() as con:
        assert con.execute(
            "SELECT count(*), count(page_image) FROM feedback WHERE state = 'pushed'"
        ).fetchone() == (16, 10)
