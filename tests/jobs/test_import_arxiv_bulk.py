"""``import arxiv-bulk`` against moto's real S3 server on 127.0.0.1: tars in arXiv's naming
scheme and a manifest in the real format (the tags of the shared 2020/2024 manifests).

Plan, import, rerun (nothing new), SIGKILL mid-tar then rerun (equal to a clean run), and a
tampered tar caught by its md5."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pymupdf
import pytest

from cli.app import command
from cli.errors import run_cli
from core.records import Paper, PaperVersion
from jobs.import_arxiv_bulk import BulkConfig, import_arxiv_bulk
from sources.arxiv_bulk import member_id, read_manifest, select_tars
from tests.warehouse.datasets.test_remote import s3  # noqa: F401 - the moto S3 fixture
from warehouse import Warehouse, migrate
from warehouse.papers import store_papers

EXE = str(Path(sys.executable).with_name("scicurate"))
NEW = [f"2104.{n:05d}" for n in range(1, 7)]
OLD = ["hep-th/0001001", "hep-th/0001002"]


def _pdf(text: str) -> bytes:
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), text)
    data = doc.tobytes()
    doc.close()
    return bytes(data)


def _tar(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _manifest(kind: str, tars: dict[str, tuple[bytes, str, str, int]]) -> bytes:
    root = "arXivPDF" if kind == "pdf" else "arXivSRC"
    parts = ["<?xml version='1.0' standalone='yes'?>", f"<{root}>"]
    for seq, (name, (data, first, last, n)) in enumerate(tars.items(), 1):
        parts.append(
            f"  <file>\n    <content_md5sum>{'0' * 32}</content_md5sum>\n"
            f"    <filename>{name}</filename>\n    <first_item>{first}</first_item>\n"
            f"    <last_item>{last}</last_item>\n"
            f"    <md5sum>{hashlib.md5(data).hexdigest()}</md5sum>\n"
            f"    <num_items>{n}</num_items>\n    <seq_num>{seq}</seq_num>\n"
            f"    <size>{len(data)}</size>\n    <timestamp>2020-06-01 00:00:00</timestamp>\n"
            f"    <yymm>{name.split('_')[2]}</yymm>\n  </file>"
        )
    parts.append(f"</{root}>")
    return "\n".join(parts).encode()


def pdf_tars(padding: int = 0) -> dict[str, tuple[bytes, str, str, int]]:
    """Three PDF tars the catalog wants and one it does not; ``padding`` bytes of unwanted
    members between the wanted ones make a tar slow enough to kill mid-way."""
    junk = os.urandom(padding // 8) if padding else b""

    def members(ids: list[str], folder: str, versions: str = "v1") -> list[tuple[str, bytes]]:
        out: list[tuple[str, bytes]] = []
        for i in ids:
            out += [(f"{folder}/{i.replace('/', '')}{versions}.pdf", _pdf(f"paper {i}"))]
            out += [(f"{folder}/zz-padding-{len(out)}.bin", junk)] if junk else []
        return out

    a = _tar([*members(NEW[:3], "2104"), ("2104/2104.09999v1.pdf", _pdf("x"))])
    b = _tar(members(NEW[3:], "2104", "v2"))
    c = _tar(members(OLD, "0001"))
    d = _tar(members(["2105.00001"], "2105"))
    return {
        "pdf/arXiv_pdf_0001_001.tar": (c, "hep-th0001001", "hep-th0001002", 2),
        "pdf/arXiv_pdf_2104_001.tar": (a, "2104.00001", "2104.00003", 3),
        "pdf/arXiv_pdf_2104_002.tar": (b, "2104.00004", "2104.00006", 3),
        "pdf/arXiv_pdf_2105_001.tar": (d, "2105.00001", "2105.00001", 1),
    }


def src_tars() -> dict[str, tuple[bytes, str, str, int]]:
    tex = b"\\documentclass{article}\\begin{document}Hello $x^2$\\end{document}\n"
    members = [(f"2104/{i}.gz", gzip.compress(tex + i.encode())) for i in NEW[:2]]
    members.append((f"2104/{NEW[2]}.pdf", _pdf("pdf only")))
    members.append(("2104/../../evil.gz", gzip.compress(b"x")))  # never matches the scheme
    return {"src/arXiv_src_2104_001.tar": (_tar(members), NEW[0], NEW[2], 3)}


def _papers() -> list[Paper]:
    made = datetime(2021, 4, 1)
    return [
        Paper(
            paper_id=pid,
            source="arxiv-oai",
            title=f"Paper {pid}",
            categories=["cs.AI"] if pid in NEW[:4] else ["hep-th"] if "/" in pid else ["math.GT"],
            versions=[PaperVersion("v1", made)],
        )
        for pid in NEW + OLD
    ]


def _catalog(home: Path) -> Warehouse:
    home.mkdir(parents=True, exist_ok=True)
    wh = Warehouse(home / "warehouse.duckdb")
    migrate(wh)
    with wh.write() as con:
        store_papers(con, _papers())
    return wh


_counter = iter(range(1000))


def _client(options: dict[str, Any]) -> Any:
    import boto3

    return boto3.client(
        "s3", aws_access_key_id="testing", aws_secret_access_key="testing",
        **options["client_kwargs"],
    )  # fmt: skip


def _bucket(options: dict[str, Any], kind: str, tars: dict[str, Any]) -> str:
    """A requester-pays bucket holding the tars and their manifest."""
    bucket = f"arxiv-test-{next(_counter)}"
    client = _client(options)
    client.create_bucket(Bucket=bucket)
    client.put_bucket_request_payment(
        Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"}
    )
    for name, (data, *_rest) in tars.items():
        client.put_object(Bucket=bucket, Key=name, Body=data)
    manifest = _manifest(kind, tars)
    client.put_object(Bucket=bucket, Key=f"{kind}/arXiv_{kind}_manifest.xml", Body=manifest)
    return bucket


def _config(options: dict[str, Any], bucket: str, block: int = 1 << 20) -> BulkConfig:
    return BulkConfig(bucket, dict(options), block)


def _state(wh: Warehouse, home: Path) -> tuple[list[Any], list[Any], list[Any], list[str]]:
    with wh.read() as con:
        pdfs = con.execute(
            'SELECT paper_id, "version", path, sha256, status, attempts FROM pdfs ORDER BY 1, 2'
        ).fetchall()
        src = con.execute(
            'SELECT paper_id, "version", kind, path, sha256, status FROM fulltext_files '
            "ORDER BY 1, 2"
        ).fetchall()
        tars = con.execute(
            "SELECT kind, filename, md5, wanted, stored FROM bulk_tars ORDER BY 1, 2"
        ).fetchall()
    files = sorted(
        str(p.relative_to(home))
        for top in ("pdfs", "eprints")
        for p in (home / top).rglob("*")
        if p.is_file()
    )
    return pdfs, src, tars, files


def test_member_names_and_selection(shared: Path) -> None:
    aid, ext = member_id("2104/2104.12255v1.pdf") or (None, "")
    assert aid is not None and (aid.base, aid.version, ext) == ("2104.12255", 1, "pdf")
    aid, ext = member_id("0001/astro-ph0001001v1.pdf") or (None, "")
    assert aid is not None and aid.base == "astro-ph/0001001" and aid.version == 1
    aid, ext = member_id("2411/2411.00012.gz") or (None, "")
    assert aid is not None and aid.base == "2411.00012" and aid.version is None and ext == "gz"
    for bad in ("2104/../2104.00001v1.pdf", "/2104/2104.00001v1.pdf", "2104/0001001v1.pdf",
                "2105/2104.00001v1.pdf", "2104/2104.00001v1.pdf/x"):  # fmt: skip
        assert member_id(bad) is None, bad
    # The real manifests parse, and a paper's tar is found by its range.
    pdf = read_manifest(
        (shared / "fixtures/arxiv_s3/arXiv_pdf_manifest_2020-06.xml").read_bytes(), "pdf"
    )
    assert len(pdf) > 1000 and pdf[0].filename == "pdf/arXiv_pdf_0001_001.tar"
    chosen = select_tars(pdf, ["astro-ph0001001", "math0001015", "quant-ph0001119"])
    assert chosen == {
        "pdf/arXiv_pdf_0001_001.tar": ["astro-ph0001001"],
        "pdf/arXiv_pdf_0001_002.tar": ["math0001015", "quant-ph0001119"],
    }
    src = read_manifest(
        (shared / "fixtures/arxiv_s3/arXiv_src_manifest_2024-11.xml").read_bytes(), "src"
    )
    assert all(e.filename.startswith("src/arXiv_src_") for e in src)
    last = src[-1]
    assert select_tars(src, [last.first_item]) == {last.filename: [last.first_item]}


def test_plan_import_rerun(
    tmp_path: Path, s3: dict[str, Any], monkeypatch: pytest.MonkeyPatch,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    bucket = _bucket(s3, "pdf", pdf_tars())
    home = tmp_path / "home"
    wh = _catalog(home)
    endpoint = s3["client_kwargs"]["endpoint_url"]
    for key, value in {
        "SCICURATE_ARXIV_S3_ENDPOINT_URL": endpoint, "SCICURATE_ARXIV_S3_BUCKET": bucket,
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    cli = ["--home", str(home), "import", "arxiv-bulk", "--kind", "pdf"]
    # --plan with a category: only the two tars holding cs.AI papers, with sizes and cost.
    assert run_cli(command(), [*cli, "--plan", "--category", "cs.AI"]) == 0
    out = capsys.readouterr().out
    assert "arXiv_pdf_2104_001.tar" in out and "arXiv_pdf_2104_002.tar" in out, out
    assert "0001_001" not in out and "2105" not in out and "Prices used" in out
    assert _state(wh, home) == ([], [], [], [])  # a plan fetches nothing
    # The import: every wanted paper stored like a download, the unwanted one not.
    assert run_cli(command(), cli) == 0
    pdfs, _src, tars, files = _state(wh, home)
    assert sorted((p[0], p[1], p[4]) for p in pdfs) == sorted(
        [(pid, "v1", "ok") for pid in NEW[:3] + OLD] + [(pid, "v2", "ok") for pid in NEW[3:]]
    )
    for _pid, _v, path, sha, *_ in pdfs:
        assert hashlib.sha256((home / path).read_bytes()).hexdigest() == sha
    assert "pdfs/hep-th/0001/0001001/v1.pdf" in files and not any("09999" in f for f in files)
    assert [t[1] for t in tars] == [
        "pdf/arXiv_pdf_0001_001.tar", "pdf/arXiv_pdf_2104_001.tar", "pdf/arXiv_pdf_2104_002.tar"
    ]  # fmt: skip
    # A rerun reads nothing and changes nothing.
    before = _state(wh, home)
    counts = import_arxiv_bulk(wh, _config(s3, bucket), home=home, kind="pdf")
    assert (counts.tars_selected, counts.bytes_read, counts.stored) == (0, 0, 0)
    assert _state(wh, home) == before


def test_sources_and_a_pdf_only_submission(tmp_path: Path, s3: dict[str, Any]) -> None:  # noqa: F811
    bucket = _bucket(s3, "src", src_tars())
    home = tmp_path / "home"
    wh = _catalog(home)
    counts = import_arxiv_bulk(wh, _config(s3, bucket), home=home, kind="src", ids=NEW[:3])
    assert (counts.tars_done, counts.stored, counts.tars_failed) == (1, 3, 0)
    pdfs, src, _tars, files = _state(wh, home)
    assert [(r[0], r[2], r[5]) for r in src] == [
        (NEW[0], "src", "ok"), (NEW[1], "src", "ok"), (NEW[2], "src", "absent")
    ]  # fmt: skip
    assert [(p[0], p[4]) for p in pdfs] == [(NEW[2], "ok")]  # the PDF-only paper's PDF
    assert f"eprints/2104/{NEW[0]}/latest.gz" in files
    assert gzip.decompress((home / src[0][3]).read_bytes()).startswith(b"\\documentclass")
    assert not any("evil" in f for f in files)


def test_tampered_tar_is_caught_by_md5(tmp_path: Path, s3: dict[str, Any]) -> None:  # noqa: F811
    tars = pdf_tars()
    bucket = _bucket(s3, "pdf", tars)
    name = "pdf/arXiv_pdf_2104_001.tar"
    good = tars[name][0]
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF
    _client(s3).put_object(Bucket=bucket, Key=name, Body=bytes(bad))
    home = tmp_path / "home"
    wh = _catalog(home)
    counts = import_arxiv_bulk(wh, _config(s3, bucket), home=home, kind="pdf")
    assert counts.tars_failed == 1 and "md5" in counts.failures[0] and name in counts.failures[0]
    pdfs, _src, done, _files = _state(wh, home)
    assert not any(p[0] in NEW[:3] for p in pdfs)  # nothing from the tampered tar
    assert name not in [t[1] for t in done]
    _client(s3).put_object(Bucket=bucket, Key=name, Body=good)  # repaired: the rerun takes it
    counts = import_arxiv_bulk(wh, _config(s3, bucket), home=home, kind="pdf")
    assert (counts.tars_done, counts.stored, counts.tars_failed) == (1, 3, 0)


@pytest.fixture
def slow_bucket(s3: dict[str, Any]) -> Iterator[str]:  # noqa: F811
    yield _bucket(s3, "pdf", pdf_tars(padding=8 << 20))


def test_sigkill_mid_tar_then_rerun_equals_a_clean_run(
    tmp_path: Path,
    s3: dict[str, Any],  # noqa: F811
    slow_bucket: str,
) -> None:
    endpoint = s3["client_kwargs"]["endpoint_url"]
    env = {
        **os.environ, "SCICURATE_ARXIV_S3_ENDPOINT_URL": endpoint,
        "SCICURATE_ARXIV_S3_BUCKET": slow_bucket, "SCICURATE_ARXIV_S3_BLOCK_BYTES": "65536",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }  # fmt: skip
    killed = tmp_path / "killed"
    wh = _catalog(killed)
    proc = subprocess.Popen(
        [EXE, "--home", str(killed), "import", "arxiv-bulk", "--kind", "pdf"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    staging = killed / "tmp" / "bulk"
    deadline = time.monotonic() + 60
    # Kill once the second tar is being staged: the first is complete, the second half-read.
    while time.monotonic() < deadline and proc.poll() is None:
        if (staging / "arXiv_pdf_2104_001").is_dir() and any(
            (staging / "arXiv_pdf_2104_001").iterdir()
        ):
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the import finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _p, _s, done, _f = _state(wh, killed)
    assert [t[1] for t in done] == ["pdf/arXiv_pdf_0001_001.tar"]  # killed mid-way
    config = BulkConfig(slow_bucket, dict(s3), 1 << 20)
    import_arxiv_bulk(wh, config, home=killed, kind="pdf")
    clean = tmp_path / "clean"
    clean_wh = _catalog(clean)
    import_arxiv_bulk(clean_wh, config, home=clean, kind="pdf")
    assert _state(wh, killed) == _state(clean_wh, clean)
    assert len(_state(wh, killed)[0]) == len(NEW + OLD)
