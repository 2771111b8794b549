"""Memory: a real run over a 2 MB gzip bomb and a 3 GB sparse file stays under 600 MB (issue 20), counting the
run's own processes (the flow and its workers) from /proc; the Prefect server is the session's, started before
the run, as the local server a run reuses. `scripts/bench_memory.py` prints the same with the figures."""
from __future__ import annotations

import shutil
import sys

import pytest

from scripts.bench_memory import measure
from tests.cases import ROOT, SEED_ARTICLES
from tests.conftest import api_env
from tests.flows.hostile import gzip_bomb, sparse_file

LIMIT_BYTES = 600 * 1_000_000


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree's memory from /proc")
def test_a_run_over_a_gzip_bomb_and_a_sparse_file_stays_under_600_mb(prefect_harness, tmp_path):
    """Before: 623 MB (the flow 422 MB and two workers of about 100 MB for five documents)."""
    source = tmp_path / "source"
    shutil.copytree(SEED_ARTICLES, source)
    gzip_bomb(source / "bomb.txt.gz", compressed_mb=2.0)
    sparse_file(source / "sparse.txt", 3 * 1024 ** 3)
    peak = measure([sys.executable, "-m", "flows.cli", "run", str(source), "--out", str(tmp_path / "out")],
                   cwd=ROOT, env=api_env())
    assert peak["exit"] == 0, peak["output"][-3000:]
    held = {role: [round(rss / 1e6) for rss in values] for role, values in peak["own_at_peak"].items()}
    assert peak["own"] < LIMIT_BYTES, f"the run's processes peaked at {peak['own'] / 1e6:.0f} MB: {held}"
    assert peak["server"] == 0  # the session's server is no child of the run
