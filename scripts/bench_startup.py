"""Start-up benchmark: the wall time of whole `newsclean run` commands on the sample articles.

Prints, for several repetitions each:
  with a server running (PREFECT_API_URL set to a Prefect server this script starts), the two figures of
  issue 18 and whether their medians meet its targets (at most 3 s and 15 s of wall time):
    - a rerun with nothing new (the output already holds the sample articles)
    - a first run on the sample articles into a fresh output
  without PREFECT_API_URL (what a new user gets; a fresh PREFECT_HOME):
    - the very first command (it has to bring up a Prefect server)
    - reruns with nothing new and first runs into fresh outputs after it

Each figure is the wall time of the command as a subprocess, from spawn to exit, and the CPU time the command
and its worker processes used (user + system; the server's own is not in it). The machine's other load is
printed too (load average before and after): wall times taken while other processes run are noisy (the CPU
times much less), so compare runs taken back to back. `--project DIR` times another checkout of newsclean with
this project's virtualenv; `--compare DIR` times DIR too, alternating command by command against the same server
(before/after in one sitting: `git worktree add /tmp/before COMMIT`).

    .venv/bin/python scripts/bench_startup.py --repeat 3
    .venv/bin/python scripts/bench_startup.py --only server --repeat 5 --compare /tmp/before
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _env(home: Path, project: Path, api_url: str | None) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PYTHONPATH=str(project), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               DO_NOT_TRACK="1")
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def run_command(project: Path, out: Path, env: dict) -> tuple[float, float]:
    """Wall and CPU seconds of one `newsclean run seeds/articles --out OUT` (fails loudly if the command fails)."""
    command = [sys.executable, "-m", "flows.cli", "run", str(project / "seeds" / "articles"), "--out", str(out)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"command failed ({done.returncode}): {' '.join(command)}\n{done.stdout}\n{done.stderr}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


# Issue 18's targets for the wall time with a server running, on this 2-core machine.
RERUN_TARGET = 3.0  # a rerun with nothing new
FIRST_RUN_TARGET = 15.0  # the first run on the sample articles


def _figures(label: str, runs: list[tuple[float, float]], target: float | None = None) -> None:
    walls = ", ".join(f"{wall:.2f}" for wall, _ in runs)
    cpus = ", ".join(f"{cpu:.2f}" for _, cpu in runs)
    wall = statistics.median(w for w, _ in runs)
    verdict = f"  target at most {target:g} s: {'met' if wall <= target else 'NOT met'}" if target else ""
    print(f"  {label}\n      wall median {wall:6.2f} s  ({walls}){verdict}\n"
          f"      CPU  median {statistics.median(c for _, c in runs):6.2f} s  ({cpus})", flush=True)


def start_server(home: Path) -> tuple[subprocess.Popen, str]:
    """A Prefect server as a user runs one (`prefect server start`), on a free port."""
    port = _free_port()
    env = _env(home, ROOT, None)
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
                                "--host", "127.0.0.1", "--port", str(port), "--log-level", "error"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=1) as response:
                if response.status == 200:
                    return process, f"{url}/api"
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the Prefect server did not start")


def with_server(project: Path, repeat: int, work: Path, compare: Path | None = None) -> None:
    """The two figures with a server running; with ``compare``, that checkout's too, each command of one
    alternating with the same command of the other against the same server (a fair before/after while the
    machine's load changes)."""
    home = work / "home-server"
    server, api_url = start_server(home)
    try:
        print(f"with a Prefect server running (PREFECT_API_URL={api_url}):", flush=True)
        projects = [project, compare] if compare else [project]
        envs = {checkout: _env(home, checkout, api_url) for checkout in projects}
        warm = {checkout: work / f"out-warm-{number}" for number, checkout in enumerate(projects)}
        for checkout in projects:  # the output to rerun on (and a first run to warm the file cache)
            run_command(checkout, warm[checkout], envs[checkout])
        reruns: dict[Path, list] = {checkout: [] for checkout in projects}
        firsts: dict[Path, list] = {checkout: [] for checkout in projects}
        for _ in range(repeat):
            for checkout in projects:
                reruns[checkout].append(run_command(checkout, warm[checkout], envs[checkout]))
        for n in range(repeat):
            for number, checkout in enumerate(projects):
                firsts[checkout].append(run_command(checkout, work / f"out-first-{number}-{n}", envs[checkout]))
        for checkout in projects:
            if compare:
                print(f"  {checkout}:")
            _figures("rerun with nothing new", reruns[checkout], RERUN_TARGET)
            _figures("first run on the sample articles (fresh output)", firsts[checkout], FIRST_RUN_TARGET)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def without_server(project: Path, repeat: int, work: Path) -> None:
    home = work / "home-default"
    env = _env(home, project, None)
    print("without PREFECT_API_URL (a fresh PREFECT_HOME, as a new user starts):", flush=True)
    try:
        first = work / "out-default"
        _figures("very first command (fresh output)", [run_command(project, first, env)])
        _figures("rerun with nothing new", [run_command(project, first, env) for _ in range(repeat)])
        _figures("first run on the sample articles (fresh output)",
                 [run_command(project, work / f"out-default-{n}", env) for n in range(repeat)])
    finally:  # a background server this checkout may have started
        if (project / "flows" / "server.py").exists():
            subprocess.run([sys.executable, "-m", "flows.cli", "server", "stop"], cwd=project, env=env,
                           capture_output=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, metavar="N", help="repetitions of each figure (default: 3)")
    parser.add_argument("--project", type=Path, default=ROOT, metavar="DIR",
                        help="checkout of newsclean to time (default: this one), run with this virtualenv")
    parser.add_argument("--compare", type=Path, default=None, metavar="DIR",
                        help="with a server running, also time this other checkout, alternating command by command "
                             "(before/after in one sitting)")
    parser.add_argument("--only", choices=("server", "default"), default=None,
                        help="only the figures with a server running, or only those without PREFECT_API_URL")
    args = parser.parse_args(argv)
    project = args.project.resolve()
    print(f"newsclean start-up, {project} on {os.cpu_count()} cores; load average {_load()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="newsclean-bench-startup-"))
    try:
        if args.only != "default":
            with_server(project, args.repeat, work, args.compare.resolve() if args.compare else None)
        if args.only != "server":
            without_server(project, args.repeat, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
