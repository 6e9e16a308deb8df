"""Label Studio round trip: push 10,000 tasks with predictions, sync 10,000 annotations.

Starts a real Label Studio (from .venv-labelstudio) on loopback. Push: ``push_negatives`` from
a warehouse of 10,000 negative feedback records (suggester, escaping, batches of 1000, the
mapping table), against a raw import of the same 10,000 prepared tasks with ``requests`` into
another project, same server, same process. Sync: ``sync_annotations`` of a project whose
10,000 tasks each carry one annotation, against raw paging of the same tasks.
Targets: push >= 2000 tasks/s.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import requests

from annotation.client import LabelStudioClient
from annotation.ingest import ingest_file
from annotation.push import push_negatives, task_for
from annotation.sample import sample_feedback, write_jsonl
from annotation.server import LabelStudioServer
from annotation.sync import sync_annotations
from warehouse import Warehouse, migrate

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000


def negatives(n: int) -> list[dict[str, object]]:
    out = []
    for i, rec in enumerate(sample_feedback(n, seed=99, negative_share=1.0)):
        rec.update({"id": f"bench-{i:06d}", "user_consent": True, "rating": "down"})
        out.append(rec)
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        wh = Warehouse(tmp / "w.duckdb")
        migrate(wh)
        ingest_file(wh, write_jsonl(negatives(N), tmp / "neg.jsonl"))
        with LabelStudioServer(data_dir=tmp / "ls") as server:
            headers = {"Authorization": f"Token {server.api_key}"}
            with LabelStudioClient(server.url, server.api_key) as client:
                # raw baseline: the same tasks, prepared beforehand, posted in 1000s
                with wh.read() as con:
                    cur = con.execute(
                        "SELECT feedback_id, task, query, contexts, answer, comment, page_image, "
                        "model_version FROM feedback ORDER BY feedback_id"
                    )
                    names = [d[0] for d in cur.description]
                    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
                payload = [task_for(r) for r in rows]
                from annotation.config import label_config

                raw_project = client.ensure_project("bench raw import", label_config())
                t0 = time.perf_counter()
                for i in range(0, len(payload), 1000):
                    r = requests.post(
                        f"{server.url}/api/projects/{raw_project}/import",
                        headers=headers, json=payload[i : i + 1000], timeout=600,
                    )  # fmt: skip
                    r.raise_for_status()
                raw_push_s = time.perf_counter() - t0

                t0 = time.perf_counter()
                pushed = push_negatives(wh, client, project_title="bench push")
                push_s = time.perf_counter() - t0
                assert pushed.pushed == N

                # one annotation on every task of a third project, imported with the tasks
                sync_project = client.ensure_project("bench sync", label_config())
                result = [
                    {"from_name": "error_type", "to_name": "answer", "type": "choices",
                     "value": {"choices": ["retrieval"]}},
                    {"from_name": "corrected_answer", "to_name": "answer", "type": "textarea",
                     "value": {"text": ["the corrected answer"]}},
                ]  # fmt: skip
                annotated = [{**t, "annotations": [{"result": result}]} for t in payload]
                for i in range(0, len(annotated), 1000):
                    client.import_tasks(sync_project, annotated[i : i + 1000])
                t0 = time.perf_counter()
                pages = 0
                for _ in client.iter_tasks(sync_project, page_size=1000):
                    pages += 1
                raw_sync_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                synced = sync_annotations(wh, client, sync_project)
                sync_s = time.perf_counter() - t0
                assert synced.new == N, synced
    print(
        json.dumps(
            {
                "bench": "label-studio-round-trip",
                "tasks": N,
                "push_tasks_per_s": round(N / push_s, 1),
                "raw_import_tasks_per_s": round(N / raw_push_s, 1),
                "push_ratio_vs_raw": round(raw_push_s / push_s, 3),
                "sync_annotations_per_s": round(N / sync_s, 1),
                "raw_read_tasks_per_s": round(pages / raw_sync_s, 1),
                "sync_ratio_vs_raw_read": round(raw_sync_s / sync_s, 3),
                "target": "push >= 2000 tasks/s",
            }
        )
    )


if __name__ == "__main__":
    main()
