"""A pool of worker processes that runs the per-document stages with a deadline per document.

trafilatura (and any regex) can hang on a pathological page and has no timeout of its own; a
thread cannot be stopped, so each document runs in a worker process and a worker that misses its
deadline is killed, the document is reported as ``timeout`` and a fresh worker takes the rest.

Workers are plain subprocesses (``python -m flows.workers``) talking length-prefixed pickles over
their stdin/stdout, not ``multiprocessing`` children: they also start inside daemonic processes
such as Dask workers, and they inherit nothing from a parent that has Prefect's threads running.

A pool starts no more workers than a call has chunks of work (a run of a few documents needs one, not one
per core: each holds about 100 MB), and a worker never outlives the process that started it, even a
SIGKILLed one whose worker is stuck in a regex that holds the GIL (see :func:`_die_with_parent`).
"""
from __future__ import annotations

import atexit
import ctypes
import gc
import importlib
import math
import os
import pickle
import selectors
import signal
import struct
import subprocess
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, replace
from queue import SimpleQueue
from typing import Any

# "module" or "module:function" that every worker imports (and calls) before it starts: a custom
# extractor, a patch in tests.
PRELOAD_ENV = "NEWSCLEAN_WORKER_PRELOAD"
# The pid of the process that started the worker (set by the pool): the worker ends when that process does.
PARENT_ENV = "NEWSCLEAN_WORKER_PARENT"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PARENT_POLL_SECONDS = 1.0  # where the kernel cannot watch the parent (not Linux): how often a thread looks
DEFAULT_DOC_TIMEOUT = 30.0
# Documents sent to a worker at once: enough to make the pipe round trip negligible, few enough that
# both workers get work from a small batch.
CHUNK_DOCS = 32
CHUNK_BYTES = 4 * 1024 * 1024
# A worker imports trafilatura, ftfy and friends before it is ready; a cold start on a loaded machine is slow.
STARTUP_TIMEOUT = 120.0

_HEADER = struct.Struct("!Q")


@dataclass(frozen=True)
class Failure:
    """A document the worker could not finish: ``timeout``, ``worker_crashed`` or ``error: ...``."""

    reason: str


# ----------------------------------------------------------------------------------------------
# The jobs: what a worker does to one item. They run in the worker process (or in-process with 0 workers).

_STATE: dict[str, Any] = {}


def _line_keys_job(doc, context):
    """RawDocument -> (site, line keys) of a plain-text document, or the quarantined Article (without raw bytes).

    The first of two passes over a batch's text documents: a site's repeated lines are chrome in every
    copy, the first one included, so the whole batch is counted before any document is cleaned.
    """
    from transforms.pipeline import decode_document

    article = decode_document(doc)
    if article.quarantined:
        return replace(article, raw=b"", text="")
    if article.input_format != "text":
        return article.site or "", []
    return article.site or "", _line_keys(article.text)


def _process_job(doc, context):
    """RawDocument -> (Article decoded, cleaned, structured and normalized, line keys or None).

    The article comes without its raw bytes or decoded text. ``context["chrome"]`` maps a site to its
    chrome line keys; a plain-text document of a site in ``context["count"]`` also returns its line keys.
    """
    from transforms.pipeline import StepInputs, decode_document, run_steps

    context = context or {}
    article = decode_document(doc)
    site, is_text = article.site or "", article.input_format == "text" and not article.quarantined
    keys = _line_keys(article.text) if is_text and site in context.get("count", ()) else None
    site_chrome = context.get("chrome", {}).get(site, frozenset()) if is_text else frozenset()
    inputs = StepInputs(refs=_STATE["refs"], site_chrome=site_chrome, line_cache=_cache("line_cache"))
    return replace(run_steps(article, inputs), raw=b"", text=""), keys


def _line_keys(text: str) -> list[str]:
    """The document's distinct chrome-like line keys, each distinct line text worked out once per worker."""
    from transforms.chrome import count_line_keys

    return list(count_line_keys([text], cache=_cache("key_cache")))


def _cache(name: str) -> dict:
    """One of the worker's line caches, started afresh once it holds more than LINE_CACHE_MAX lines."""
    from transforms.chrome import LINE_CACHE_MAX

    cache = _STATE[name]
    if len(cache) > LINE_CACHE_MAX:
        cache.clear()
    return cache


JOBS: dict[str, Callable[[Any, Any], Any]] = {"line_keys": _line_keys_job, "process": _process_job}


def _setup(refs) -> None:
    _STATE["refs"] = refs
    _STATE["line_cache"] = {}  # what the chrome stripper knows of each line text, valid for these refs only
    _STATE["key_cache"] = {}  # line text -> its line key ("" when not learnable); depends on the text alone


