"""Schedules: `newsclean deploy` registers a cron deployment; `newsclean serve --once` runs what is due."""
from __future__ import annotations

import os
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
