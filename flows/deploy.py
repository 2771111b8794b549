"""Scheduled runs: register ``clean-news`` deployments with a cron schedule, and serve them.

``newsclean deploy`` stores the sources, output and schedule on the Prefect API (a ``prefect server start``
or Prefect Cloud); ``newsclean serve`` reads the registered deployments back and runs them on schedule
in this process. The flow is referenced by module path, so serve works from any working directory
where the package is installed.
"""
from __future__ import annotations

import os
from pathlib import Path

DEFAULT_NAME = "scheduled"
START_AN_API = "start one with `prefect server start` and `export PREFECT_API_URL=http://127.0.0.1:4200/api`"


def api_problem(command: str = "deploy") -> str | None:
    """Why ``command`` (deploy or serve) would not work on schedule, or None when a Prefect API answers.

    Without PREFECT_API_URL (from the environment or the Prefect profile) Prefect uses a temporary server
    that runs no scheduler and stops with the command: a deployment registered there is never scheduled,
    and serve finds nothing to run.
    """
    from prefect import get_client
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    if not url:
        extra = " (--allow-temporary-server registers on a throwaway server that schedules nothing)"
        return (f"{command} needs a running Prefect API and PREFECT_API_URL is not set; {START_AN_API}"
                f"{extra if command == 'deploy' else ''}")
    with get_client(sync_client=True) as client:
        error = client.api_healthcheck()
    if error is not None:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        return f"no Prefect API answers at PREFECT_API_URL={url} ({reason}); start it or fix the URL"
    return None


def deployment(sources: list[str], *, out: str, cron: str | None, name: str = DEFAULT_NAME,
               timezone: str = "UTC", parameters: dict | None = None):
    """The RunnerDeployment of clean-news over ``sources`` into ``out`` on ``cron`` (paths, --seeds too, made
    absolute)."""
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from flows.clean_news import clean_news

    params = {"sources": [_absolute(s) for s in sources], "out": _absolute(out), **(parameters or {})}
    if params.get("seeds"):  # the scheduled runs start wherever `newsclean serve` runs
        params["seeds"] = _absolute(params["seeds"])
    return clean_news.to_deployment(
        name=name, parameters=params, schedules=[Cron(cron, timezone=timezone)] if cron else None,
        description=f"clean-news {' '.join(params['sources'])} -> {params['out']}",
        entrypoint_type=EntrypointType.MODULE_PATH,
        concurrency_limit=one_run_at_a_time(),
    )


def one_run_at_a_time():
    """A deployment's runs one at a time, queued: a run that outlasts its interval (a backlog, a slow night)
    makes the next scheduled run wait for it instead of failing on the output's lock."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

    return ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE)


def register(sources: list[str], *, out: str, cron: str | None, name: str = DEFAULT_NAME,
             timezone: str = "UTC", parameters: dict | None = None):
    """Create or update the deployment on the Prefect API; returns its id."""
    return deployment(sources, out=out, cron=cron, name=name, timezone=timezone, parameters=parameters).apply()


def registered(names: list[str] | None = None) -> list:
    """The clean-news deployments on the API (all, or those named)."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    with get_client(sync_client=True) as client:
        found = client.read_deployments(flow_filter=FlowFilter(name=FlowFilterName(any_=["clean-news"])))
    return [d for d in found if not names or d.name in names]


def serve(names: list[str] | None = None, *, limit: int | None = None, once: bool = False) -> int:
    """Run the registered deployments on their schedules until interrupted; returns how many were served.

    ``once`` runs what is due now (polling once), waits for it and returns: for an external scheduler.
    """
    import asyncio

    from prefect import serve as prefect_serve
    from prefect.runner import Runner
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from flows.clean_news import clean_news

    runners = []
    for found in registered(names):
        schedules = [Cron(s.schedule.cron, timezone=s.schedule.timezone or "UTC")
                     for s in found.schedules if getattr(s.schedule, "cron", None)]
        runners.append(clean_news.to_deployment(name=found.name, parameters=found.parameters,
                                                schedules=schedules or None, description=found.description,
                                                entrypoint_type=EntrypointType.MODULE_PATH,
                                                concurrency_limit=one_run_at_a_time()))
    if not runners:
        return 0
    if once:
        runner = Runner(limit=limit)
        for item in runners:
            runner.add_deployment(item)
        asyncio.run(runner.start(run_once=True))
    else:
        prefect_serve(*runners, limit=limit)
    return len(runners)


def _absolute(path: str) -> str:
    return path if "://" in path else str(Path(os.path.expanduser(path)).absolute())
