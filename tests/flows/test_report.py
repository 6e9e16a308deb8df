"""`scicurate report`: a static page with every plot, rendered by a real headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
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
from tests.chromium_helpers import chromium_path
from warehouse import Warehouse

PAPERS = sample_papers(12)


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
    namespaces = ("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink")
    assert "http://" not in re.sub("|".join(map(re.escape, namespaces)), "", html)  # no fetch
    assert "<script" not in html
    for title in (
        "Papers per day by category", "PDF and parse success", "Parse quality",
        "Feedback by error type over time", "Annotator throughput and agreement",
        "Dataset versions and sizes",
    ):  # fmt: skip
        assert title in html
    assert "no data yet" not in html  # every plot has data here

    assert "ok, " in html and " failed" in html and " of " in html  # success: ok vs failed
    assert html.count('<p class="muted">none</p>') >= 1  # no problems: the table says none

    chromium = chromium_path()
    from playwright.sync_api import sync_playwright

    shot = tmp_path / "report.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.goto((out / "index.html").as_uri())
            outside = page.evaluate(_TEXT_OUTSIDE_SVG)
            counts = page.evaluate(
                "() => [document.querySelectorAll('svg.chart').length,"
                " document.querySelectorAll('svg.chart text').length,"
                " document.querySelectorAll('svg.chart path').length]"
            )
            page.screenshot(path=str(shot), full_page=False)
        finally:
            browser.close()
    assert outside == []  # every label, tick and legend entry lies inside its chart
    n_svg, n_text, n_path = counts
    assert n_svg == 7 and n_text > 60 and n_path > 60

    from PIL import Image

    image = Image.open(shot).convert("RGB")
    assert image.size == (1400, 1800)
    colors = image.getcolors(maxcolors=1 << 20) or []
    blue = sum(n for n, rgb in colors if rgb == (0x33, 0x66, 0xCC))
    green = sum(n for n, rgb in colors if rgb == (0x10, 0x96, 0x18))
    assert blue > 2000 and green > 500  # the bars were painted, not just the page
    if os.environ.get("SCICURATE_UPDATE_DOCS") == "1":
        shutil.copy(shot, Path(__file__).resolve().parents[2] / "docs" / "report.png")


# Every <text> of every chart, measured by the browser, must lie within its <svg>'s box.
_TEXT_OUTSIDE_SVG = """() => {
  const bad = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const box = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.left < box.left - 0.5 || r.right > box.right + 0.5 ||
          r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5)
        bad.push(svg.getAttribute('aria-label') + ': ' + t.textContent);
    }
  }
  return bad;
}"""


def test_report_on_an_empty_warehouse_says_no_data(wh: Warehouse, tmp_path: Path) -> None:
    from report.html import write_report

    html = write_report(wh, tmp_path / "r").read_text()
    assert html.count("no data yet") == 7
    # no runs, no problems, no documents by source: "none"
    assert html.count('<p class="muted">none</p>') == 3
