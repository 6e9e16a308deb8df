"""Remote publish and pull against a real S3 API (moto's server on 127.0.0.1) and file://."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.warehouse.datasets.test_publish import BUILDER, CARD, rows, splits
from warehouse import Warehouse
from warehouse.datasets import DatasetIntegrityError, DatasetNotFoundError, publish
from warehouse.datasets.read import pull_local
from warehouse.datasets.remote import publish_remote, pull_remote


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3() -> Iterator[dict[str, Any]]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    options = {
        "key": "testing", "secret": "testing",
        "client_kwargs": {"endpoint_url": f"http://127.0.0.1:{port}", "region_name": "us-east-1"},
    }  # fmt: skip
    import boto3

    boto3.client(
        "s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    ).create_bucket(Bucket="scicurate-test")  # fmt: skip
    try:
        yield options
    finally:
        server.stop()


def test_s3_round_trip(wh: Warehouse, tmp_path: Path, s3: dict[str, Any]) -> None:
    v1 = publish(wh, tmp_path / "ds", "toy", splits(), CARD, BUILDER)
    v2 = publish(wh, tmp_path / "ds", "toy", splits(tag="!"), CARD, BUILDER)
    uri = "s3://scicurate-test/datasets"
    for version in (v1, v2):
        target = publish_remote(version.path, uri, storage_options=s3)
        assert target.endswith(f"/toy/v{version.version}")
    assert publish_remote(v1.path, uri, storage_options=s3).endswith("/toy/v1")  # idempotent
    latest = pull_remote(uri, "toy", None, tmp_path / "latest", storage_options=s3)
    assert latest["version"] == 2
    first = pull_remote(uri, "toy", 1, tmp_path / "first", storage_options=s3)
    assert (
        first["content_hash"]
        == v1.path.joinpath("manifest.json").read_text().split('"content_hash": "')[1][:64]
    )
    assert (tmp_path / "first/data/train/train-00000-of-00001.parquet").read_bytes() == (
        v1.path / "data/train/train-00000-of-00001.parquet"
    ).read_bytes()
    with pytest.raises(DatasetNotFoundError):
        pull_remote(uri, "toy", 9, tmp_path / "nine", storage_options=s3)


def test_s3_tampered_object_fails_the_pull(
    wh: Warehouse, tmp_path: Path, s3: dict[str, Any]
) -> None:
    import s3fs

    v1 = publish(wh, tmp_path / "ds", "tampered", splits(), CARD, BUILDER)
    uri = "s3://scicurate-test/t"
    publish_remote(v1.path, uri, storage_options=s3)
    fs = s3fs.S3FileSystem(**s3)
    fs.pipe_file(
        "scicurate-test/t/tampered/v1/data/validation/validation-00000-of-00001.parquet", b"evil"
    )
    with pytest.raises(DatasetIntegrityError, match=r"validation-00000-of-00001\.parquet"):
        pull_remote(uri, "tampered", 1, tmp_path / "out", storage_options=s3)
    assert not (tmp_path / "out").exists()


def test_immutable_remote_versions(wh: Warehouse, tmp_path: Path) -> None:
    a = publish(wh, tmp_path / "a", "toy", splits(), CARD, BUILDER)
    b = publish(wh, tmp_path / "b", "toy", splits(tag="other"), CARD, BUILDER)
    uri = f"file://{tmp_path / 'remote'}"
    publish_remote(a.path, uri)
    with pytest.raises(DatasetIntegrityError, match="immutable"):
        publish_remote(b.path, uri)  # a different v1 from another home
    manifest = pull_remote(uri, "toy", 1, tmp_path / "back")
    assert manifest["version"] == 1
    pull_local(tmp_path / "back", tmp_path / "again")  # a pulled copy verifies on its own


def test_sharded_version_round_trips_through_s3_and_file(
    wh: Warehouse, tmp_path: Path, s3: dict[str, Any]
) -> None:
    sharded = {"train": rows(12), "validation": rows(7, start=100)}
    v1 = publish(wh, tmp_path / "ds", "shards", sharded, CARD, BUILDER, rows_per_file=5)

    def layout(path: Path) -> list[str]:
        return sorted(p.relative_to(path).as_posix() for p in (path / "data").rglob("*.parquet"))

    assert len(layout(v1.path)) == 5  # train 3 files, validation 2, each in its own folder
    for uri, options in (("s3://scicurate-test/sharded", s3), (f"file://{tmp_path / 'r'}", None)):
        publish_remote(v1.path, uri, storage_options=options)
        back = tmp_path / f"back-{uri.split(':')[0]}"
        assert pull_remote(uri, "shards", None, back, storage_options=options)["version"] == 1
        assert layout(back) == layout(v1.path)
