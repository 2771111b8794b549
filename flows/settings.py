"""Process-wide defaults that keep Prefect offline, quiet and patient on a cold start."""
from __future__ import annotations

import os

PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    # The embedded server once took 17 s to start cold on 2 cores; Prefect's default is 20 s.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
}


def apply_prefect_defaults() -> None:
    """Set the defaults above unless the user set them; call before importing prefect."""
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)
