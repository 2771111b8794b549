"""Peak memory of a real `newsclean run` over hostile sizes: a 2 MB gzip bomb and a 3 GB sparse file.

Builds both (plus the sample articles, so the run also cleans something) in a temporary folder, runs the
real CLI, and polls the resident memory (RSS) of its whole process tree every 20 ms from /proc. What counts:

- the run's own processes: the flow process and the worker processes it starts (the issue 20 bound,
  600 MB, applies to their sum at its peak; --limit-mb);
- the Prefect server, reported beside them. By default (``--server background``, as `newsclean run` works
  without PREFECT_API_URL) the run reuses a local server started before it (`newsclean server start`, as
  the first run of a day does once): that server is not one of the run's processes and is measured on its
  own. With ``--server temporary`` (NEWSCLEAN_SERVER=temporary) the run starts its own server as a child,
  and the tree's figure with it is printed too.

It prints, for a run over the sample articles alone (the baseline) and for the same with the hostile files,
the peak of the run's own processes, what each of them held at that moment, the peak of each process, and
the server's; exits 1 when the hostile run's own processes peak above the limit.

    .venv/bin/python scripts/bench_memory.py                     # 2 MB bomb + 3 GB sparse file
    .venv/bin/python scripts/bench_memory.py --server temporary  # the run starts (and counts) its own server
    .venv/bin/python scripts/bench_memory.py --repo OTHER        # another checkout's code (before/after)

Linux only (/proc). The sparse file takes no disk space; the bomb takes 2 MB. The server it starts is
stopped at the end.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.flows.hostile import gzip_bomb, sparse_file  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def _processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, resident bytes, command line) for every process now."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        found[int(entry)] = (int(fields[1]), int(fields[21]) * PAGE, command)  # ppid, rss pages
    return found


def _tree(root: int, processes: dict[int, tuple[int, int, str]]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in processes:
            tree.append(pid)
            todo.extend(children.get(pid, ()))
    return tree


def _role(pid: int, root: int, command: str) -> str:
    if pid == root:
        return "flow"
    if "flows.workers" in command:
        return "worker"
    if "flows.server" in command or "uvicorn" in command or "prefect server" in command:
        return "server"
    return "other"


def measure(command: list[str], cwd: Path, env: dict, server_pid: int | None = None) -> dict:
    """Peaks of the command's process tree: of its own processes (without a Prefect server), with the server
    (a child of the run, or ``server_pid`` started before it), and of each process."""
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = {"own": 0, "own_at_peak": {}, "with_server": 0, "server": 0, "per_process": {}}
    while process.poll() is None:
        processes = _processes()
        tree = _tree(process.pid, processes)
        by_role: dict[str, list[int]] = {}
        for pid in tree:
            parent, rss, command_line = processes[pid]
            if pid != process.pid and command_line == processes.get(parent, (0, 0, ""))[2]:
                # Forked (vfork: the same memory) and not yet exec'd: its RSS is its parent's pages, counted there.
                continue
            by_role.setdefault(_role(pid, process.pid, command_line), []).append(rss)
            if rss > peak["per_process"].get(pid, (0, ""))[0]:
                peak["per_process"][pid] = (rss, command_line[:100])
        server = sum(by_role.get("server", []))
        if server_pid in processes:
            server = processes[server_pid][1]
        own = sum(rss for role, values in by_role.items() if role != "server" for rss in values)
        if own > peak["own"]:
            peak["own"], peak["own_at_peak"] = own, {role: values for role, values in by_role.items()
                                                     if role != "server"}
        peak["server"] = max(peak["server"], server)
        peak["with_server"] = max(peak["with_server"], own + server)
        time.sleep(0.02)
    peak["output"] = process.stdout.read().decode(errors="replace")
    peak["exit"] = process.returncode
    return peak


def run_once(repo: Path, source: Path, folder: Path, env: dict, server_pid: int | None) -> dict:
    # `python -m flows.cli` from the checkout, with it first on the path: the .venv's editable install may
    # point at another checkout.
    python = ROOT / ".venv" / "bin" / "python"
    started = time.monotonic()
    peak = measure([str(python), "-m", "flows.cli", "run", str(source), "--out", str(folder / "out")], cwd=repo,
                   env=env, server_pid=server_pid)
    peak["seconds"] = time.monotonic() - started
    return peak


def _server(action: str, repo: Path, env: dict) -> str:
    python = ROOT / ".venv" / "bin" / "python"
    done = subprocess.run([str(python), "-m", "flows.cli", "server", action], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"newsclean server {action} failed: {done.stdout}{done.stderr}")
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=ROOT,
                        help="checkout whose code runs, with this checkout's .venv (default: this one)")
    parser.add_argument("--bomb-mb", type=float, default=2.0, help="compressed size of the gzip bomb (default: 2)")
    parser.add_argument("--sparse-gb", type=float, default=3.0, help="size of the sparse file (default: 3)")
    parser.add_argument("--limit-mb", type=float, default=600.0,
                        help="fail when the run's own processes (flow and workers) peak above this together "
                             "(default: 600)")
    parser.add_argument("--server", choices=("background", "temporary"), default="background",
                        help="the Prefect server: started before the run and reused (default), or the run's own")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run over the sample articles alone")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="newsclean-bench-memory-"))
    env = {**os.environ, "PREFECT_HOME": str(folder / "prefect"), "PYTHONPATH": str(args.repo.resolve()),
           "NEWSCLEAN_SERVER": args.server}
    env.pop("PREFECT_API_URL", None)  # the local server of `newsclean run` without an API
    runs = {}
    server_pid = None
    try:
        if args.server == "background":
            started = _server("start", args.repo, env)
            server_pid = int(re.search(r"pid (\d+)", started).group(1))
        if not args.no_baseline:
            plain = folder / "plain"
            shutil.copytree(ROOT / "seeds" / "articles", plain / "source")
            runs["sample articles alone"] = run_once(args.repo, plain / "source", plain, env, server_pid)
        hostile = folder / "hostile"
        source = hostile / "source"
        shutil.copytree(ROOT / "seeds" / "articles", source)
        expanded = gzip_bomb(source / "bomb.txt.gz", compressed_mb=args.bomb_mb)
        sparse_file(source / "sparse.txt", int(args.sparse_gb * 1024 ** 3))
        print(f"inputs: {(source / 'bomb.txt.gz').stat().st_size / 2**20:.1f} MiB gzip bomb "
              f"({expanded / 2**30:.1f} GiB decompressed), {args.sparse_gb:g} GiB sparse file, and the "
              f"{len(list((ROOT / 'seeds' / 'articles').iterdir()))} sample articles")
        runs["with the bomb and the sparse file"] = run_once(args.repo, source, hostile, env, server_pid)
    finally:
        if server_pid:
            _server("stop", args.repo, env)
        shutil.rmtree(folder, ignore_errors=True)
    mb = 1_000_000
    where = ("a background server started before the run, not counted in the run's processes"
             if args.server == "background" else "a temporary server, a child of the run")
    print(f"checkout: {args.repo.resolve()}; Prefect server: {where}")
    for name, peak in runs.items():
        print(f"\n{name}: exit code {peak['exit']}, {peak['seconds']:.1f} s")
        if peak["exit"] != 0:
            print(peak["output"][-3000:])
        at_peak = ", ".join(f"{role} {' + '.join(f'{rss / mb:.0f}' for rss in sorted(values, reverse=True))}"
                            for role, values in sorted(peak["own_at_peak"].items()))
        print(f"  peak RSS, the run's own processes:  {peak['own'] / mb:6.0f} MB  (at that moment: {at_peak} MB)")
        print(f"  peak RSS, the Prefect server:       {peak['server'] / mb:6.0f} MB")
        print(f"  peak RSS, the two together:         {peak['with_server'] / mb:6.0f} MB")
        print("  peak RSS of each process:")
        for rss, command in sorted(peak["per_process"].values(), reverse=True)[:6]:
            print(f"    {rss / mb:6.0f} MB  {command}")
    hostile_run = runs["with the bomb and the sparse file"]
    if hostile_run["own"] > args.limit_mb * mb:
        print(f"FAIL: the run's own processes peaked above {args.limit_mb:g} MB")
        return 1
    return 0 if hostile_run["exit"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
