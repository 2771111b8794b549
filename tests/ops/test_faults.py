"""Fault tests: the real CLI killed (SIGKILL) at every named crash point and at random moments, then run
again; leftovers of a kill, a full disk, SIGTERM. After every kill the output must hold the invariants of
:mod:`flows.invariants` (committed state), after every finished run all of them: 0 lost, 0 duplicated,
0 articles missing from stories.

``make test`` runs a short chain (at least 20 kills); ``make test-faults`` (NEWSCLEAN_FAULTS=full) the
full set: every point at several commits, with and without worker processes, and more random kills.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from flows.clean_news import clean_news
from flows.invariants import check_output
from flows import settings
from flows.settings import CRASH_ENV
from tests.conftest import api_env, read_table, write_corpus

FULL_SET = os.environ.get("NEWSCLEAN_FAULTS") == "full"


class Corpus:
    """A growing input folder: each step adds distinct articles, an exact copy of an earlier one (same body,
    other bytes), an empty file (quarantine) and a .jsonl of two lines."""

    def __init__(self, folder: Path):
        self.folder, self.next = folder, 0

    def grow(self, articles: int = 4) -> None:
        start = self.next
        paths = write_corpus(self.folder, articles, start=start, site="desk")
        self.next += articles
        original = paths[0].read_text(encoding="utf-8")
        (self.folder / "copies").mkdir(exist_ok=True)
        (self.folder / "copies" / f"copy-{start:05d}.txt").write_text(original + "\n\n", encoding="utf-8")
        (self.folder / "desk" / f"empty-{start:05d}.txt").write_text("\n", encoding="utf-8")
        lines = [f'{{"url": "https://wire.example/{start}-{n}", "text": "Wire item {start} {n}. "'
                 f' "The council met on Tuesday to debate the harbour budget for the {n} time."}}'
                 for n in range(2)]
        (self.folder / f"wire-{start:05d}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _cli(source, out, *, crash_at: str | None = None, full: bool = False, workers: int = 0,
         batch_size: int | None = None) -> subprocess.Popen:
    """The real CLI. Commits of 3 files (several per run), 40 with --full (which reads every input again):
    each commit costs a validation run, and the kill points need only the first two."""
    env = api_env()
    env.pop(CRASH_ENV, None)
    if crash_at:
        env[CRASH_ENV] = crash_at
    batch_size = batch_size or (40 if full else 3)
    command = [sys.executable, "-m", "flows.cli", "run", str(source), "--out", str(out),
               "--batch-size", str(batch_size), "--workers", str(workers)] + (["--full"] if full else [])
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _killed_at(source, out, point: str, *, full: bool = False, workers: int = 0) -> bool:
    """Run the CLI until NEWSCLEAN_CRASH_AT kills it at ``point``; False if the run ended without reaching it."""
    process = _cli(source, out, crash_at=point, full=full, workers=workers)
    _, stderr = process.communicate(timeout=300)
    if process.returncode == 0:
        return False
    assert process.returncode == -signal.SIGKILL, stderr.decode(errors="replace")[-3000:]
    return True


def _killed_at_random(source, out, rng: random.Random, *, full: bool = False, workers: int = 0) -> bool:
    """Kill the CLI a random moment after it starts committing (pending files or a commit record appear)."""
    process = _cli(source, out, full=full, workers=workers)
    deadline = time.monotonic() + 300
    while process.poll() is None and not _committing(out):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(rng.uniform(0, 0.4))
    if process.poll() is not None:
        return False
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    return True


def _committing(out: Path) -> bool:
    return any(out.rglob(".*.pending")) or any((out / "state" / "commits").glob("*.json")) \
        or any(out.glob(".full-*/state/commits/*.json"))


def _assert_invariants(source, out, *, killed: bool, after: str) -> None:
    problems = check_output(str(out), [str(source)], killed=killed)
    assert not problems, f"after {after}: " + "; ".join(problems[:10])


def _kill_plan() -> list[tuple[str, bool, int]]:
    """(crash point or "random", --full, workers) for each kill."""
    points = getattr(settings, "CRASH_POINTS", ())
    commit_points = [p for p in points if p in ("after-articles", "after-quarantine", "before-commit-record",
                                                "after-commit-record", "mid-publish", "after-ledger")]
    end_points = [p for p in points if p in ("mid-story-save", "after-story-save", "mid-site-lines-save")]
    plan = [(f"{p}:{n % 2}", False, 0) for n, p in enumerate(commit_points)]
    plan += [(p, False, 0) for p in end_points]
    plan += [("before-swap", True, 0), ("mid-swap", True, 0), ("mid-publish:1", True, 0), ("mid-story-save", True, 0)]
    plan += [("random", False, 0)] * 4 + [("after-commit-record:0", False, 1), ("mid-swap", True, 1),
                                          ("after-articles:0", False, 0), ("after-story-save", False, 1),
                                          ("random", True, 0)]
    if FULL_SET:
        plan += [(f"{p}:{n}", full, workers) for p in commit_points for n in (0, 1, 2)
                 for full, workers in ((False, 0), (True, 1))]
        plan += [(p, full, 1) for p in end_points for full in (False, True)]
        plan += [("before-swap", True, 1), ("mid-swap", True, 0)] * 2
        plan += [("random", n % 3 == 0, n % 2) for n in range(30)]
    return plan


def test_kills_at_every_crash_point_and_at_random_then_rerun(prefect_harness, tmp_path):
    """Every kill leaves the committed state consistent; every finished run leaves every invariant true."""
    source, out = tmp_path / "in", tmp_path / "out"
    corpus = Corpus(source)
    rng = random.Random(20)
    kills = 0
    not_reached: list[str] = []  # runs that ended before their kill point (a commit number the run did not reach)
    plan = _kill_plan()
    for number, (point, full, workers) in enumerate(plan):
        corpus.grow()
        if point == "random":
            killed = _killed_at_random(source, out, rng, full=full, workers=workers)
        else:
            killed = _killed_at(source, out, point, full=full, workers=workers)
        kills += killed
        if not killed:
            not_reached.append(f"{number}:{point}{' --full' if full else ''}{' with workers' if workers else ''}")
        if killed:  # checked on a copy that recovery has brought back to the last commit
            _assert_invariants(source, out, killed=True, after=f"kill {number} at {point}")
            if point in ("before-swap", "mid-swap"):  # readers still have every table during the swap
                assert (out / "articles").is_dir()
        # A finished run in this process (a CLI start costs seconds) after every second kill and each swap;
        # the killed runs in between recover what the kill before them left.
        if number % 2 == 1 or full or number == len(plan) - 1:
            summary = clean_news(sources=[str(source)], out=str(out), batch_size=10, workers=0)
            _assert_invariants(source, out, killed=False, after=f"the run after kill {number} at {point}")
            assert summary["written"] + summary["quarantined"] + summary["already_stored"] == summary["read"]
    assert kills >= 20, f"only {kills} of {len(plan)} runs were killed"
    # A random kill may come after the run ended; a named point that is never reached tests nothing.
    assert all(":random" in entry for entry in not_reached), f"named crash points never reached: {not_reached}"
    articles = read_table(out)
    assert articles.num_rows == len(set(articles.column("doc_id").to_pylist())) > 0
    _assert_documented_permissions(out)
    print(f"{kills} kills of {len(plan)} planned, invariants held after each and after every recovery run; "
          f"ended before the kill point: {', '.join(not_reached) or 'none'}")


def _assert_documented_permissions(out: Path) -> None:
    """Quarantined raw bytes are not readable by other users; the other tables are (README, Locks and permissions)."""
    umask = os.umask(0)
    os.umask(umask)
    quarantine = list((out / "quarantine").glob("*/*.parquet"))
    assert quarantine, "the corpus has no quarantined document"
    for path in quarantine:
        assert path.stat().st_mode & 0o777 == 0o640 & ~umask, path
    for path in list((out / "articles").glob("*/*.parquet")) + [out / "stories" / "stories.parquet"]:
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path


# -- the recovery cases of issue 20, each failing on the code before it ----------------------------------
def test_a_leftover_temporary_file_is_removed_by_the_next_run(prefect_harness, corpus):
    source, out = corpus
    clean_news(sources=[str(source)], out=str(out), workers=0)
    partition = next((out / "articles").iterdir())
    leftover = partition / ".part-x-00000.parquet-1234abcd.tmp"
    leftover.write_bytes(b"PAR1 half written")
    (source / "example-news" / "late.txt").write_text("A late article about the harbour budget vote.\n")
    summary = clean_news(sources=[str(source)], out=str(out), workers=0)
    assert not leftover.exists()
    assert any("removed 1 unfinished file" in action for action in summary["recovered"])
    _assert_invariants(source, out, killed=False, after="a leftover .tmp")


def test_an_empty_partition_folder_left_by_a_killed_first_commit_does_not_block(prefect_harness, corpus):
    source, out = corpus
    (out / "articles" / "dt=2026-12-01").mkdir(parents=True)  # what a kill during the first commit leaves
    (out / "quarantine" / "dt=2026-12-01").mkdir(parents=True)
    summary = clean_news(sources=[str(source)], out=str(out), workers=0)
    assert summary["written"] == 24
    assert not (out / "articles" / "dt=2026-12-01").exists()
    _assert_invariants(source, out, killed=False, after="an empty partition folder")


def test_a_kill_in_the_middle_of_the_full_swap_keeps_every_table_readable(prefect_harness, corpus):
    source, out = corpus
    clean_news(sources=[str(source)], out=str(out), workers=0)
    assert _killed_at(source, out, "mid-swap", full=True)
    # Readers see a whole dataset at once: the articles table is there, each document once.
    count = duckdb.sql(f"select count(*), count(distinct doc_id) from read_parquet('{out}/articles/**/*.parquet')"
                       ).fetchall()[0]
    assert count == (24, 24)
    process = _cli(source, out)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr.decode(errors="replace")[-3000:]
    _assert_invariants(source, out, killed=False, after="a kill mid-swap")


def test_a_kill_between_two_commits_of_one_jsonl_keeps_the_invariants(prefect_harness, tmp_path):
    """A .jsonl read across two commits (its ledger row goes with its last line) and a kill between them: the
    checker called its first line 'stored but its input is not in the ledger' (found by make test-faults once
    mid-publish:2 fired); the next run stores the rest, nothing twice."""
    source, out = tmp_path / "in", tmp_path / "out"
    write_corpus(source, 2, site="desk")
    lines = [f'{{"url": "https://wire.example/{n}", "text": "Wire item {n}. The council met on Tuesday to debate '
             f'the harbour budget for the {n} time."}}' for n in range(3)]
    (source / "wire.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _killed_at(source, out, "after-ledger:0")  # commits of 3 documents: the .jsonl's first line in commit 0
    assert duckdb.sql(f"select count(*) from read_parquet('{out}/*/*/*.parquet', union_by_name=true) "
                      "where source_uri like '%wire.jsonl#%'").fetchall()[0][0] == 1
    _assert_invariants(source, out, killed=True, after="a kill between the commits of one .jsonl")
    clean_news(sources=[str(source)], out=str(out), batch_size=3, workers=0)
    _assert_invariants(source, out, killed=False, after="the run after it")


def test_exact_copies_dropped_by_a_killed_run_stay_accounted_for(prefect_harness, tmp_path):
    """The copy's source was only in the story index, saved every 60 s: the ledger marked it done, the
    index never had it (fails before the atomic commit)."""
    source, out = tmp_path / "in", tmp_path / "out"
    Corpus(source).grow(articles=4)
    assert _killed_at(source, out, "after-ledger:0", workers=0)
    assert _killed_at(source, out, "after-ledger:0", workers=0)  # the rerun: another commit, then killed
    _assert_invariants(source, out, killed=True, after="two kills after commits")
    clean_news(sources=[str(source)], out=str(out), batch_size=2, workers=0)
    _assert_invariants(source, out, killed=False, after="the recovery run")


# -- a full disk ------------------------------------------------------------------------------------
def _mount_tmpfs(folder: Path, size: str) -> str | None:
    """Mount a tmpfs of ``size`` on ``folder``; the reason it cannot be done, or None."""
    if shutil.which("mount") is None or os.geteuid() != 0:
        return "mounting a tmpfs needs root and mount(8)"
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
    return None if done.returncode == 0 else f"mount -t tmpfs failed: {done.stderr.decode().strip()}"


def test_a_full_disk_fails_the_run_and_the_next_run_finishes(prefect_harness, tmp_path):
    """On a 512 KiB tmpfs the run fails (no space); the output keeps its invariants; with room again the next
    run finishes the work."""
    source, out = tmp_path / "in", tmp_path / "disk"
    corpus = Corpus(source)
    for _ in range(12):
        corpus.grow(articles=10)
    reason = _mount_tmpfs(out, "512k")
    if reason:
        pytest.skip(reason)
    try:
        process = _cli(source, out, batch_size=20)
        _, stderr = process.communicate(timeout=600)
        assert process.returncode != 0, "the run fitted in 512 KiB; make the corpus larger"
        assert b"no space left on device" in stderr.lower(), \
            stderr.decode(errors="replace")[-3000:]
        _assert_invariants(source, out, killed=True, after="a full disk")
        subprocess.run(["mount", "-o", "remount,size=256m", str(out)], check=True)
        summary = clean_news(sources=[str(source)], out=str(out), batch_size=40, workers=0)
        assert summary["written"] > 0
        _assert_invariants(source, out, killed=False, after="the run after a full disk")
    finally:
        subprocess.run(["umount", "-l", str(out)], check=False)


# -- SIGTERM ----------------------------------------------------------------------------------------
def test_sigterm_during_a_commit_finishes_it_and_releases_the_lock(prefect_harness, tmp_path):
    source, out = tmp_path / "in", tmp_path / "out"
    corpus = Corpus(source)
    for _ in range(3):
        corpus.grow()
    process = _cli(source, out, workers=0)
    deadline = time.monotonic() + 300
    while not any(out.rglob(".*.pending")):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=120)
    assert process.returncode != 0
    # The commit that had begun was finished, not left for recovery, and the lock is free.
    assert not list(out.rglob(".*.pending")) and not list((out / "state" / "commits").glob("*.json"))
    _assert_invariants(source, out, killed=True, after="SIGTERM")
    from flows.lock import current_holder
    from flows.store import Store

    assert current_holder(Store.open(str(out))) is None
