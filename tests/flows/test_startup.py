"""Start-up cost of a command (issue 18: a rerun with nothing new in at most 3 s with a server running, measured
by scripts/bench_startup.py): a rerun with nothing new imports none of the libraries only cleaning, validating or
reporting needs, and is still a real Prefect flow run with its log lines."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, api_env, write_corpus

# Each costs 0.1-0.8 s to import on this machine (python -X importtime) and is needed only with documents to
# clean (trafilatura, ftfy is not listed: decoding is cheap), to validate (Great Expectations, pandas), to
# assign stories (scipy) or to report (matplotlib); FastAPI is what Prefect's parameter encoder imports.
NOT_NEEDED = ("pandas", "pyarrow.dataset", "fastapi", "great_expectations", "scipy", "transforms.stories",
              "trafilatura", "lxml.html", "matplotlib", "duckdb", "polars", "lightgbm", "fasttext", "dask")


def _imported(importtime_stderr: str) -> set[str]:
    """Module names from ``python -X importtime`` output."""
    return {line.rsplit("|", 1)[1].strip() for line in importtime_stderr.splitlines() if line.startswith("import time:")}


def _flow_run(flow_run_id: str, wanted: str, seconds: float = 30):
    """The flow run and its log messages, once one containing ``wanted`` arrived (logs are sent in batches)."""
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    deadline = time.monotonic() + seconds
    with get_client(sync_client=True) as client:
        while True:
            flow_run = client.read_flow_run(flow_run_id)
            logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
            messages = [log.message for log in logs]
            if any(wanted in message for message in messages) or time.monotonic() > deadline:
                return flow_run, messages
            time.sleep(0.5)


def test_a_rerun_with_nothing_new_imports_only_what_it_needs_and_is_a_flow_run_with_logs(prefect_harness, tmp_path):
    source, out = tmp_path / "in", tmp_path / "out"
    write_corpus(source, 2)
    command = [sys.executable, "-X", "importtime", "-m", "flows.cli", "run", str(source), "--out", str(out)]
    first = subprocess.run(command, cwd=ROOT, env=api_env(), capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "written to articles         2" in first.stdout
    assert {"great_expectations", "pandas"} <= _imported(first.stderr)  # the check sees what a first run imports

    rerun = subprocess.run(command, cwd=ROOT, env=api_env(), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "unchanged inputs            2" in rerun.stdout
    assert sorted(_imported(rerun.stderr) & set(NOT_NEEDED)) == []

    flow_run_id = rerun.stdout.split("/runs/flow-run/", 1)[1].split()[0]
    flow_run, messages = _flow_run(flow_run_id, "documents read")
    assert flow_run.state.is_completed() and flow_run.name == rerun.stdout.split(":", 1)[0].split()[-1]
    assert flow_run.parameters["sources"] == [str(source)] and flow_run.parameters["out"] == str(out)
    assert any("2 unchanged since an earlier run (not read), 0 to read" in message for message in messages)
    assert any("0 documents read, 0 written to articles" in message for message in messages)
    assert Path(rerun.stdout.split("report ", 1)[1].split()[0]).is_file()  # the run's JSON summary


def test_plain_parameters_reach_the_api_as_prefect_would_encode_them():
    from fastapi.encoders import jsonable_encoder

    from flows.clean_news import clean_news

    plain = {"sources": ["in", "more.jsonl"], "out": "out", "seeds": None, "batch_size": 2000, "full": False,
             "doc_timeout": 30.0, "in_flight": 1}
    assert clean_news.serialize_parameters(plain) == jsonable_encoder(plain)
    other = {"sources": [Path("in")], "out": Path("out"), "full": True}  # the Python API may pass paths
    assert clean_news.serialize_parameters(other) == {"sources": ["in"], "out": "out", "full": True}


def test_a_command_run_sends_no_heartbeats_unless_asked(monkeypatch):
    from prefect.settings import get_current_settings

    from flows.engine import HEARTBEAT_ENV, command_run_settings

    monkeypatch.delenv(HEARTBEAT_ENV, raising=False)
    configured = get_current_settings().flows.heartbeat_frequency
    with command_run_settings():
        assert get_current_settings().flows.heartbeat_frequency is None
    assert get_current_settings().flows.heartbeat_frequency == configured
    monkeypatch.setenv(HEARTBEAT_ENV, "60")  # a user who wants them (a zombie-run automation) keeps Prefect's
    with command_run_settings():
        assert get_current_settings().flows.heartbeat_frequency == configured
