"""`scicurate demo`: the offline pipeline on the bundled sample, and its idempotence."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.demo import DEMO_PAPERS, run_demo
from flows.sample import sample_papers
from flows.settings import load_settings

KEPT = [p for p in sample_papers(DEMO_PAPERS) if {"cs.AI", "cs.CV", "cs.LG"} & set(p.categories)]


@pytest.mark.usefixtures("prefect_harness")
def test_demo_runs_offline_and_rerun_changes_nothing(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    lines: list[str] = []
    report = run_demo(settings, echo=lines.append)
    assert report.count("papers") == len(KEPT)
    assert report.count("pdfs ok") == len(KEPT)
    assert report.count("pdfs quarantined") == 0
    assert any(line.startswith("done.") for line in lines)
    files = sorted(p.name for p in (tmp_path / "pdfs").rglob("*.pdf"))
    assert len(files) == len(KEPT)

    lines.clear()
    again = run_demo(settings, echo=lines.append)
    assert again.stages == report.stages
    assert any(f"0 new, 0 updated, {len(KEPT)} unchanged" in line for line in lines)
    assert any("PDFs: 0 downloaded" in line for line in lines)
