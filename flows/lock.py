"""One run at a time per output: an advisory file lock held for the whole run.

``flock`` locks belong to the open file, so the kernel drops the lock when the holder exits in any
way, SIGKILL included: there is no stale lock to clean up by hand.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import tempfile
import time
from datetime import datetime, timezone

from flows.store import Store

LOCK_FILE = ".newsclean.lock"


class OutputLocked(RuntimeError):
    """Another run holds the output; the message says which and what to do."""


def lock_path(store: Store) -> str:
    """The lock file: inside a local output; for an object store, a file on this machine named after the URI."""
    if store.is_local:
        return os.path.join(store.root, LOCK_FILE)
    digest = hashlib.sha256(f"{type(store.filesystem).__name__}:{store.root}".encode()).hexdigest()[:16]
    folder = os.path.join(tempfile.gettempdir(), "newsclean-locks")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, f"{digest}.lock")


def locked_message(store: Store, holder: str) -> str:
    return (f"{store.root} is in use by another newsclean run ({holder}); "
            "wait for it to finish, or pass --wait SECONDS to queue behind it")


class OutputLock:
    """``with OutputLock(store, wait=False):`` raises :class:`OutputLocked` at once, or waits up to ``wait`` seconds."""

    def __init__(self, store: Store, *, wait: float = 0.0, poll: float = 0.2):
        self.store, self.wait, self.poll = store, wait, poll
        self.path = lock_path(store)
        self._handle = None

    def __enter__(self) -> "OutputLock":
        handle = open(self.path, "a+")
        deadline = time.monotonic() + max(self.wait, 0.0)
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(self.path)
                    handle.close()
                    raise OutputLocked(locked_message(self.store, holder)) from None
                time.sleep(self.poll)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}))
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def current_holder(store: Store) -> str | None:
    """Who holds the output's lock right now ("pid ... on ... since ..."), or None when it is free.

    Only a courtesy check before a run starts (the run takes the lock itself, which decides): it lets the
    command line say so at once instead of after Prefect's start-up.
    """
    with open(lock_path(store), "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder(handle.name)
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return None


def _holder(path: str) -> str:
    try:
        with open(path) as handle:
            info = json.loads(handle.read() or "{}")
        return f"pid {info['pid']} on {info['host']} since {info['since']}"
    except (OSError, ValueError, KeyError):
        return "holder unknown"
