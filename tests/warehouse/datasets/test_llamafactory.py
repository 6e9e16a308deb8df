"""`scicurate datasets export-llamafactory`: one dataset_dir that mixes several versions."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cli.app import command
from cli.errors import run_cli
from jobs.export_datasets import build_dataset
from tests.warehouse.builders.test_sft_title import paper
from tests.warehouse.datasets.test_publish import splits as toy_splits
from warehouse import Warehouse
from warehouse.builders.finish import EvalMinimum
from warehouse.datasets import BuilderInfo, DatasetCard, publish
from warehouse.datasets.llamafactory import export_llamafactory, verify_export
from warehouse.datasets.model import DatasetIntegrityError
from warehouse.papers import upsert_papers


def test_export_mixes_chosen_versions_in_one_dataset_info(
    wh: Warehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "datasets"  # the home's datasets folder (home = tmp_path)
    upsert_papers(wh, [paper(i) for i in range(40)])
    build_dataset(wh, root, "sft-title", {"validation": "0.3"}, eval_minimum=EvalMinimum(rows=3))
    pairs = DatasetCard("pairs", columns={"prompt": "text"}, ranking=True)
    publish(wh, root, "toy", toy_splits(), pairs, BuilderInfo("toy", "1"))
    publish(wh, root, "toy", toy_splits(tag="b"), pairs, BuilderInfo("toy", "1"))  # a v2

    out = tmp_path / "lf"
    args = ["--home", str(tmp_path), "datasets", "export-llamafactory", str(out),
            "sft-title", "toy@v1"]  # fmt: skip
    assert run_cli(command(), args) == 0
    said = capsys.readouterr().out
    assert "sft-title v1: stage sft, dataset sft-title, eval sft-title_validation" in said
    assert "toy v1: stage dpo" in said

    info = json.loads((out / "dataset_info.json").read_text())
    assert set(info) == {"sft-title", "sft-title_validation", "toy", "toy_validation"}
    assert info["toy"]["ranking"] is True and info["sft-title"]["formatting"] == "alpaca"
    for key, entry in info.items():  # every file name is relative to the one dataset_dir
        file = out / entry["file_name"]
        assert file.is_file(), key
        assert pq.read_metadata(file).num_rows > 0
    assert "toy-v1/" in info["toy"]["file_name"]  # the version asked for, not the latest
    assert verify_export(out) == 4

    (out / info["toy"]["file_name"]).unlink()  # a link that no longer holds the bytes
    with pytest.raises(DatasetIntegrityError, match=r"does not match export\.json"):
        verify_export(out)
    copied = export_llamafactory(root, tmp_path / "lf2", [("toy", None)], copy=True)
    copied_info = json.loads((tmp_path / "lf2/dataset_info.json").read_text())
    file = tmp_path / "lf2" / copied_info["toy"]["file_name"]
    assert copied[0].version == 2 and file.is_file() and not file.is_symlink()
    assert (out / info["sft-title"]["file_name"]).is_symlink()  # the default links
    with pytest.raises(DatasetIntegrityError, match="not empty"):
        export_llamafactory(root, tmp_path / "lf2", [("toy", None)])
