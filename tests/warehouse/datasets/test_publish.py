"""Publishing: round trip, versions, tampering, killed and concurrent publishers, consumers."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from warehouse import Warehouse, migrate
from warehouse.datasets import (
    BuilderInfo,
    DatasetCard,
    DatasetError,
    DatasetIntegrityError,
    DatasetNotFoundError,
    load,
    publish,
    resolve,
)
from warehouse.datasets.catalog import sync_catalog
from warehouse.datasets.diff import diff_versions
from warehouse.datasets.read import pull_local, verify

CARD = DatasetCard(
    description="A test set.",
    formatting="alpaca",
    columns={"prompt": "instruction", "query": "input", "response": "output"},
)
BUILDER = BuilderInfo("test", "1", {"k": 1})


def rows(n: int, *, start: int = 0, tag: str = "") -> pa.Table:
    return pa.table(
        {
            "sample_id": [f"s{i:07d}" for i in range(start, start + n)],
            "instruction": ["Write a title."] * n,
            "input": [f"abstract {i}{tag}" for i in range(start, start + n)],
            "output": [f"title {i}" for i in range(start, start + n)],
        }
    )


def splits(n: int = 100, tag: str = "") -> dict[str, pa.Table]:
    return {"train": rows(n, tag=tag), "validation": rows(10, start=10_000, tag=tag)}


def test_round_trip_and_unchanged_republish(wh: Warehouse, tmp_path: Path) -> None:
    root = tmp_path / "datasets"
    first = publish(wh, root, "toy", splits(), CARD, BUILDER)
    assert (first.version, first.created, first.rows) == (1, True, {"train": 100, "validation": 10})
    files = sorted(
        p.relative_to(first.path).as_posix() for p in first.path.rglob("*") if p.is_file()
    )
    assert files == [
        "README.md", "data/train/train-00000-of-00001.parquet",
        "data/validation/validation-00000-of-00001.parquet", "dataset_info.json", "manifest.json",
    ]  # fmt: skip
    # Same content, even in another row order: no new version.
    shuffled = {k: t.take(list(reversed(range(t.num_rows)))) for k, t in splits().items()}
    again = publish(wh, root, "toy", shuffled, CARD, BUILDER)
    assert (again.version, again.created) == (1, False)
    pulled = tmp_path / "pulled"
    manifest = pull_local(resolve(root, "toy"), pulled)
    assert manifest["version"] == 1
    back = pq.read_table(pulled / "data/train/train-00000-of-00001.parquet")
    assert back.to_pylist() == splits()["train"].to_pylist()
    table = load(root, "toy")
    assert table.num_rows == 110 and set(table.column("split").to_pylist()) == {
        "train",
        "validation",
    }
    with wh.read() as con:
        assert con.execute('SELECT name, "version", rows FROM dataset_versions').fetchall() == [
            ("toy", 1, 110)
        ]


def test_manifest_card_and_llamafactory_entry(wh: Warehouse, tmp_path: Path) -> None:
    result = publish(wh, tmp_path, "toy", splits(), CARD, BUILDER, run_id="r-1",
                     snapshot={"papers": 3})  # fmt: skip
    m = json.loads((result.path / "manifest.json").read_text())
    assert m["version"] == 1 and m["parent_version"] is None and m["rows"]["train"] == 100
    assert m["builder"] == {"name": "test", "version": "1", "params": {"k": 1}}
    assert m["run_id"] == "r-1" and m["warehouse_snapshot"] == {"papers": 3}
    assert [f["name"] for f in m["schema"]] == ["sample_id", "instruction", "input", "output"]
    assert all(len(f["sha256"]) == 64 and f["bytes"] > 0 for f in m["files"])
    assert m["scicurate_version"]
    meta = pq.ParquetFile(result.path / "data/train/train-00000-of-00001.parquet").metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"
    front = (result.path / "README.md").read_text().split("---")[1]
    card = yaml.safe_load(front)
    assert card["configs"][0]["data_files"] == [
        {"split": "train", "path": "data/train/*.parquet"},
        {"split": "validation", "path": "data/validation/*.parquet"},
    ]
    info = json.loads((result.path / "dataset_info.json").read_text())
    schema = pq.read_schema(result.path / info["toy"]["file_name"])
    assert info["toy"]["formatting"] == "alpaca"
    assert set(info["toy"]["columns"].values()) <= set(schema.names)
    assert (result.path / info["toy_validation"]["file_name"]).is_file()


def test_hf_datasets_loads_the_files(wh: Warehouse, tmp_path: Path) -> None:
    from datasets import load_dataset

    result = publish(wh, tmp_path, "toy", splits(), CARD, BUILDER)
    ds = load_dataset(
        "parquet",
        data_files={s: str(result.path / f"data/{s}/*.parquet") for s in ("train", "validation")},
        cache_dir=str(tmp_path / "hf-cache"),
    )
    assert ds["train"].num_rows == 100 and ds["validation"].num_rows == 10
    assert ds["train"][0] == splits()["train"].slice(0, 1).to_pylist()[0]


def test_changes_make_a_new_version_with_a_diff(wh: Warehouse, tmp_path: Path) -> None:
    v1 = publish(wh, tmp_path, "toy", splits(), CARD, BUILDER)
    changed = splits()
    train = changed["train"].slice(5)  # 5 removed
    train = pa.concat_tables([train, rows(3, start=500)])  # 3 added
    inputs = train.column("input").to_pylist()
    inputs[0] = "an edited abstract"  # 1 changed
    changed["train"] = train.set_column(2, "input", pa.array(inputs))
    v2 = publish(wh, tmp_path, "toy", changed, CARD, BUILDER)
    assert v2.version == 2 and v2.created
    assert json.loads((v2.path / "manifest.json").read_text())["parent_version"] == 1
    d = diff_versions(v1.path, v2.path)
    assert (d.added, d.removed, d.changed) == (3, 5, 1)
    assert d.unchanged == 110 - 5 - 1
    assert d.examples["changed"] == ["s0000005"]


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete", "extra"])
def test_tampering_is_caught_and_named(wh: Warehouse, tmp_path: Path, damage: str) -> None:
    result = publish(wh, tmp_path / "ds", "toy", splits(), CARD, BUILDER)
    target = result.path / "data/train/train-00000-of-00001.parquet"
    if damage == "flip":
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0xFF
        target.write_bytes(bytes(data))
    elif damage == "truncate":
        target.write_bytes(target.read_bytes()[:-10])
    elif damage == "delete":
        target.unlink()
    else:
        (result.path / "data/sneaky-00000-of-00001.parquet").write_bytes(b"x")
    with pytest.raises(DatasetIntegrityError) as info:
        pull_local(result.path, tmp_path / "out")
    expected = "sneaky" if damage == "extra" else "train-00000-of-00001.parquet"
    assert expected in str(info.value)
    assert not (tmp_path / "out").exists()
    with pytest.raises(DatasetIntegrityError):
        load(tmp_path / "ds", "toy")


def test_bad_input_is_refused(wh: Warehouse, tmp_path: Path) -> None:
    dup = pa.table({"sample_id": ["a", "a"], "x": [1, 2]})
    with pytest.raises(DatasetError, match="unique"):
        publish(wh, tmp_path, "toy", {"train": dup}, CARD, BUILDER)
    with pytest.raises(DatasetError, match="sample_id"):
        publish(wh, tmp_path, "toy", {"train": pa.table({"x": [1]})}, CARD, BUILDER)
    with pytest.raises(DatasetError, match="name"):
        publish(wh, tmp_path, "../evil", splits(), CARD, BUILDER)
    with pytest.raises(DatasetError, match="split name"):
        publish(wh, tmp_path, "toy", {"../x": rows(1)}, CARD, BUILDER)
    with pytest.raises(DatasetNotFoundError, match="no dataset"):
        resolve(tmp_path, "toy")


def test_catalog_follows_disk(wh: Warehouse, tmp_path: Path) -> None:
    publish(wh, tmp_path, "toy", splits(), CARD, BUILDER)
    publish(wh, tmp_path, "toy", splits(tag="!"), CARD, BUILDER)
    with wh.write() as con:
        con.execute("DELETE FROM dataset_versions").fetchall()
    assert sync_catalog(wh, tmp_path) == 2
    with wh.read() as con:
        pairs = con.execute(
            'SELECT "version", parent_version FROM dataset_versions ORDER BY 1'
        ).fetchall()
    assert pairs == [(1, None), (2, 1)]


CTX = mp.get_context("spawn")


def _publisher(db: str, root: str, n: int, tag: str, start: Any, out: Any) -> None:
    wh = Warehouse(Path(db))
    start.wait()
    result = publish(wh, Path(root), "toy", splits(n, tag=tag), CARD, BUILDER)
    out.put((tag, result.version))


def test_two_publishers_at_once(wh: Warehouse, tmp_path: Path) -> None:
    start, out = CTX.Event(), CTX.Queue()
    procs = [
        CTX.Process(target=_publisher, args=(str(wh.path), str(tmp_path), 20_000, tag, start, out))
        for tag in ("a", "b")
    ]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    versions = sorted(v for _, v in (out.get(timeout=5) for _ in procs))
    assert versions == [1, 2]
    for v in versions:
        verify(resolve(tmp_path, "toy", v))
    with wh.read() as con:
        assert con.execute("SELECT count(*) FROM dataset_versions").fetchall() == [(2,)]


def _slow_publisher(db: str, root: str) -> None:
    wh = Warehouse(Path(db))
    big = {"train": rows(1_500_000)}
    publish(wh, Path(root), "toy", big, CARD, BUILDER, rows_per_file=100_000)


def test_killed_publish_leaves_no_version(wh: Warehouse, tmp_path: Path) -> None:
    proc = CTX.Process(target=_slow_publisher, args=(str(wh.path), str(tmp_path)))
    proc.start()
    deadline = time.monotonic() + 120
    while not list((tmp_path / "toy").glob(".tmp-*/data/*/*.parquet")):
        assert time.monotonic() < deadline and proc.is_alive(), "publish never started writing"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(30)
    assert not list((tmp_path / "toy").glob("v*"))  # no visible version
    with wh.read() as con:
        assert con.execute("SELECT count(*) FROM dataset_versions").fetchall() == [(0,)]
    result = publish(wh, tmp_path, "toy", splits(), CARD, BUILDER)
    assert result.version == 1
    assert not list((tmp_path / "toy").glob(".tmp-*"))  # the dead publisher's leftovers went


def test_sharded_splits(wh: Warehouse, tmp_path: Path) -> None:
    result = publish(wh, tmp_path, "toy", {"train": rows(2500)}, CARD, BUILDER, rows_per_file=1000)
    names = sorted(p.name for p in (result.path / "data/train").iterdir())
    assert names == [f"train-0000{i}-of-00003.parquet" for i in range(3)]
    assert load(tmp_path, "toy", split="train").num_rows == 2500
    fresh = Warehouse(tmp_path / "other.duckdb")
    migrate(fresh)
    assert sync_catalog(fresh, tmp_path) == 1


def test_sharded_train_and_validation_stay_apart(wh: Warehouse, tmp_path: Path) -> None:
    """Several files per split: the card and dataset_info.json each name one split's files,
    so neither HF `datasets` nor LLaMA-Factory reads validation rows as training rows."""
    from datasets import load_dataset

    sharded = {"train": rows(12), "validation": rows(7, start=100)}
    result = publish(wh, tmp_path, "toy", sharded, CARD, BUILDER, rows_per_file=5)
    manifest = json.loads((result.path / "manifest.json").read_text())
    per_split = {s: [f["path"] for f in manifest["files"] if f.get("split") == s] for s in sharded}
    assert [len(per_split["train"]), len(per_split["validation"])] == [3, 2]

    ds = load_dataset(str(result.path), cache_dir=str(tmp_path / "hf-cache"))  # per the card
    assert {split: ds[split].num_rows for split in ds} == {"train": 12, "validation": 7}
    assert sorted(ds["train"]["sample_id"]) == sharded["train"].column("sample_id").to_pylist()

    info = json.loads((result.path / "dataset_info.json").read_text())
    assert set(info) == {"toy", "toy_validation"}
    for key, split in (("toy", "train"), ("toy_validation", "validation")):
        # What LLaMA-Factory reads for a file_name that is a folder: every file in it.
        folder = result.path / info[key]["file_name"]
        assert folder.is_dir()
        listed = sorted(p.relative_to(result.path).as_posix() for p in folder.iterdir())
        assert listed == sorted(per_split[split])
        read = load_dataset("parquet", data_files=[str(folder / p) for p in os.listdir(folder)],
                            split="train", cache_dir=str(tmp_path / "hf-cache"))  # fmt: skip
        assert read.num_rows == len(sharded[split])
