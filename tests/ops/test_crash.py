"""Crash safety: runs killed with SIGKILL at several points leave a readable, duplicate-free output,
complete up to the last committed batch; the next run finishes the work."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from flows.clean_news import clean_news
from flows.ledger import Ledger
from flows.settings import CRASH_ENV
from flows.store import Store
from tests.conftest import api_env, read_table, write_corpus
from transforms.records import content_id

TOTAL = 25  # 24 articles and one empty file that lands in quarantine


def _run_cli(source, out, env, *, crash_at: str | None = None) -> subprocess.Popen:
    env = dict(env)
    if crash_at:
        env[CRASH_ENV] = crash_at
    command = [sys.executable, "-m", "flows.cli", "run", str(source), "--out", str(out), "--batch-size", "5",
               "--workers", "1"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _check_consistent(out) -> set[str]:
    """Readable by pyarrow and DuckDB, no doc_id twice, every input the ledger calls done is stored."""
    ids = read_table(out).column("doc_id").to_pylist() + read_table(out, "quarantine").column("doc_id").to_pylist()
    assert len(ids) == len(set(ids)), "duplicate rows after a crash"
    if ids:
        globs = [f"{out}/{table}/*/*.parquet" for table in ("articles", "quarantine") if (out / table).exists()]
        globs = [g for g in globs if list(out.glob(g[len(str(out)) + 1:]))]
        count = sum(duckdb.sql(f"select count(*) from read_parquet('{g}')").fetchall()[0][0] for g in globs)
        assert count == len(ids)
    ledger = Ledger.load(Store.open(str(out)))
    for path in ledger.entries:
        with open(path, "rb") as handle:
            assert content_id(handle.read()) in set(ids), f"{path} is in the ledger but not stored"
    return set(ids)


@pytest.mark.skipif(os.environ.get("NEWSCLEAN_FAULTS") != "full",
                    reason="its kills are part of tests/ops/test_faults.py's chain; make test-faults runs it too")
def test_sigkill_at_any_point_then_rerun_completes(prefect_harness, tmp_path):
    source, out = tmp_path / "in", tmp_path / "out"
    write_corpus(source, TOTAL - 1)
    (source / "example-news" / "article-00000-empty.txt").write_text("\n", encoding="utf-8")
    env = api_env()
    for crash_at in ("after-articles:1", "after-quarantine:0", "after-ledger:0"):
        process = _run_cli(source, out, env, crash_at=crash_at)
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
        _check_consistent(out)

    # A kill at an arbitrary moment: as soon as the run has committed one more batch.
    segments = set((out / "state" / "ledger").glob("*.parquet"))
    process = _run_cli(source, out, env)
    deadline = time.monotonic() + 300
    while set((out / "state" / "ledger").glob("*.parquet")) == segments and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    stored = _check_consistent(out)
    assert len(stored) < TOTAL

    summary = clean_news(sources=[str(source)], out=str(out), batch_size=5, workers=1)
    assert len(_check_consistent(out)) == TOTAL
    assert len(Ledger.load(Store.open(str(out)))) == TOTAL
    assert not list(out.rglob(".*.tmp"))
    assert summary["written"] + summary["quarantined"] + summary["already_stored"] == summary["read"]
