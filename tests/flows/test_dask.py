"""Scale-out: parse-pdfs and the near-dedup step as tasks on a real Dask LocalCluster (2 worker
processes) through prefect-dask, with the same results as a local run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo.sample import sample_papers
from jobs.export_datasets import build_dataset
from tests.arxiv_replay import crawl_sample
from warehouse import Warehouse

pytestmark = [pytest.mark.slow, pytest.mark.integration]
PAPERS = sample_papers(10)


@pytest.fixture
def home(wh: Warehouse, tmp_path: Path) -> Path:
    crawl_sample(wh, tmp_path, PAPERS)
    return tmp_path


@pytest.mark.usefixtures("prefect_harness")
def test_parse_and_dedup_on_a_dask_local_cluster(home: Path, wh: Warehouse) -> None:
    from flows.export_datasets import export_datasets_flow
    from flows.parse_pdfs import parse_pdfs_flow

    summary = parse_pdfs_flow(executor="dask", workers=2, home=str(home))
    assert summary["documents"] == 10 and summary["ok"] == 10
    with wh.read() as con:
        executors = {
            json.loads(p)["executor"]
            for (p,) in con.execute("SELECT provenance FROM documents").fetchall()
        }
        docs = con.execute("SELECT doc_id, markdown FROM documents ORDER BY doc_id").fetchall()
    assert len(executors) == 2 and all(e.startswith("dask:tcp://127.0.0.1:") for e in executors)

    versions = export_datasets_flow(datasets=["cpt-corpus"], executor="dask", home=str(home))
    assert versions == {"cpt-corpus": 1}
    with wh.read() as con:
        drops = con.execute(
            "SELECT source_id, reason, duplicate_of FROM dataset_drops ORDER BY source_id"
        ).fetchall()
    assert len(docs) == 10
    local = build_dataset(wh, home / "datasets", "cpt-corpus")  # the same, without Dask
    assert not local.result.created  # identical content: no new version
    with wh.read() as con:
        again = con.execute(
            "SELECT source_id, reason, duplicate_of FROM dataset_drops ORDER BY source_id"
        ).fetchall()
    assert again == drops
