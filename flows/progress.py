"""What a run shows while it works: a progress bar on a terminal, progress lines elsewhere, and its run logger."""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
import uuid

# Off a terminal (cron, CI, a log file) a progress line is printed at most this often, and once at the end.
PROGRESS_SECONDS_ENV = "NEWSCLEAN_PROGRESS_SECONDS"
DEFAULT_PROGRESS_SECONDS = 10.0


def run_logger() -> logging.Logger | logging.LoggerAdapter:
    """Prefect's logger of the current flow or task run (its lines appear in the UI), else a plain logger."""
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_run_logger

    try:
        return get_run_logger()
    except MissingContextError:  # called as clean_news.fn(...) or from a plain script
        return logging.getLogger("newsclean")


def _interval() -> float:
    try:
        return max(0.0, float(os.environ.get(PROGRESS_SECONDS_ENV, DEFAULT_PROGRESS_SECONDS)))
    except ValueError:
        return DEFAULT_PROGRESS_SECONDS


class Progress:
    """Documents finished out of those found so far.

    On a terminal, a tqdm bar on stderr that moves as each document is finished; otherwise a line
    ``clean-news: 1200/5000 documents (24%), 85 docs/s, 14 s`` every NEWSCLEAN_PROGRESS_SECONDS (default 10)
    and one at the end. ``advance`` may be called from any thread (the clean task runs in a worker thread).
    The total starts at the number of input files and grows as ``.jsonl`` files turn out to hold many documents.
    """

    _registry: dict[str, "Progress"] = {}

    def __init__(self, total: int, *, desc: str = "clean-news", stream=None):
        self.total, self.done, self.desc = total, 0, desc
        self.stream = stream or sys.stderr
        self.key = uuid.uuid4().hex
        self.started = self.last_line = time.monotonic()
        self.interval = _interval()
        self._lock = threading.Lock()
        self._bar = None
        if _isatty(self.stream):
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="doc", desc=desc, file=self.stream, leave=False)

    @classmethod
    def registered(cls, key: str) -> "Progress | None":
        """The run's progress with this key in this process (a task finds it by key; a Dask worker finds none)."""
        return cls._registry.get(key) if key else None

    def __enter__(self) -> "Progress":
        Progress._registry[self.key] = self
        return self

    def __exit__(self, *exc) -> None:
        Progress._registry.pop(self.key, None)
        self.close(finished=exc[0] is None)

    def grow(self, extra: int) -> None:
        if not extra:
            return
        with self._lock:
            self.total = max(self.done, self.total + extra)
            if self._bar is not None:
                self._bar.total = self.total
                self._bar.refresh()

    def advance(self, count: int = 1) -> None:
        if count <= 0:
            return
        with self._lock:
            self.done += count
            if self._bar is not None:
                self._bar.update(count)
            elif time.monotonic() - self.last_line >= self.interval:
                self._line()

    def _line(self) -> None:
        self.last_line = now = time.monotonic()
        seconds = now - self.started
        share = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        rate = f", {self.done / seconds:.3g} docs/s" if seconds > 0 else ""
        print(f"{self.desc}: {self.done}/{self.total} documents{share}{rate}, {seconds:.0f} s", file=self.stream,
              flush=True)

    def close(self, finished: bool = True) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
            elif finished and self.done:
                self._line()


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
