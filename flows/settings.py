"""Process-wide defaults that keep Prefect offline, quiet and patient on a cold start."""
from __future__ import annotations

import os
from contextlib import contextmanager

PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # The run logger's INFO lines (per batch: read, cleaned, quarantined, written) go to the API, so the UI shows
    # them; the console shows warnings and errors only (-v: everything).
    "PREFECT_LOGGING_LEVEL": "INFO",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
    # The embedded server once took 17 s to start cold on 2 cores; Prefect's default is 20 s.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
}


def apply_prefect_defaults() -> None:
    """Set the defaults above unless the user set them; call before importing prefect."""
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)


def configure_output(verbose: bool = False) -> None:
    """Console verbosity of Prefect, Dask (``distributed`` logs 30-odd INFO lines per local cluster) and Great
    Expectations; call before importing them. Quiet unless ``verbose``; an explicit environment setting wins."""
    import logging

    if verbose:
        os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "INFO"
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "info" if verbose else "warning")
    logging.getLogger("great_expectations").setLevel(logging.INFO if verbose else logging.WARNING)
    # Hundreds of "Skipping registering function ..." lines at import, about GX's own API docs.
    logging.getLogger("great_expectations._docs_decorators").setLevel(logging.WARNING)


class Stopped(BaseException):
    """SIGTERM arrived while ``newsclean run`` was outside the flow (Prefect raises its TerminationSignal inside)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def is_stop_signal(error: BaseException) -> bool:
    """Whether ``error`` is a run being stopped (SIGTERM, Ctrl-C), not a failure."""
    if isinstance(error, (Stopped, KeyboardInterrupt)):
        return True
    from prefect.exceptions import TerminationSignal

    return isinstance(error, TerminationSignal)


def silence_console() -> None:
    """Nothing more on the console from logging (a stopped run's abandoned tasks); the API still gets the logs."""
    import logging

    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.CRITICAL + 1)


def default_workers() -> int:
    """Worker processes when --workers is not given: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


# Fault injection for the crash tests: NEWSCLEAN_CRASH_AT=POINT kills the run with SIGKILL the first time it
# reaches the named point, NEWSCLEAN_CRASH_AT=POINT:N when commit N reaches it (points without a number
# match POINT only). The points are listed in CRASH_POINTS. Unset in normal use; costs one lookup.
CRASH_ENV = "NEWSCLEAN_CRASH_AT"
CRASH_POINTS = (
    "after-articles",         # a commit's articles file is staged (pending)
    "after-quarantine",       # its quarantine file too
    "before-commit-record",   # every file of the commit is staged
    "after-commit-record",    # the commit point: the record is written, nothing renamed yet
    "mid-publish",            # the commit's first file has its final name, the others not yet
    "after-ledger",           # the commit is complete
    "mid-story-save",         # the run's end: the story index's new generation is written, CURRENT not switched
    "after-story-save",       # CURRENT switched, the folded deltas not deleted yet
    "mid-site-lines-save",    # the site line counts' new base is written, the folded deltas not deleted
    "before-swap",            # --full: the staged dataset is marked ready, nothing swapped yet
    "mid-swap",               # --full: one table swapped in, the others not yet
)


def crash_point(name: str, batch: int | None = None) -> None:
    """Kill this process the hard way if NEWSCLEAN_CRASH_AT names this point (and commit)."""
    wanted = os.environ.get(CRASH_ENV)
    if wanted and (wanted == name or (batch is not None and wanted == f"{name}:{batch}")):
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


@contextmanager
def deferred_signals():
    """Hold SIGTERM and SIGINT while the block runs (a commit), then deliver the first one received to the
    handler that was in place: a stopped run finishes the commit it started instead of leaving it to the
    next run's recovery. Outside the main thread (where Python cannot set handlers) the block runs as is."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {number: signal.signal(number, lambda signum, frame: received.append(signum))
                for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
        if received:
            signal.raise_signal(received[0])
