"""``scicurate demo``: the pipeline end to end, offline, on the embedded defaults.

It uses a DuckDB file under the configured home, an ephemeral Prefect API, local files, a local
HTTP server with the bundled arXiv-style sample, and a local Label Studio (from
``.venv-labelstudio``), so every stage runs for real: crawl -> PDFs -> parse -> datasets ->
feedback -> Label Studio -> annotations -> routed datasets -> report. Running it again changes
nothing that is already there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotation.errors import LabelStudioUnavailableError
from annotation.sample import sample_feedback, write_jsonl
from demo.sample import sample_papers
from demo.server import SampleServer
from settings import Settings
from warehouse import migrate
from warehouse.status import StatusReport

Echo = Callable[[str], object]
DEMO_PAPERS = 60
DEMO_FEEDBACK = 120
STEPS = 7
DEMO_EXPERT = "demo-expert@scicurate.local"


@dataclass
class DemoResult:
    status: StatusReport
    datasets: dict[str, int] = field(default_factory=dict)  # name -> latest version
    label_studio: str | None = None  # why it was skipped, or the URL it ran at
    report: Path | None = None


@contextmanager
def _env(overrides: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _scripted_expert(url: str, api_key: str, project_title: str, n: int = 12) -> int:
    """Annotate the first ``n`` tasks the way the suggester proposed, with a corrected answer:
    a stand-in for a domain expert, so the demo can show routing. A task annotated before is
    left alone, so a rerun adds nothing."""
    from annotation.client import LabelStudioClient
    from annotation.push import ensure_project

    done = 0
    with LabelStudioClient(url, api_key) as client:
        project = ensure_project(client, project_title)
        tasks = sorted(client.iter_tasks(project), key=lambda t: int(t["id"]))[:n]
        for task in tasks:
            if task.get("annotations") or not task.get("predictions"):
                continue
            predictions = task["predictions"]
            first = predictions[0] if isinstance(predictions[0], dict) else None
            choice = first["result"][0]["value"]["choices"][0] if first else "domain_knowledge"
            result: list[dict[str, Any]] = [
                {"from_name": "error_type", "to_name": "answer", "type": "choices",
                 "value": {"choices": [choice]}},
                {"from_name": "corrected_answer", "to_name": "answer", "type": "textarea",
                 "value": {"text": [f"- corrected answer for task {task['id']} ({choice})"]}},
            ]  # fmt: skip
            client.create_annotation(int(task["id"]), result)
            done += 1
    return done


def run_demo(settings: Settings, *, echo: Echo = print) -> DemoResult:
    """Create or upgrade the warehouse, run every flow offline, and summarise what was made."""
    wh = settings.warehouse()
    applied = migrate(wh)
    echo(f"[1/{STEPS}] warehouse {wh.path}: {len(applied)} migration(s) applied")

    # Prefect is imported here, not at start-up: it costs seconds.
    from flows.crawl_arxiv import crawl_arxiv_flow
    from flows.export_datasets import export_datasets_flow
    from flows.parse_pdfs import parse_pdfs_flow
    from flows.status import status_flow
    from report.html import write_report

    home = str(settings.home)
    with SampleServer(sample_papers(DEMO_PAPERS)) as server:
        echo(f"[2/{STEPS}] crawl-arxiv against the bundled sample at {server.url}")
        with _env(
            {
                "SCICURATE_ARXIV_OAI_URL": f"{server.url}/oai",
                "SCICURATE_ARXIV_PDF_URL": f"{server.url}/pdf/",
                "SCICURATE_ARXIV_MIN_INTERVAL_S": "0.05",  # a local server; arXiv gets 3 s
            }
        ):
            counts = crawl_arxiv_flow(
                categories=["cs.AI", "cs.CV", "cs.LG"], from_date="2026-11-01", pdfs=True,
                home=home,
            )  # fmt: skip
    echo(
        f"      papers: {counts['new']} new, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged; PDFs: {counts.get('pdfs_ok', 0)} downloaded, "
        f"{counts.get('pdfs_quarantined', 0)} quarantined"
    )
    echo(f"[3/{STEPS}] parse-pdfs (PyMuPDF, isolated workers)")
    parsed = parse_pdfs_flow(parser="pymupdf", home=home)
    echo(
        f"      {parsed['documents']} documents parsed ({parsed['ok']} ok, {parsed['failed']} "
        f"failed), {parsed['pages_per_s']} pages/s"
    )
    echo(f"[4/{STEPS}] export-datasets (sft-title, cpt-corpus)")
    versions = export_datasets_flow(datasets=["sft-title", "cpt-corpus"], home=home)

    result = DemoResult(status=status_flow(home))
    result.datasets.update(versions)
    echo(f"[5/{STEPS}] feedback: {DEMO_FEEDBACK} sample ratings into the inbox -> Label Studio")
    write_jsonl(sample_feedback(DEMO_FEEDBACK), settings.feedback_inbox / "demo-ratings.jsonl")
    result.label_studio = _feedback_loop(settings, echo, result)

    echo(f"[6/{STEPS}] report")
    result.report = write_report(wh, settings.home / "report")
    echo(f"[7/{STEPS}] status flow (publishes the `status` artifact)")
    result.status = status_flow(home)
    _summary(settings, result, echo)
    return result


def _feedback_loop(settings: Settings, echo: Echo, result: DemoResult) -> str:
    from annotation.server import find_executable, local_server, save_credentials
    from flows.feedback import route_feedback_flow, sync_annotations_flow

    home = str(settings.home)
    try:
        find_executable()
    except LabelStudioUnavailableError as exc:
        echo(f"      Label Studio skipped: {exc}")
        out = route_feedback_flow(home=home)  # ingests; negatives wait in the queue
        echo(f"      {out['ingested']} ratings stored; {out['queue_depth']} negatives queued")
        return f"skipped ({exc})"
    server = local_server(settings.home / "label-studio")
    echo("      starting Label Studio on loopback (about 40 s the first time, 7 s after)")
    with server:
        save_credentials(server)
        env = {"LABEL_STUDIO_URL": server.url, "LABEL_STUDIO_API_KEY": server.api_key}
        with _env(env):
            out = route_feedback_flow(home=home)
            echo(
                f"      route-feedback: {out['ingested']} stored, {out['no_consent']} without "
                f"consent (not stored), {out['pushed']} negatives pushed with suggestions"
            )
            n = _scripted_expert(server.url, server.api_key, settings.label_studio_project)
            echo(f"      a scripted expert annotated {n} tasks (the real ones use the UI)")
            synced = sync_annotations_flow(home=home)
            echo(f"      sync-annotations: {synced['new']} new annotations, {synced['consensus']}")
    from warehouse.datasets import list_versions

    for item in list_versions(settings.datasets_dir):
        result.datasets[str(item["name"])] = int(item["version"])
    return server.url


def _summary(settings: Settings, result: DemoResult, echo: Echo) -> None:
    home = settings.home
    echo("")
    echo("done. What was made:")
    for name, version in sorted(result.datasets.items()):
        echo(f"  dataset {name} v{version}: {settings.datasets_dir / name / f'v{version}'}")
    echo(f"  report: {result.report} (open it in a browser; it works offline)")
    if result.label_studio and not result.label_studio.startswith("skipped"):
        echo(
            f"  Label Studio: run `scicurate --home {home} annotate server` (same data, same "
            f"login; credentials in {home / 'label-studio' / 'scicurate-credentials.json'}), "
            "open the URL it prints, annotate in the project 'scicurate error triage', then "
            f"`scicurate --home {home} annotate sync` routes your annotations into new versions."
        )
    echo(f"  status: `scicurate --home {home} status`; PDFs under {settings.pdf_dir}")
