"""Pacing across processes: a Prefect global rate limit per site, taken before each request.

``core.http.PoliteClient`` spaces its own requests; when a flow runs against a server where
``scicurate deploy`` created the limit (``arxiv``, ``openreview``), every process of every
deployment also shares one slot per interval. The hook is installed when ``flows`` is
imported, so the HTTP client itself never imports Prefect.
"""

from __future__ import annotations

import logging
import sys

log = logging.getLogger(__name__)

_LIMIT_EXISTS: dict[str, bool] = {}  # per process: looked up once, not per request


def prefect_global_slot(name: str) -> None:
    """Wait for a slot of the Prefect rate limit ``name`` inside a flow run, where the limit
    exists; outside a flow run, or without the limit, return at once (nothing is logged per
    request)."""
    if _LIMIT_EXISTS.get(name) is False or "prefect" not in sys.modules:
        return
    from prefect.context import FlowRunContext

    if FlowRunContext.get() is None:
        return
    from prefect.concurrency.sync import rate_limit

    if name not in _LIMIT_EXISTS:
        from prefect import get_client
        from prefect.exceptions import ObjectNotFound

        with get_client(sync_client=True) as client:
            try:
                client.read_global_concurrency_limit_by_name(name)
                _LIMIT_EXISTS[name] = True
            except ObjectNotFound:
                _LIMIT_EXISTS[name] = False
                log.info("no global concurrency limit %r on this Prefect server", name)
                return
    rate_limit(name, strict=False)
