"""Prefect flows: thin adapters over the jobs (``jobs/``), plus deployments, serve and Dask.

Importing the package installs the cross-process pacing hook into the HTTP client.
"""

from core.http import set_pacing_hook
from flows.pacing import prefect_global_slot

set_pacing_hook(prefect_global_slot)
