"""Deploying and serving scicurate's flows, from the one description in ``prefect.yaml``.

``deploy`` registers, on the Prefect server named by ``PREFECT_API_URL``: the work pools
(``cpu`` and ``gpu``, process type), the global concurrency limits (``arxiv`` and
``openreview`` as rate limits that match the sources' politeness, ``gpu`` with one slot per
GPU), and every deployment (through ``prefect deploy --all``, so what is registered is exactly
what ``prefect.yaml`` says). All of it is idempotent. ``serve`` runs every active deployment on
its schedule in this process (Prefect's ``serve``), for a single machine, and stops cleanly on
SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.errors import ScicurateError
from settings import Settings

REPO = Path(__file__).resolve().parents[1]


class DeployError(ScicurateError):
    """prefect.yaml is missing or wrong, or the Prefect server refused a registration."""


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    entrypoint: str
    cron: str
    timezone: str
    work_pool: str
    active: bool = True
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LimitSpec:
    name: str
    limit: int
    slot_decay_per_second: float = 0.0  # > 0: a rate limit (slots come back at this rate)


def find_config(path: Path | None = None) -> Path:
    for candidate in (path, Path.cwd() / "prefect.yaml", REPO / "prefect.yaml"):
        if candidate is not None and candidate.is_file():
            return candidate
    raise DeployError("prefect.yaml not found: run from the project folder or pass --config")


def load_specs(path: Path | None = None) -> list[DeploymentSpec]:
    config = yaml.safe_load(find_config(path).read_text())
    specs = []
    for d in config.get("deployments") or []:
        try:
            schedule = d["schedules"][0]
            specs.append(
                DeploymentSpec(
                    name=d["name"],
                    entrypoint=d["entrypoint"],
                    cron=schedule["cron"],
                    timezone=schedule.get("timezone", "UTC"),
                    work_pool=d["work_pool"]["name"],
                    active=bool(schedule.get("active", True)),
                    description=d.get("description", ""),
                    parameters=dict(d.get("parameters") or {}),
                )
            )
        except (KeyError, IndexError, TypeError) as exc:
            raise DeployError(f"deployment {d.get('name', '?')!r} is incomplete: {exc}") from None
    return specs


def load_flow(entrypoint: str) -> Any:
    path, func = entrypoint.split(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return getattr(module, func)


def limits_for(settings: Settings, gpus: int) -> list[LimitSpec]:
    def rate(interval: float) -> float:
        return 1.0 / interval if interval > 0 else 0.0

    return [
        LimitSpec("arxiv", 1, rate(settings.arxiv_min_interval_s)),
        LimitSpec("openreview", 1, rate(settings.openreview_min_interval_s)),
        LimitSpec("gpu", max(gpus, 1)),
    ]


def count_gpus() -> int:
    try:
        import torch
    except ImportError:
        return 0
    return int(torch.cuda.device_count())


async def _ensure_pools_and_limits(pools: set[str], limits: list[LimitSpec]) -> None:
    from prefect import get_client
    from prefect.client.schemas.actions import (
        GlobalConcurrencyLimitCreate,
        GlobalConcurrencyLimitUpdate,
        WorkPoolCreate,
    )
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    async with get_client() as client:
        for pool in sorted(pools):
            with contextlib.suppress(ObjectAlreadyExists):  # idempotent: the pool is there
                await client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
        for lim in limits:
            try:
                await client.read_global_concurrency_limit_by_name(lim.name)
            except ObjectNotFound:
                await client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(
                        name=lim.name,
                        limit=lim.limit,
                        slot_decay_per_second=lim.slot_decay_per_second,
                        active=True,
                    )
                )
            else:
                await client.update_global_concurrency_limit(
                    lim.name,
                    GlobalConcurrencyLimitUpdate(
                        limit=lim.limit, slot_decay_per_second=lim.slot_decay_per_second
                    ),
                )


def deploy(
    settings: Settings, *, config: Path | None = None, gpus: int | None = None
) -> list[DeploymentSpec]:
    """Register pools, limits and every deployment on the Prefect server (idempotent)."""
    if not os.environ.get("PREFECT_API_URL"):
        raise DeployError(
            "PREFECT_API_URL is not set: point it at a Prefect server "
            "(e.g. http://127.0.0.1:4200/api after `prefect server start`)"
        )
    path = find_config(config)
    specs = load_specs(path)
    for spec in specs:
        load_flow(spec.entrypoint)  # fail here, with a clear message, on a broken entrypoint
    limits = limits_for(settings, count_gpus() if gpus is None else gpus)
    asyncio.run(_ensure_pools_and_limits({s.work_pool for s in specs}, limits))
    env = {**os.environ, "SCICURATE_PROJECT_DIR": str(path.parent)}
    proc = subprocess.run(
        [sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--all"],
        cwd=path.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-12:]
        raise DeployError("prefect deploy failed:\n" + "\n".join(tail))
    return specs


def serve(*, config: Path | None = None, home: str | None = None) -> int:
    """Run every active deployment on its schedule in this process until SIGTERM/Ctrl-C;
    returns how many deployments were served."""
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.runner import Runner

    deployments = []
    for spec in load_specs(config):
        if not spec.active:
            continue
        params = dict(spec.parameters)
        if home is not None:
            params["home"] = home
        deployments.append(
            load_flow(spec.entrypoint).to_deployment(
                name=spec.name,
                schedule=CronSchedule(cron=spec.cron, timezone=spec.timezone),
                parameters=params,
                description=spec.description,
            )
        )
    runner = Runner(name="scicurate", pause_on_shutdown=False)

    async def main() -> None:
        for deployment in deployments:
            await runner.aadd_deployment(deployment)
        loop = asyncio.get_running_loop()

        async def take_over_signals() -> None:
            # Runner.start() installs a SIGTERM handler that calls sys.exit() wherever the
            # loop happens to be; replace it (this runs right after start() begins) with a
            # graceful stop, so the process exits 0 once the runner has shut down.
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, lambda: loop.create_task(runner.astop()))
            print(
                f"scicurate serve: {len(deployments)} deployments are being served "
                "(SIGTERM or Ctrl-C stops)",
                flush=True,
            )

        takeover = asyncio.create_task(take_over_signals())
        await runner.start()
        await takeover

    asyncio.run(main())
    return len(deployments)
