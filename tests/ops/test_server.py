"""Start-up and shutdown: without PREFECT_API_URL a local Prefect server is started once and reused, stopped on
request; a temporary server never outlives a killed command; SIGTERM/SIGINT end a run with one line."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows import server
from flows.workers import PRELOAD_ENV
from tests.conftest import ROOT, SEED_ARTICLES, api_env
from tests.ops.test_timeout import HANG_MARK, _page


def _env_without_api(home: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(home), PYTHONPATH=str(ROOT))
    return env


def _cli(*args: str, env: dict, timeout: float = 300) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "flows.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    return done, time.monotonic() - started


def _printed_seconds(stdout: str) -> float:
    return float(re.search(r"documents read in ([\d.]+) s", stdout).group(1))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its parent) counts as gone
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()[0] != "Z"


def _wait_gone(pid: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    return False


def test_background_server_is_started_once_reused_and_stopped(tmp_path):
    home, out = tmp_path / "prefect-home", tmp_path / "out"
    env = _env_without_api(home)
    try:
        first, first_wall = _cli("run", str(SEED_ARTICLES), "--out", str(out), env=env)
        assert first.returncode == 0, first.stderr
        assert "started a local Prefect server" in first.stderr and "newsclean server stop" in first.stderr
        assert "Traceback" not in first.stderr
        state = json.loads((home / server.STATE_FILE).read_text())
        assert _alive(state["pid"])
        # The printed time is the command's wall time, server start included (the flow alone took a fraction).
        assert 0.7 * first_wall <= _printed_seconds(first.stdout) <= first_wall
        assert "prefect UI           http://127.0.0.1:" in first.stdout
        # The command left with os._exit: its run logs reached the server all the same.
        from prefect.settings import PREFECT_API_URL, temporary_settings

        from tests.flows.test_observability import _flow_run_logs

        flow_run_id = first.stdout.rsplit("/runs/flow-run/", 1)[1].split()[0]
        with temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{state['port']}/api"}):
            messages = _flow_run_logs(flow_run_id, "documents read,")
        assert any("5 documents read, 5 written to articles" in message for message in messages), messages

        again, again_wall = _cli("run", str(SEED_ARTICLES), "--out", str(out), env=env)
        assert again.returncode == 0, again.stderr
        assert "started a local Prefect server" not in again.stderr
        assert json.loads((home / server.STATE_FILE).read_text())["pid"] == state["pid"]
        assert "unchanged inputs            5" in again.stdout
        assert 0.7 * again_wall <= _printed_seconds(again.stdout) <= again_wall

        status, _ = _cli("server", "status", env=env)
        assert status.returncode == 0 and f"pid {state['pid']}" in status.stdout
        stopped, _ = _cli("server", "stop", env=env)
        assert stopped.returncode == 0 and f"pid {state['pid']}" in stopped.stdout
        assert _wait_gone(state["pid"]), "the server is still running after `newsclean server stop`"
        assert not (home / server.STATE_FILE).exists()
        status, _ = _cli("server", "status", env=env)
        assert status.returncode == 3 and "no local Prefect server" in status.stdout
    finally:
        server.stop(home)


def test_background_server_stops_after_its_idle_time(tmp_path):
    home = tmp_path / "prefect-home"
    env = {**_env_without_api(home), server.IDLE_ENV: "0.05"}  # 3 s
    try:
        started, _ = _cli("server", "start", env=env)
        assert started.returncode == 0, started.stderr
        pid = json.loads((home / server.STATE_FILE).read_text())["pid"]
        assert _wait_gone(pid, 60), "the idle server did not stop by itself"
        assert "no request in 0.05 minutes; stopping" in (home / server.LOG_FILE).read_text()
    finally:
        server.stop(home)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _server_child(pid: int, seconds: float = 120) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for child in _children(pid):
            try:
                if b"flows.server" in Path(f"/proc/{child}/cmdline").read_bytes():
                    return child
            except OSError:
                continue
        time.sleep(0.1)
    raise AssertionError("the command started no server")


def test_a_temporary_server_does_not_outlive_a_killed_command(tmp_path):
    """Prefect's own temporary server stayed behind, orphaned (about 260 MB), when its command was SIGKILLed."""
    home, out = tmp_path / "prefect-home", tmp_path / "out"
    env = {**_env_without_api(home), server.MODE_ENV: "temporary"}
    command = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", str(SEED_ARTICLES), "--out", str(out)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    child = None
    try:
        child = _server_child(command.pid)
        command.kill()
        command.wait()
        assert _wait_gone(child, 30), "the temporary server outlived its SIGKILLed command"
    finally:
        if child and _alive(child):
            os.kill(child, signal.SIGKILL)
        if command.poll() is None:
            command.kill()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_end_a_run_with_one_line(prefect_harness, tmp_path, signum):
    source, out = tmp_path / "in" / "site", tmp_path / "out"
    source.mkdir(parents=True)
    (source / "a-fine.html").write_text(_page("Fine page", "The council approved the budget."), encoding="utf-8")
    (source / "b-hang.html").write_text(_page("Hanging page", HANG_MARK), encoding="utf-8")
    env = {**api_env(), PRELOAD_ENV: "tests.ops.test_timeout:install_hanging_extractor",
           "NEWSCLEAN_PROGRESS_SECONDS": "0"}
    command = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", str(source.parent), "--out", str(out),
                                "--workers", "1", "--doc-timeout", "600"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # The first page is cleaned (a progress line says so); the second hangs its worker: the run is mid-batch.
        line = command.stderr.readline()
        while line and "1/2 documents" not in line:
            line = command.stderr.readline()
        assert line, "the run ended before it was stopped"
        command.send_signal(signum)
        _, err = command.communicate(timeout=120)
    finally:
        if command.poll() is None:
            command.kill()
    assert command.returncode == 128 + signum, err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == [f"newsclean: stopped by {signal.Signals(signum).name}; the batches committed so far are kept, "
                     "and the same command started again finishes the run"], err
    from flows.lock import current_holder
    from flows.store import Store

    assert current_holder(Store.open(str(out))) is None  # the process is gone and holds nothing
