"""Defaults that make Prefect work offline on one machine; the user's own settings win."""

from __future__ import annotations

import os

OFFLINE_DEFAULTS = {
    # The ephemeral API server needs 9-12 s on a cold start; Prefect's default gives up sooner.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "60",
    # Telemetry cannot reach its endpoint here and logs an error on every start.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}


def configure_prefect_defaults() -> None:
    """Set offline-friendly Prefect defaults for settings the user has not set.

    Call before Prefect is imported: it reads its settings from the environment on import.
    """
    for key, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)
