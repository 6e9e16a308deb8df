"""Prefect defaults: offline on one machine, and run ids in every log line. The user's own
settings win."""

from __future__ import annotations

import os

# Prefect's console lines name the flow run; these add its id (the `runs.run_id` scicurate
# records), so a log line leads straight to the run in the UI, the catalog and the artifacts.
# prefect.yaml sets the same variables for workers.
LOG_FORMATS = {
    "PREFECT_LOGGING_FORMATTERS_STANDARD_FLOW_RUN_FMT": (
        "%(asctime)s.%(msecs)03d | %(levelname)-7s | Flow run %(flow_run_name)r "
        "%(flow_run_id)s - %(message)s"
    ),
    "PREFECT_LOGGING_FORMATTERS_STANDARD_TASK_RUN_FMT": (
        "%(asctime)s.%(msecs)03d | %(levelname)-7s | Task run %(task_run_name)r "
        "(flow run %(flow_run_id)s) - %(message)s"
    ),
}

OFFLINE_DEFAULTS = {
    # The ephemeral API server needs 9-12 s on a cold start; Prefect's default gives up sooner.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "60",
    # Telemetry cannot reach its endpoint here and logs an error on every start.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    **LOG_FORMATS,
}


def configure_prefect_defaults() -> None:
    """Set offline-friendly Prefect defaults for settings the user has not set.

    Call before Prefect is imported: it reads its settings from the environment on import.
    """
    for key, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)
