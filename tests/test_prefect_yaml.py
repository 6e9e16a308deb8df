"""prefect.yaml names real flows with the schedules the design asks for."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
EXPECTED = {
    "crawl-arxiv": "0 2 * * *",  # daily 02:00
    "crawl-openreview": "0 3 * * 1",  # weekly
    "parse-pdfs": "*/30 * * * *",  # every 30 min
    "parse-pdfs-gpu": "15,45 * * * *",  # every 30 min, on the gpu pool (paused)
    "route-feedback": "*/10 * * * *",  # every 10 min
    "sync-annotations": "5-55/10 * * * *",  # every 10 min, offset from route-feedback
    "export-datasets": "0 4 * * *",  # daily 04:00
}


def test_deployments_point_at_flows_with_their_schedules() -> None:
    config = yaml.safe_load((REPO / "prefect.yaml").read_text())
    deployments = {d["name"]: d for d in config["deployments"]}
    assert {name: d["schedules"][0]["cron"] for name, d in deployments.items()} == EXPECTED
    for name, deployment in deployments.items():
        path, func = deployment["entrypoint"].split(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        flow = getattr(module, func)
        assert flow.name == name.removesuffix("-gpu")  # the flow name matches the deployment
        assert deployment["schedules"][0]["timezone"] == "UTC"


def test_workers_log_the_flow_run_id() -> None:
    from flows.prefect_env import LOG_FORMATS

    config = yaml.safe_load((REPO / "prefect.yaml").read_text())
    for deployment in config["deployments"]:
        assert deployment["work_pool"]["job_variables"]["env"] == LOG_FORMATS
