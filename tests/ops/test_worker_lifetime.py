"""Worker processes: a SIGKILLed run's workers do not outlive it, even one stuck in a regex that holds the
GIL; a pool starts no more workers than its work needs."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from flows.seeds import load_references
from flows.workers import PRELOAD_ENV, WorkerPool
from tests.cases import ROOT
from tests.conftest import api_env
from tests.ops.test_timeout import HANG_MARK, _page

HANG_STARTED_ENV = "NEWSCLEAN_TEST_HANG_STARTED"


def install_regex_hang() -> None:
    """Runs inside each worker (NEWSCLEAN_WORKER_PRELOAD): extraction of a marked page says so in a file, then
    runs a regex that backtracks for hours. The regex holds the GIL all along: no Python thread of the worker
    runs meanwhile (a thread watching the parent could not save it)."""
    import transforms.pipeline as pipeline

    real = pipeline.extract_html

    def extract(html, *args, **kwargs):
        if HANG_MARK in html:
            Path(os.environ[HANG_STARTED_ENV]).write_text(str(os.getpid()))
            re.match(r"(a+)+$", "a" * 64 + "b")
        return real(html, *args, **kwargs)

    pipeline.extract_html = extract


def _gone(pid: int) -> bool:
    """Whether ``pid`` has ended (a zombie, ended but not reaped, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as handle:
        return int(handle.read().rsplit(")", 1)[1].split()[1])


def test_the_workers_of_a_sigkilled_run_end_with_it(prefect_harness, tmp_path):
    """Before: the worker stuck on the page kept running (and holding its memory) after its run was SIGKILLed."""
    source, out, started = tmp_path / "in" / "site", tmp_path / "out", tmp_path / "hang-started"
    source.mkdir(parents=True)
    (source / "hang.html").write_text(_page("Hanging page", HANG_MARK), encoding="utf-8")
    module = ".".join(Path(__file__).resolve().relative_to(ROOT).with_suffix("").parts)  # importable in the CLI
    env = {**api_env(), PRELOAD_ENV: f"{module}:install_regex_hang", HANG_STARTED_ENV: str(started)}
    run = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", str(source), "--out", str(out),
                            "--workers", "1", "--doc-timeout", "600"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    worker = None
    try:
        deadline = time.monotonic() + 240
        while not started.exists():
            assert run.poll() is None, run.stderr.read().decode(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the worker never reached the hanging page"
            time.sleep(0.2)
        time.sleep(0.2)  # the pid is written
        worker = int(started.read_text())
        assert _parent(worker) == run.pid and not _gone(worker)
        run.kill()
        run.wait()
        deadline = time.monotonic() + 5
        while not _gone(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(worker), "the worker outlived its SIGKILLed run"
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        if worker and not _gone(worker):
            os.kill(worker, signal.SIGKILL)


def test_a_pool_starts_one_worker_per_chunk_of_work_at_most(tmp_path):
    """Before: every map call started the pool's full size (one worker per core, about 100 MB each) even for
    a handful of documents; a run over the sample articles held two workers for five documents."""
    from flows.workers import CHUNK_DOCS
    from transforms.records import RawDocument

    def docs(count: int) -> list[RawDocument]:
        return [RawDocument(source_uri=f"d{i}", raw=f"Story {i}. The council met on Tuesday.\n".encode(),
                            format_hint="text") for i in range(count)]

    pool = WorkerPool(2, refs=load_references(), timeout=60)
    try:
        assert len(pool.map("line_keys", docs(5))) == 5
        assert len(pool._workers) == 1
        assert len(pool.map("line_keys", docs(CHUNK_DOCS + 1))) == CHUNK_DOCS + 1
        assert len(pool._workers) == 2
        pool.map("line_keys", docs(1))  # a small call after a large one keeps the workers it has
        assert len(pool._workers) == 2
    finally:
        pool.close()


def test_a_worker_started_from_a_thread_that_ends_keeps_running():
    """The kernel's parent-death signal follows the thread that forked a worker: a worker forked by a task
    thread that ends would be killed mid-run (every worker is forked by one long-lived thread instead)."""
    import threading

    from transforms.records import RawDocument

    doc = RawDocument(source_uri="d", raw=b"The council met on Tuesday.\n", format_hint="text")
    pool = WorkerPool(1, refs=load_references(), timeout=60)
    try:
        thread = threading.Thread(target=pool.map, args=("line_keys", [doc]))
        thread.start()
        thread.join()
        [worker] = pool._workers
        time.sleep(1)
        assert worker.process.poll() is None, f"the worker ended with its thread ({worker.process.returncode})"
        pool.map("line_keys", [doc])
        assert pool.restarts == 0
    finally:
        pool.close()
