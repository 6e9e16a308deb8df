"""Trainer's path: crawl, build sft-title, rebuild (nothing new), list, show, pull, load."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.app import command
from cli.errors import run_cli
from core.http import Politeness
from demo.sample import sample_papers
from jobs.crawl_arxiv import crawl_arxiv
from tests.arxiv_replay import serve_sample_oai
from tests.prefect_helpers import artifact_rows
from tests.replay import ReplayServer
from warehouse import Warehouse, migrate


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    wh = Warehouse(tmp_path / "warehouse.duckdb")
    migrate(wh)
    with ReplayServer() as srv:
        serve_sample_oai(srv, sample_papers(60), page_size=25)
        crawl_arxiv(
            wh, home=tmp_path, oai_url=f"{srv.url}/oai", pdf_url=f"{srv.url}/pdf/",
            politeness=Politeness(min_interval=0), categories=["cs"],
        )  # fmt: skip
    yield tmp_path


def cli(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> str:
    code = run_cli(command(), ["--home", str(home), *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_build_rebuild_list_show_pull_load(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = cli(capsys, home, "datasets", "build", "sft-title")
    assert "sft-title v1: published" in out
    out = cli(capsys, home, "datasets", "build", "sft-title")
    assert "sft-title v1: unchanged, kept" in out  # rebuilding without changes publishes nothing
    out = cli(capsys, home, "datasets", "build", "sft-title", "--param", "max_per_category=5")
    assert "sft-title v2: published" in out and "against v1:" in out
    out = cli(capsys, home, "datasets", "list")
    assert "v1" in out and "v2" in out
    out = cli(capsys, home, "datasets", "show", "sft-title@v1")
    assert "sft-title v1" in out and "ChatGenTitle" in out and "max_per_category" in out
    out = cli(capsys, home, "datasets", "diff", "sft-title@v1", "sft-title@v2")
    assert "removed" in out

    target = home / "pulled"
    out = cli(capsys, home, "datasets", "pull", "sft-title@v1", "--to", str(target))
    assert "verified" in out
    from datasets import load_dataset

    ds = load_dataset("parquet", data_files=str(target / "data/train/*.parquet"),
                      cache_dir=str(home / "hf"))  # fmt: skip
    row = ds["train"][0]
    assert set(row) >= {"instruction", "input", "output", "sample_id", "paper_id"}
    assert row["instruction"].startswith("If you are an expert in writing papers")

    remote = f"file://{home / 'remote'}"
    cli(capsys, home, "datasets", "publish", "sft-title@v2", "--remote", remote)
    out = cli(capsys, home, "datasets", "pull", "sft-title", "--from", remote, "--to",
              str(home / "from-remote"))  # fmt: skip
    assert "sft-title v2" in out


def test_errors_are_one_line(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args, message in [
        (["datasets", "build", "nope"], "no builder for 'nope'"),
        (["datasets", "show", "sft-title@v9"], "no dataset"),
        (["datasets", "build", "sft-title", "--param", "bogus=1"], "unknown parameter"),
        (["datasets", "show", "../x"], "dataset name"),
    ]:
        code = run_cli(command(), ["--home", str(home), *args])
        err = capsys.readouterr().err
        assert code == 1 and message in err and "Traceback" not in err


@pytest.mark.usefixtures("prefect_harness")
def test_export_flow_publishes_versions_artifact(home: Path) -> None:
    from flows.export_datasets import export_datasets_flow

    state = export_datasets_flow(home=str(home), return_state=True)
    assert state.is_completed(), state.message
    assert state.result() == {"sft-title": 1}
    [row] = artifact_rows("export-datasets", state.state_details.flow_run_id)
    assert row["dataset"] == "sft-title" and row["version"] == 1 and row["new_version"]
    assert row["rows_train"] > 0
    manifest = json.loads((home / "datasets/sft-title/v1/manifest.json").read_text())
    assert manifest["run_id"] == str(state.state_details.flow_run_id)
