"""What a run shows: per-batch lines in Prefect's run logs (read back from the API), the run id as the flow run's
name, tags, progress lines off a terminal; Dask stays quiet unless -v."""
from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import time

from flows.cli import main
from flows.progress import Progress
from tests.conftest import ROOT, write_corpus


def _flow_run_logs(flow_run_id: str, wanted: str, seconds: float = 30) -> list[str]:
    """The messages Prefect stored for a flow run, once one containing ``wanted`` arrived (logs are batched)."""
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    for handler in logging.getLogger("prefect.flow_runs").handlers:  # Prefect's API handler: send what waits
        handler.flush()
    deadline = time.monotonic() + seconds
    with get_client(sync_client=True) as client:
        while True:
            logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
            messages = [log.message for log in sorted(logs, key=lambda log: log.timestamp)]
            if any(wanted in message for message in messages) or time.monotonic() > deadline:
                return messages
            time.sleep(0.5)


def test_a_run_logs_each_batch_to_prefect_and_is_named_by_its_run_id(prefect_harness, tmp_path, capsys,
                                                                     monkeypatch):
    monkeypatch.setenv("NEWSCLEAN_PROGRESS_SECONDS", "0")
    source, out = tmp_path / "in", tmp_path / "out"
    write_corpus(source, 12)
    (source / "example-news" / "empty.txt").write_bytes(b"")  # one quarantined document
    code = main(["run", str(source), "--out", str(out), "--batch-size", "6"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    run_id = printed.out.split(":", 1)[0].split()[-1]

    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[run_id])))
    assert len(runs) == 1, f"no flow run named {run_id}"
    flow_run = runs[0]
    assert flow_run.name == run_id
    assert set(flow_run.tags) >= {"newsclean", "out:out"}
    assert f"/runs/flow-run/{flow_run.id}" in printed.out  # the summary links the run's page in the UI

    messages = _flow_run_logs(str(flow_run.id), "documents read,")
    text = "\n".join(messages)
    assert f"run {run_id}: 13 input files" in text
    assert "batch 0: read 6 files, 6 documents" in text and "batch 2: read 1 files, 1 documents" in text
    assert "batch 0: cleaned 6 documents (0 quarantined while cleaning)" in text
    assert "commit 0: 6 input files, 6 documents: 6 written to articles/dt=" in text
    assert "commit 2: 1 input files, 1 documents: 0 written to articles/dt=" in text  # the empty file
    assert "1 quarantined, 0 exact copies of stored articles" in text
    assert f"run {run_id}: 13 documents read, 12 written to articles, 1 quarantined" in text
    # Off a terminal (capsys is not one), progress lines, one per document here (NEWSCLEAN_PROGRESS_SECONDS=0),
    # the last one at 100%; none of the run log's INFO lines on the console without -v.
    progress = [line for line in printed.err.splitlines() if line.startswith("clean-news: ")]
    assert progress and progress[-1].startswith("clean-news: 13/13 documents (100%)")
    assert len(progress) >= 13
    assert "batch 0: read" not in printed.err


def test_progress_lines_off_a_terminal_grow_with_jsonl_files(monkeypatch):
    monkeypatch.setenv("NEWSCLEAN_PROGRESS_SECONDS", "3600")
    stream = io.StringIO()  # not a terminal
    with Progress(3, stream=stream) as progress:
        assert Progress.registered(progress.key) is progress
        progress.grow(9)  # a .jsonl file held 10 documents
        progress.advance(4)
        assert stream.getvalue() == ""  # not yet an interval
        progress.advance(8)
    assert Progress.registered(progress.key) is None
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("clean-news: 12/12 documents (100%)")


def _dask_cluster_output(verbose: bool) -> str:
    code = ("from flows.settings import apply_prefect_defaults, configure_output\n"  # as the CLI does
            f"apply_prefect_defaults(); configure_output(verbose={verbose})\n"
            "from prefect.logging.configuration import setup_logging\n"
            "setup_logging()\n"  # Prefect's console handler on the root logger, which distributed's loggers reach
            "from distributed import LocalCluster\n"
            "with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None):\n"
            "    pass\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DASK_", "PREFECT_LOGGING"))}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_dask_is_quiet_unless_verbose():
    assert "distributed." not in _dask_cluster_output(verbose=False)
    assert "distributed.scheduler - State start" in _dask_cluster_output(verbose=True)
