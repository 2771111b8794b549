"""Peak memory of a real `newsclean run` over hostile sizes: a 2 MB gzip bomb and a 3 GB sparse file.

Builds both (plus the sample articles, so the run also cleans something) in a temporary folder, runs the
real CLI, and polls the resident memory of its whole process tree (the flow process, its worker processes
and the temporary Prefect server it starts) every 20 ms from /proc. Prints the peak of the largest single
process (what `/usr/bin/time -v` reports), of the whole tree and of the tree without the Prefect server, for
a run over the sample articles alone (the baseline: Prefect, Great Expectations and two workers) and for
the same with the hostile files; exits 1 when a process of the hostile run peaks above --limit-mb (issue 20:
600 MB).

    .venv/bin/python scripts/bench_memory.py                 # 2 MB bomb + 3 GB sparse file
    .venv/bin/python scripts/bench_memory.py --repo OTHER    # the same with another checkout's code (before/after)

Linux only (/proc). The sparse file takes no disk space; the bomb takes 2 MB.
"""
from __future__ import annotations

import argparse
import os
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


def _is_prefect_server(command: str) -> bool:
    return "uvicorn" in command or "prefect server" in command or "prefect.server" in command


def measure(command: list[str], cwd: Path, env: dict) -> dict:
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = {"tree": 0, "tree_without_server": 0, "largest_process": 0, "largest_command": "", "per_process": {}}
    while process.poll() is None:
        processes = _processes()
        tree = _tree(process.pid, processes)
        total = sum(processes[pid][1] for pid in tree)
        without = sum(processes[pid][1] for pid in tree if not _is_prefect_server(processes[pid][2]))
        peak["tree"] = max(peak["tree"], total)
        peak["tree_without_server"] = max(peak["tree_without_server"], without)
        for pid in tree:
            command, rss = processes[pid][2], processes[pid][1]
            if rss > peak["per_process"].get(pid, (0, ""))[0]:
                peak["per_process"][pid] = (rss, command[:100])
            if processes[pid][1] > peak["largest_process"]:
                peak["largest_process"], peak["largest_command"] = processes[pid][1], processes[pid][2][:80]
        time.sleep(0.02)
    peak["output"] = process.stdout.read().decode(errors="replace")
    peak["exit"] = process.returncode
    return peak


def run_once(repo: Path, source: Path, folder: Path) -> dict:
    env = {**os.environ, "PREFECT_HOME": str(folder / "prefect"), "PYTHONPATH": str(repo.resolve())}
    env.pop("PREFECT_API_URL", None)  # the run starts its own temporary server, as `newsclean run` does alone
    # `python -m flows.cli` from the checkout, with it first on the path: the .venv's editable install may
    # point at another checkout.
    python = ROOT / ".venv" / "bin" / "python"
    started = time.monotonic()
    peak = measure([str(python), "-m", "flows.cli", "run", str(source), "--out", str(folder / "out")], cwd=repo,
                   env=env)
    peak["seconds"] = time.monotonic() - started
    return peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=ROOT,
                        help="checkout whose code runs, with this checkout's .venv (default: this one)")
    parser.add_argument("--bomb-mb", type=float, default=2.0, help="compressed size of the gzip bomb (default: 2)")
    parser.add_argument("--sparse-gb", type=float, default=3.0, help="size of the sparse file (default: 3)")
    parser.add_argument("--limit-mb", type=float, default=600.0,
                        help="fail when the largest process of the run peaks above this (default: 600)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run over the sample articles alone")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="newsclean-bench-memory-"))
    runs = {}
    try:
        if not args.no_baseline:
            plain = folder / "plain"
            shutil.copytree(ROOT / "seeds" / "articles", plain / "source")
            runs["sample articles alone"] = run_once(args.repo, plain / "source", plain)
        hostile = folder / "hostile"
        source = hostile / "source"
        shutil.copytree(ROOT / "seeds" / "articles", source)
        expanded = gzip_bomb(source / "bomb.txt.gz", compressed_mb=args.bomb_mb)
        sparse_file(source / "sparse.txt", int(args.sparse_gb * 1024 ** 3))
        print(f"inputs: {(source / 'bomb.txt.gz').stat().st_size / 2**20:.1f} MiB gzip bomb "
              f"({expanded / 2**30:.1f} GiB decompressed), {args.sparse_gb:g} GiB sparse file, and the "
              f"{len(list((ROOT / 'seeds' / 'articles').iterdir()))} sample articles")
        runs["with the bomb and the sparse file"] = run_once(args.repo, source, hostile)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    mb = 1_000_000
    print(f"checkout: {args.repo.resolve()}")
    for name, peak in runs.items():
        print(f"\n{name}: exit code {peak['exit']}, {peak['seconds']:.1f} s")
        if peak["exit"] != 0:
            print(peak["output"][-3000:])
        print(f"  peak RSS, largest single process:        {peak['largest_process'] / mb:6.0f} MB  "
              f"({peak['largest_command']})")
        print(f"  peak RSS, whole process tree:            {peak['tree'] / mb:6.0f} MB  (flow, workers, Prefect server)")
        print(f"  peak RSS, tree without Prefect's server: {peak['tree_without_server'] / mb:6.0f} MB")
        for rss, command in sorted(peak["per_process"].values(), reverse=True)[:6]:
            print(f"    {rss / mb:6.0f} MB  {command}")
    hostile_run = runs["with the bomb and the sparse file"]
    if hostile_run["largest_process"] > args.limit_mb * mb:
        print(f"FAIL: a process of the run peaked above {args.limit_mb:g} MB")
        return 1
    return 0 if hostile_run["exit"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
