"""Schedules: `newsclean deploy` registers a cron deployment; `newsclean serve --once` runs what is due."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from flows.cli import build_parser, main
from tests.conftest import ROOT, read_table


def test_deploy_registers_the_schedule_and_serve_runs_it(prefect_harness, corpus, capsys):
    from prefect import get_client
    from prefect.deployments import run_deployment

    source, out = corpus
    seeds = os.path.relpath(ROOT / "seeds")  # relative here; serve may run elsewhere
    assert main(["deploy", str(source), "--out", str(out), "--cron", "0 * * * *", "--name", "hourly",
                 "--workers", "1", "--seeds", seeds]) == 0
    assert "registered deployment clean-news/hourly" in capsys.readouterr().out
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("clean-news/hourly")
    assert [s.schedule.cron for s in deployment.schedules] == ["0 * * * *"]
    assert deployment.schedules[0].schedule.timezone == "UTC"
    assert deployment.parameters["sources"] == [str(source.absolute())]
    assert deployment.parameters["out"] == str(out.absolute()) and deployment.parameters["workers"] == 1
    assert deployment.parameters["seeds"] == str(Path(seeds).absolute())

    flow_run = run_deployment("clean-news/hourly", timeout=0)  # due now
    assert main(["serve", "hourly", "--once"]) == 0
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(flow_run.id).state.is_completed()
    assert read_table(out).num_rows + read_table(out, "quarantine").num_rows == 24


@pytest.mark.parametrize("command", [[], ["run"], ["deploy"], ["serve"], ["report"], ["aliases", "suggest"]])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: newsclean" in capsys.readouterr().out


def test_deploy_refuses_without_a_running_api(tmp_path, corpus):
    """Without PREFECT_API_URL, deploy used to register on a temporary server that stopped with the command
    (no scheduler ever saw the deployment) and said nothing; now it names the fix and exits 2."""
    import subprocess
    import sys

    source, out = corpus
    newsclean = str(Path(sys.executable).parent / "newsclean")
    env = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "home"), PYTHONPATH=str(ROOT))
    command = [newsclean, "deploy", str(source), "--out", str(out), "--cron", "0 * * * *"]

    unset = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert unset.returncode == 2 and unset.stdout == ""
    assert unset.stderr.count("\n") == 1  # one line, no traceback
    assert "PREFECT_API_URL is not set" in unset.stderr and "prefect server start" in unset.stderr
    assert "--allow-temporary-server" in unset.stderr
    assert not (tmp_path / "home" / "prefect.db").exists()  # nothing registered anywhere
    serve = subprocess.run([newsclean, "serve"], env=env, capture_output=True, text=True, timeout=120)
    assert serve.returncode == 2 and serve.stderr.count("\n") == 1  # it said "no deployments registered"
    assert "serve needs a running Prefect API and PREFECT_API_URL is not set" in serve.stderr

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/api"
    unreachable = subprocess.run(command, env={**env, "PREFECT_API_URL": closed}, capture_output=True, text=True,
                                 timeout=120)
    assert unreachable.returncode == 2 and unreachable.stderr.count("\n") == 1
    assert f"no Prefect API answers at PREFECT_API_URL={closed}" in unreachable.stderr



def test_allow_temporary_server_skips_the_api_check(prefect_harness, corpus, monkeypatch, capsys):
    from flows import deploy

    source, out = corpus
    monkeypatch.setattr(deploy, "api_problem", lambda command="deploy": "PREFECT_API_URL is not set (as it says)")
    command = ["deploy", str(source), "--out", str(out), "--cron", "0 * * * *", "--name", "temporary"]
    assert main(command) == 2
    assert main([*command, "--allow-temporary-server"]) == 0
    assert "registered deployment clean-news/temporary" in capsys.readouterr().out