def _warm_up() -> None:
    """Load what the stages load lazily (language model, extractor caches) before any deadline runs."""
    from transforms.records import RawDocument

    page = "<html><head><title>Warm up</title></head><body><article>" + "<p>A sentence to warm up with.</p>" * 8
    for raw, hint in ((page.encode() + b"</article></body></html>", "html"), (b"A line of text.\n" * 8, "text")):
        try:
            doc = RawDocument(source_uri="warm-up", raw=raw, format_hint=hint)
            _line_keys_job(doc, None)
            _process_job(doc, {})
        except Exception:  # a broken stage shows up on the first real document, with its reason
            pass


# ----------------------------------------------------------------------------------------------
# Framing


def _frame(message: object) -> bytes:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(payload)) + payload


def _read_exactly(stream, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _die_with_parent() -> None:
    """End this worker when the process that started it ends, however it ends (a SIGKILL included).

    A worker waiting for work sees its stdin close, but one stuck on a hanging page never reads it again,
    and a Python thread watching the parent cannot run while a regex holds the GIL. On Linux the kernel
    kills the worker instead (PR_SET_PDEATHSIG); elsewhere a thread polls the parent's pid. The parent
    pid is checked after asking, in case the parent ended while this worker was starting.
    """
    parent = int(os.environ.get(PARENT_ENV) or 0)
    if not parent:  # started by hand (`python -m flows.workers`)
        return
    watched_by_kernel = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            watched_by_kernel = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)
    if not watched_by_kernel:
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(PARENT_POLL_SECONDS)
            os._exit(1)

        threading.Thread(target=watch, name="newsclean-worker-parent-watch", daemon=True).start()


def _worker_main() -> None:
    """Worker process loop: setup, then chunks of items, one reply frame per item."""
    _die_with_parent()
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # stray prints from libraries go to stderr, never into the frame stream
    inp = sys.stdin.buffer
    context = None
    preload = os.environ.get(PRELOAD_ENV)
    if preload:  # "module" or "module:function" (the function is called with no arguments)
        module_name, _, function = preload.partition(":")
        module = importlib.import_module(module_name)
        if function:
            getattr(module, function)()
    importlib.import_module("transforms.pipeline")  # pay the imports before saying ready
    while True:
        header = _read_exactly(inp, _HEADER.size)
        if header is None:
            return
        message = pickle.loads(_read_exactly(inp, _HEADER.unpack(header)[0]))
        kind = message[0]
        if kind == "setup":
            _setup(message[1])
            _warm_up()
            # Modules, models and reference data live as long as the worker: frozen, the cyclic garbage
            # collector stops walking them in each of its full collections.
            gc.collect()
            gc.freeze()
            out.write(_frame(("ready",)))
            continue
        if kind == "context":  # once per map call: what every item of the call shares (site chrome)
            context = message[1]
            continue
        _, job_name, items = message
        job = JOBS[job_name]
        for item in items:
            try:
                reply = ("ok", job(item, context))
            except Exception as error:  # one bad document must not take the batch down
                reply = ("error", f"error: {type(error).__name__}: {str(error)[:200]}")
            out.write(_frame(reply))


# ----------------------------------------------------------------------------------------------
# The parent side


# The kernel's parent-death signal fires when the *thread* that forked the worker ends, not its process: a
# worker forked by a task-runner thread would be killed, mid-run, when that thread is retired. Every worker
# is forked by one thread that lives as long as the process.
_SPAWN_REQUESTS: "SimpleQueue[tuple[Future, list[str], dict]]" = SimpleQueue()
_SPAWNER: threading.Thread | None = None
_SPAWNER_LOCK = threading.Lock()


def _spawner_loop() -> None:
    while True:
        future, command, options = _SPAWN_REQUESTS.get()
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(subprocess.Popen(command, **options))
            except BaseException as error:  # handed to the thread that asked
                future.set_exception(error)


def _spawn(command: list[str], **options) -> subprocess.Popen:
    """``subprocess.Popen(command, **options)``, forked by the process's one long-lived spawner thread."""
    global _SPAWNER
    with _SPAWNER_LOCK:
        if _SPAWNER is None or not _SPAWNER.is_alive():
            _SPAWNER = threading.Thread(target=_spawner_loop, name="newsclean-worker-spawner", daemon=True)
            _SPAWNER.start()
    future: Future = Future()
    _SPAWN_REQUESTS.put((future, command, options))
    return future.result()


