"""One run at a time per output: an advisory file lock held for the whole run.

``flock`` locks belong to the open file, so the kernel drops the lock when the holder exits in any
way, SIGKILL included: there is no stale lock to clean up by hand.

A local output's lock is ``DIR/.newsclean.lock``. An object store's lives on this machine, in a private
folder of the user's (``$NEWSCLEAN_LOCK_DIR``, else ``$XDG_RUNTIME_DIR/newsclean-locks``, else
``~/.cache/newsclean/locks``): it must be a real folder owned by the user and closed to others, or the
run refuses to start (in a shared temporary folder another user could create the lock first, blocking
every run, or plant a symbolic link that a run as root would write through). Lock files are opened
without following symbolic links and must be regular files.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import socket
import stat
import time
from datetime import datetime, timezone

from flows.store import Store

LOCK_FILE = ".newsclean.lock"


class OutputLocked(RuntimeError):
    """Another run holds the output; the message says which and what to do."""


class LockError(ValueError):
    """The lock cannot be used safely (a link, a folder others can write to); the message says what to fix."""


def lock_path(store: Store) -> str:
    """The lock file: inside a local output; for an object store, a file in the user's private lock folder
    named after the URI."""
    if store.is_local:
        return os.path.join(store.root, LOCK_FILE)
    digest = hashlib.sha256(f"{type(store.filesystem).__name__}:{store.root}".encode()).hexdigest()[:16]
    return os.path.join(private_lock_folder(), f"{digest}.lock")


def private_lock_folder() -> str:
    """The folder of object-store locks, created private (0700) if missing, checked if not."""
    folder = os.environ.get("NEWSCLEAN_LOCK_DIR")
    if not folder:
        runtime = os.environ.get("XDG_RUNTIME_DIR")
        folder = (os.path.join(runtime, "newsclean-locks") if runtime else
                  os.path.join(os.path.expanduser("~"), ".cache", "newsclean", "locks"))
    os.makedirs(os.path.dirname(folder) or ".", exist_ok=True)
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise LockError(f"{folder}: the lock folder is not a folder (a symbolic link?); remove it or set "
                        "NEWSCLEAN_LOCK_DIR to a private folder")
    if info.st_uid != os.geteuid():
        raise LockError(f"{folder}: the lock folder belongs to another user (uid {info.st_uid}); remove it or "
                        "set NEWSCLEAN_LOCK_DIR to a folder of yours")
    if info.st_mode & 0o022:
        os.chmod(folder, 0o700)  # ours, but others could add files: close it
    return folder


def open_lock_file(path: str) -> int:
    """A descriptor of the lock file, created 0644 (less the umask) if missing, never through a link."""
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise LockError(f"{path}: the lock file is a symbolic link; remove it") from None
        raise
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise LockError(f"{path}: the lock file is not a regular file; remove it")
    return descriptor


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
        handle = open(open_lock_file(self.path), "r+")
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
    path = lock_path(store)
    with open(open_lock_file(path), "r+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder(path)
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return None


def _holder(path: str) -> str:
    try:
        with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)) as handle:
            info = json.loads(handle.read() or "{}")
        return f"pid {info['pid']} on {info['host']} since {info['since']}"
    except (OSError, ValueError, KeyError):
        return "holder unknown"
