"""A real Prefect server: deploy everything from prefect.yaml, run each flow through a process
worker against the replay servers, read back states and artifacts; then `scicurate serve`
and its clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from annotation.sample import sample_feedback, write_jsonl
from annotation.server import LabelStudioServer, free_port
from demo.sample import sample_papers
from demo.server import SampleServer
from flows.deploy import load_specs
from tests.openreview_replay import PASSWORD, USER, V2_VENUE, serve_openreview
from tests.prefect_helpers import stop_process_group
from tests.replay import ReplayServer

REPO = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _base_env(api_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SCICURATE_"))}
    env.update(
        {
            "PREFECT_API_URL": api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_HOME": os.environ["PREFECT_HOME"],
        }
    )
    return env


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    home = tmp_path_factory.mktemp("prefect-server")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    log = (home / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert proc.poll() is None, (home / "server.log").read_text()[-2000:]
            try:
                if requests.get(f"{url}/health", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("prefect server did not start in 90 s")
        yield url
    finally:
        stop_process_group(proc, grace_s=30)
        log.close()


def _client_call(api_url: str, fn: Any) -> Any:
    """Run ``fn(client)`` (async) against the server at ``api_url``."""
    import asyncio

    from prefect import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def go() -> Any:
        async with get_client() as client:
            return await fn(client)

    with temporary_settings({PREFECT_API_URL: api_url}):
        return asyncio.run(go())


# Six flow runs through a real worker, then `serve`: about 250-280 s on two loaded cores, too
# close to the suite's 300 s per-test limit.
@pytest.mark.timeout(900)
def test_deploy_run_every_flow_and_serve(
    prefect_server: str,
    tmp_path: Path,
    shared: Path,
    label_studio: LabelStudioServer,
    project_title: str,
) -> None:
    env = _base_env(prefect_server)
    deploy = subprocess.run(
        [sys.executable, "-m", "cli", "--home", str(tmp_path / "home"), "deploy",
         "--gpus", "2"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    specs = {s.name: s for s in load_specs(REPO / "prefect.yaml")}
    assert {
        "crawl-arxiv", "crawl-openreview", "parse-pdfs", "parse-pdfs-gpu", "route-feedback",
        "sync-annotations", "export-datasets",
    } == set(specs)  # fmt: skip

    async def registered(client: Any) -> Any:
        deployments = await client.read_deployments()
        pools = {p.name: p.type for p in await client.read_work_pools()}
        limits = {
            name: await client.read_global_concurrency_limit_by_name(name)
            for name in ("arxiv", "openreview", "gpu")
        }
        return deployments, pools, limits

    deployments, pools, limits = _client_call(prefect_server, registered)
    assert pools == {"cpu": "process", "gpu": "process"}
    assert limits["arxiv"].limit == 1 and limits["arxiv"].slot_decay_per_second == pytest.approx(
        1 / 3
    )
    assert limits["openreview"].slot_decay_per_second == pytest.approx(1 / 2)
    assert limits["gpu"].limit == 2
    seen = {}
    for d in deployments:
        [schedule] = d.schedules
        seen[d.name] = (schedule.schedule.cron, schedule.schedule.timezone, schedule.active,
                        d.work_pool_name)  # fmt: skip
    assert seen == {name: (s.cron, "UTC", s.active, s.work_pool) for name, s in specs.items()}
    assert seen["route-feedback"][0] == "*/10 * * * *" and seen["export-datasets"][0] == "0 4 * * *"

    # One run of each flow, through a real process worker, against the replay servers.
    home = tmp_path / "home"
    write_jsonl(sample_feedback(40, seed=8), home / "feedback" / "inbox" / "ratings.jsonl")
    with SampleServer(sample_papers(20)) as arxiv, ReplayServer() as openreview:
        serve_openreview(openreview, shared)
        worker_env = {
            **env,
            "SCICURATE_PROJECT_DIR": str(REPO),
            "SCICURATE_HOME": str(home),
            "SCICURATE_ARXIV_OAI_URL": f"{arxiv.url}/oai",
            "SCICURATE_ARXIV_PDF_URL": f"{arxiv.url}/pdf/",
            "SCICURATE_ARXIV_MIN_INTERVAL_S": "0.05",
            "SCICURATE_OPENREVIEW_API_URL": f"{openreview.url}/api2",
            "SCICURATE_OPENREVIEW_API_V1_URL": f"{openreview.url}/api1",
            "SCICURATE_OPENREVIEW_WEB_URL": openreview.url,
            "SCICURATE_OPENREVIEW_MIN_INTERVAL_S": "0.01",
            "OPENREVIEW_USERNAME": USER,
            "OPENREVIEW_PASSWORD": PASSWORD,
            "LABEL_STUDIO_URL": label_studio.url,
            "LABEL_STUDIO_API_KEY": label_studio.api_key,
            "SCICURATE_LABEL_STUDIO_PROJECT": project_title,
            "PREFECT_WORKER_QUERY_SECONDS": "1",
        }
        log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "prefect", "worker", "start", "--pool", "cpu", "--type",
             "process"],
            cwd=REPO, env=worker_env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            runs = [
                ("crawl-arxiv", {"from_date": "2026-11-01"}, "crawl-arxiv"),
                ("crawl-openreview", {"venues": [V2_VENUE], "pdfs": False}, "crawl-openreview"),
                ("parse-pdfs", {}, "parse-pdfs"),
                ("export-datasets", {}, "export-datasets"),
                ("route-feedback", {}, "route-feedback"),
                ("sync-annotations", {}, "sync-annotations"),
            ]
            for deployment, params, artifact in runs:
                flow_run = _run(prefect_server, deployment, params)
                assert flow_run.state.is_completed(), (
                    deployment, flow_run.state, (tmp_path / "worker.log").read_text()[-3000:],
                )  # fmt: skip
                rows = _artifact(prefect_server, artifact, flow_run.id)
                assert rows, deployment
        finally:
            # Every run has completed by now; a worker slow to exit on a loaded machine is
            # killed after its grace instead of failing the test.
            stop_process_group(worker, grace_s=30)
            log.close()
    assert (home / "datasets" / "sft-title" / "v1" / "manifest.json").exists()

    # `scicurate serve`: every active deployment served from one process; SIGTERM stops it.
    serve_log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "cli", "--home", str(home), "serve"],
        cwd=REPO, env=env, stdout=serve_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            text = (tmp_path / "serve.log").read_text(errors="replace")
            if "are being served" in text or "is being served" in text:
                break
            assert serve.poll() is None, text[-3000:]
            time.sleep(0.5)
        else:
            pytest.fail("serve did not start: " + (tmp_path / "serve.log").read_text()[-2000:])
        served = _client_call(prefect_server, lambda c: c.read_deployments())
        assert {d.name for d in served} >= {s.name for s in specs.values() if s.active}
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(60) == 0
    finally:
        if serve.poll() is None:
            serve.kill()
        serve_log.close()


def _run(api_url: str, deployment: str, params: dict[str, Any]) -> Any:
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    flow_name = deployment
    with temporary_settings({PREFECT_API_URL: api_url}):
        return run_deployment(
            f"{flow_name}/{deployment}", parameters=params, timeout=300, poll_interval=1
        )


def _artifact(api_url: str, key: str, flow_run_id: Any) -> list[dict[str, Any]]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from tests.prefect_helpers import artifact_rows

    with temporary_settings({PREFECT_API_URL: api_url}):
        return artifact_rows(key, flow_run_id)
