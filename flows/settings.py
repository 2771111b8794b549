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


def default_workers() -> int:
    """Worker processes when --workers is not given: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


# Fault injection for the crash-safety test: NEWSCLEAN_CRASH_AT=after-articles:1 kills the run with
# SIGKILL right after batch 1 wrote its articles file. Unset in normal use; costs one dict lookup.
CRASH_ENV = "NEWSCLEAN_CRASH_AT"


def crash_point(name: str, batch: int) -> None:
    """Kill this process the hard way if NEWSCLEAN_CRASH_AT names this point and batch."""
    wanted = os.environ.get(CRASH_ENV)
    if wanted and wanted == f"{name}:{batch}":
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
