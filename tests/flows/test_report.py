"""`scicurate report`: a static page with every plot, rendered by a real headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from annotation.ingest import ingest_file
from annotation.sample import sample_feedback, write_jsonl
from annotation.sync import recompute_consensus
from cli.app import command
from cli.errors import run_cli
from demo.sample import sample_papers
from jobs.export_datasets import build_dataset
from jobs.parse_pdfs import parse_pdfs
from parsers.run import ParseSpec
from tests.arxiv_replay import crawl_sample
from warehouse import Warehouse

PAPERS = sample_papers(12)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    if os.environ.get("SCICURATE_REQUIRE_CHROMIUM") == "1":
        pytest.fail("chromium is not installed (make test installs the Debian package)")
    pytest.skip("chromium is not installed")


@pytest.fixture
def home(wh: Warehouse, tmp_path: Path) -> Path:
    """A warehouse with papers, PDFs, parses, feedback, annotations and dataset versions."""
    crawl_sample(wh, tmp_path, PAPERS)
    parse_pdfs(wh, tmp_path, ParseSpec(), workers=2)
    ingest_file(wh, write_jsonl(sample_feedback(60), tmp_path / "f.jsonl"))
    with wh.write() as con:  # annotations as a sync would have stored them
        con.execute(
            "INSERT INTO annotations (annotation_id, revision, task_id, feedback_id, annotator, "
            "error_types, corrected_answer, updated_at) SELECT row_number() OVER (), 1, "
            "row_number() OVER (), feedback_id, CASE WHEN random() < 0.5 THEN 'ann@a' ELSE "
            "'ann@b' END, [CASE hash(feedback_id) % 4 WHEN 0 THEN 'retrieval' WHEN 1 THEN "
            "'multimodal' WHEN 2 THEN 'domain_knowledge' ELSE 'instruction_following' END], "
            "'fixed', created_at FROM feedback WHERE rating = 'down'"
        )
        con.execute(  # a second annotator on every other task, agreeing half of the time
            "INSERT INTO annotations (annotation_id, revision, task_id, feedback_id, annotator, "
            "error_types, corrected_answer, updated_at) SELECT 1000 + annotation_id, 1, task_id, "
            "feedback_id, 'ann@c', CASE WHEN task_id % 4 = 0 THEN error_types ELSE "
            "['domain_knowledge'] END, 'fixed too', updated_at FROM annotations "
            "WHERE task_id % 2 = 0"
        )
        ids = [r[0] for r in con.execute("SELECT DISTINCT feedback_id FROM annotations").fetchall()]
    recompute_consensus(wh, set(ids))
    for name in ("sft-title", "cpt-corpus", "sft-feedback"):
        build_dataset(wh, tmp_path / "datasets", name)
    return tmp_path


def test_report_renders_in_headless_chromium(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert run_cli(command(), ["--home", str(home), "report", "--out", str(out)]) == 0
    html = (out / "index.html").read_text()
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")  # nothing remote
    assert "<script" not in html
    for title in (
        "Papers per day by category", "PDF and parse success", "Parse quality",
        "Feedback by error type over time", "Annotator throughput and agreement",
        "Dataset versions and sizes",
    ):  # fmt: skip
        assert title in html
    assert "no data yet" not in html  # every plot has data here

    chromium = _chromium()
    shot = tmp_path / "report.png"
    flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'chrome'}"]  # fmt: skip
    subprocess.run(
        [chromium, *flags, "--window-size=1400,1800", f"--screenshot={shot}",
         (out / "index.html").as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    dom = subprocess.run(
        [chromium, *flags, "--dump-dom", (out / "index.html").as_uri()],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    assert dom.count("<svg") == 7 and dom.count("<rect") == html.count("<rect") > 30

    from PIL import Image

    image = Image.open(shot).convert("RGB")
    assert image.size == (1400, 1800)
    colors = image.getcolors(maxcolors=1 << 20) or []
    blue = sum(n for n, rgb in colors if rgb == (0x33, 0x66, 0xCC))
    red = sum(n for n, rgb in colors if rgb == (0xDC, 0x39, 0x12))
    assert blue > 2000 and red > 200  # the bars were painted, not just the page
    if os.environ.get("SCICURATE_UPDATE_DOCS") == "1":
        shutil.copy(shot, Path(__file__).resolve().parents[2] / "docs" / "report.png")


def test_report_on_an_empty_warehouse_says_no_data(wh: Warehouse, tmp_path: Path) -> None:
    from report.html import write_report

    html = write_report(wh, tmp_path / "r").read_text()
    assert html.count("no data yet") == 7