class _Worker:
    def __init__(self, setup_frame: bytes):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        env[PARENT_ENV] = str(os.getpid())
        self.process = _spawn([sys.executable, "-m", "flows.workers"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, env=env, start_new_session=True)
        self.fd = self.process.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.buffer = bytearray()
        self.ready = False
        self.started = time.monotonic()
        self.task: list | None = None  # [chunk indexes, position]
        self.context_of: object = None
        self.last_progress = self.started
        self.process.stdin.write(setup_frame)
        self.process.stdin.flush()

    def send(self, frame: bytes) -> None:
        self.process.stdin.write(frame)
        self.process.stdin.flush()
        self.last_progress = time.monotonic()

    def frames(self) -> list | None:
        """Complete messages available now; None when the worker is gone."""
        try:
            data = os.read(self.fd, 1 << 22)
            gone = not data
        except BlockingIOError:
            data, gone = b"", False
        self.buffer += data
        messages, offset, end = [], 0, len(self.buffer)
        view = memoryview(self.buffer)
        while end - offset >= _HEADER.size:
            size = _HEADER.unpack_from(view, offset)[0]
            if end - offset < _HEADER.size + size:
                break
            messages.append(pickle.loads(view[offset + _HEADER.size:offset + _HEADER.size + size]))
            offset += _HEADER.size + size
        view.release()
        if offset:
            del self.buffer[:offset]  # once per read, not once per message
        if gone and not messages:
            return None
        return messages

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.process.wait()


class WorkerPool:
    """``workers`` processes running :data:`JOBS` over items, each item within ``timeout`` seconds.

    ``workers=0`` runs the jobs in this process without deadlines (debugging, tests of the logic).
    """

    def __init__(self, workers: int, refs, *, timeout: float = DEFAULT_DOC_TIMEOUT):
        self.size, self.timeout, self.refs = workers, timeout, refs
        self._setup_frame = _frame(("setup", refs))
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._on_result: Callable[[], None] | None = None
        self.restarts = 0

    def map(self, job: str, items: Sequence, context: object = None, *, sizes: Sequence[int] | None = None,
            on_result: Callable[[], None] | None = None) -> list:
        """The job's result for each item, in order; a :class:`Failure` where it timed out or crashed.

        ``on_result()`` is called as each item's result arrives (a progress bar).
        """
        if not items:
            return []
        self._on_result = on_result
        if self.size <= 0:
            return self._map_here(job, items, context)
        with self._lock:
            try:
                return self._map_workers(job, items, context, sizes)
            except BaseException:
                self.close()  # replies of this call may still be in the pipes: never hand them to the next call
                raise

    def _map_here(self, job: str, items: Sequence, context: object) -> list:
        _setup(self.refs)
        results = []
        for item in items:
            try:
                results.append(JOBS[job](item, context))
            except Exception as error:
                results.append(Failure(f"error: {type(error).__name__}: {str(error)[:200]}"))
            self._result_arrived()
        return results

    def _result_arrived(self) -> None:
        if self._on_result is not None:
            self._on_result()

    def _map_workers(self, job: str, items: Sequence, context: object, sizes: Sequence[int] | None) -> list:
        results: list = [None] * len(items)
        # A worker costs about a second to start and 100 MB to keep: one per CHUNK_DOCS items of the call, up
        # to the pool's size; workers started by an earlier call are kept.
        wanted = max(len(self._workers), min(self.size, math.ceil(len(items) / CHUNK_DOCS)))
        # The end of a call is a barrier (the next batch waits for it): its last items go out one at a time.
        queue: deque[list[int]] = deque(_chunks(len(items), sizes, tail=wanted * CHUNK_DOCS))
        context_frame = _frame(("context", context))
        call = object()  # marks the workers that already got this call's context
        while len(self._workers) < wanted:
            self._workers.append(_Worker(self._setup_frame))
        selector = selectors.DefaultSelector()
        for worker in self._workers:
            selector.register(worker.fd, selectors.EVENT_READ, worker)
        try:
            while True:
                if len(self._workers) < wanted:
                    raise RuntimeError("the worker pool was closed during a batch")
                if not queue and not any(w.task for w in self._workers):
                    break
                for worker in self._workers:
                    if worker.ready and worker.task is None and queue:
                        indexes = queue.popleft()
                        worker.task = [indexes, 0]
                        if worker.context_of is not call:
                            worker.send(context_frame)
                            worker.context_of = call
                        worker.send(_frame(("run", job, [items[i] for i in indexes])))
                now = time.monotonic()
                deadlines = [w.last_progress + self.timeout - now for w in self._workers if w.task]
                deadlines += [w.started + STARTUP_TIMEOUT - now for w in self._workers if not w.ready]
                # At most a second: a pool closed from another thread (a run stopping) is noticed at the loop's top.
                events = selector.select(timeout=min(1.0, max(0.0, min(deadlines))) if deadlines else 1.0)
                for key, _ in events:
                    worker: _Worker = key.data
                    messages = worker.frames()
                    if messages is None:
                        if not worker.ready:  # it cannot even start: a broken install, not a bad document
                            code = worker.process.wait()
                            raise RuntimeError(f"a pipeline worker exited during start-up (exit code {code}); "
                                               "its error is printed above; `python -m flows.workers` reproduces it")
                        self._replace(worker, selector, queue, results, "worker_crashed")
                        continue
                    for message in messages:
                        self._handle(worker, message, items, results)
                now = time.monotonic()
                for worker in list(self._workers):
                    if worker.task and now - worker.last_progress > self.timeout:
                        self._replace(worker, selector, queue, results, "timeout")
                    elif not worker.ready and now - worker.started > STARTUP_TIMEOUT:
                        raise RuntimeError("a pipeline worker did not start; run `python -m flows.workers` to see why")
        finally:
            selector.close()
        return results

    def _handle(self, worker: _Worker, message: tuple, items: Sequence, results: list) -> None:
        if message[0] == "ready":
            worker.ready = True
            worker.last_progress = time.monotonic()
            return
        indexes, position = worker.task
        index = indexes[position]
        results[index] = message[1] if message[0] == "ok" else Failure(message[1])
        self._result_arrived()
        worker.last_progress = time.monotonic()
        worker.task[1] += 1
        if worker.task[1] == len(indexes):
            worker.task = None

    def _replace(self, worker: _Worker, selector, queue: deque, results: list, reason: str) -> None:
        """Kill a worker, fail the item it was on, requeue the rest of its chunk, start a new one."""
        selector.unregister(worker.fd)
        worker.kill()
        self.restarts += 1
        if worker.task:
            indexes, position = worker.task
            results[indexes[position]] = Failure(reason)
            self._result_arrived()
            if position + 1 < len(indexes):
                queue.appendleft(indexes[position + 1:])
        fresh = _Worker(self._setup_frame)
        self._workers[self._workers.index(worker)] = fresh
        selector.register(fresh.fd, selectors.EVENT_READ, fresh)

    def close(self) -> None:
        for worker in self._workers:
            worker.kill()
        self._workers = []


def _chunks(count: int, sizes: Sequence[int] | None, *, tail: int = 0) -> list[list[int]]:
    """Consecutive index groups of at most CHUNK_DOCS items and about CHUNK_BYTES bytes; the last ``tail``
    items one per group, so that no worker is left with a long chunk while the others have finished.

    >>> _chunks(5, [1, 1, CHUNK_BYTES, 1, 1])
    [[0, 1], [2], [3, 4]]
    >>> _chunks(5, None, tail=2)
    [[0, 1, 2], [3], [4]]
    """
    chunks: list[list[int]] = []
    current: list[int] = []
    total = 0
    for index in range(count):
        size = sizes[index] if sizes else 0
        if current and (len(current) >= CHUNK_DOCS or total + size > CHUNK_BYTES or index >= count - tail):
            chunks.append(current)
            current, total = [], 0
        current.append(index)
        total += size
    if current:
        chunks.append(current)
    return chunks


_IDLE: dict[tuple, list[WorkerPool]] = {}
_ALL: list[WorkerPool] = []
_EVERY: "weakref.WeakSet[WorkerPool]" = weakref.WeakSet()
_POOLS_LOCK = threading.Lock()


@contextmanager
def leased_pool(workers: int, refs, *, timeout: float, key: str) -> Iterator[WorkerPool]:
    """A pool for one batch, kept for the next batch in this process (worker start-up costs about a second).

    Tasks running at the same time (several batches in flight on a Dask worker) get separate pools.
    """
    slot = (workers, timeout, key)
    with _POOLS_LOCK:
        idle = _IDLE.setdefault(slot, [])
        pool = idle.pop() if idle else None
        if pool is None:
            pool = WorkerPool(workers, refs, timeout=timeout)
            _ALL.append(pool)
            _EVERY.add(pool)
    try:
        yield pool
    finally:
        with _POOLS_LOCK:
            if pool in _ALL:
                _IDLE.setdefault(slot, []).append(pool)
            else:  # close_pools() ran while this batch was being cleaned
                pool.close()


def close_pools() -> None:
    """Stop the workers of every idle pool; a pool in use stops when its batch returns it."""
    with _POOLS_LOCK:
        for pools in _IDLE.values():
            for pool in pools:
                pool.close()
        _ALL.clear()
        _IDLE.clear()


@atexit.register
def stop_all_pools() -> None:
    """Kill every worker, also those of a batch being cleaned (whose map call then fails): for a run that stops."""
    for pool in list(_EVERY):
        pool.close()


if __name__ == "__main__":
    _worker_main()
