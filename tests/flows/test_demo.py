"""`scicurate demo`: the whole pipeline offline on the bundled sample, and its idempotence."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.run import DEMO_PAPERS, run_demo
from demo.sample import sample_papers
from settings import load_settings

KEPT = [p for p in sample_papers(DEMO_PAPERS) if {"cs.AI", "cs.CV", "cs.LG"} & set(p.categories)]


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.usefixtures("prefect_harness")
def test_demo_runs_offline_and_rerun_changes_nothing(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    lines: list[str] = []
    result = run_demo(settings, echo=lines.append)
    status = result.status
    assert status.count("papers") == len(KEPT)
    assert status.count("pdfs ok") == len(KEPT)
    assert status.count("pdfs quarantined") == 0
    assert status.count("documents ok") == len(KEPT)
    assert status.count("routed") == 12  # the scripted expert's annotations, routed
    assert status.count("negatives queued") == 0  # every negative is in Label Studio
    assert {"sft-title", "cpt-corpus", "sft-feedback", "sft-corrections"} <= set(result.datasets)
    assert result.label_studio and result.label_studio.startswith("http://127.0.0.1:")
    assert result.report is not None and "<svg" in result.report.read_text()
    assert any(line.startswith("done.") for line in lines)
    assert any("annotate sync" in line for line in lines)
    files = sorted(p.name for p in (tmp_path / "pdfs").rglob("*.pdf"))
    assert len(files) == len(KEPT)

    lines.clear()
    again = run_demo(settings, echo=lines.append)
    assert again.status.stages == status.stages
    assert again.datasets == result.datasets  # no new versions
    assert any(f"0 new, 0 updated, {len(KEPT)} unchanged" in line for line in lines)
    assert any("PDFs: 0 downloaded" in line for line in lines)
    assert any("0 documents parsed" in line for line in lines)
    assert any("scripted expert annotated 0 tasks" in line for line in lines)
