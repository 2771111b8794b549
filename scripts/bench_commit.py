"""Commit latency and plain-Parquet reader behaviour: newsclean's commit record vs Delta Lake.

    .venv/bin/python scripts/bench_commit.py            # newsclean's commit (record written last) vs plain files
    python scripts/bench_commit.py --delta              # Delta Lake (needs `pip install deltalake`; not a
                                                        # project dependency: run it in a scratch venv)

Each commit writes ROWS article-like rows (3 KB bodies) as one Parquet file, plus, for newsclean, a ledger
segment, three story-index delta files and a site-line-count delta, as a run's commit does. Prints the
median and spread of the commit latency over COMMITS commits, and for Delta what a reader that globs
``articles/**/*.parquet`` (DuckDB, Polars, pandas on the folder) sees after an overwrite and after a
write killed before its log entry.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

ROWS = 2000
COMMITS = 12


def article_table(rows: int, seed: int) -> pa.Table:
    rng = random.Random(seed)
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9))) for _ in range(5000)]
    return pa.table({
        "doc_id": [f"{seed:08x}{n:024x}" for n in range(rows)],
        "source_uri": [f"/in/site/{seed}-{n}.txt" for n in range(rows)],
        "site": [f"site{n % 7}" for n in range(rows)],
        "title": [" ".join(rng.choices(words, k=8)) for _ in range(rows)],
        "body": [" ".join(rng.choices(words, k=500)) for _ in range(rows)],
        "word_count": pa.array([500] * rows, type=pa.int32()),
    })


def _spread(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    return f"median {statistics.median(ms):.1f} ms (min {ms[0]:.1f}, max {ms[-1]:.1f}) over {len(ms)} commits"


def bench_newsclean(root: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from flows.store import Store

    small = pa.table({"path": [f"/in/{n}" for n in range(ROWS)], "size": list(range(ROWS))})
    tables = [article_table(ROWS, seed) for seed in range(COMMITS)]
    plain, committed = [], []
    store = Store.open(str(root / "plain"))
    for number, table in enumerate(tables):  # before: each file renamed in place on its own, no record
        started = time.perf_counter()
        store.write_table(table, store.path("articles", "dt=2026-12-07", f"part-{number:05d}.parquet"))
        store.write_table(small, store.path("state", "ledger", f"segment-{number:05d}.parquet"))
        store.write_bytes(b"{}" * 1000, store.path("state", "site_line_counts.json"))
        plain.append(time.perf_counter() - started)
    store = Store.open(str(root / "committed"))
    for number, table in enumerate(tables):
        started = time.perf_counter()
        commit = store.begin(f"run-{number:05d}")
        commit.add(table, store.path("articles", "dt=2026-12-07", f"part-{number:05d}.parquet"))
        commit.add(small, store.path("state", "ledger", f"segment-{number:05d}.parquet"))
        for part in ("articles", "ledger", "lines"):
            commit.add(small, store.path("state", "stories", f"delta-run-{number:05d}-{part}.parquet"))
        commit.add(b"x" * 2000, store.path("state", "site_lines", f"delta-run-{number:05d}.json.zz"))
        commit.publish()
        committed.append(time.perf_counter() - started)
    print(f"plain files (articles, ledger segment, counts; 3 files): {_spread(plain)}")
    print(f"newsclean commit (7 files, record written last):        {_spread(committed)}")


def bench_delta(root: Path) -> None:
    import duckdb
    from deltalake import DeltaTable, write_deltalake

    path = root / "articles"
    tables = [article_table(ROWS, seed) for seed in range(COMMITS)]
    latencies = []
    for table in tables:
        started = time.perf_counter()
        write_deltalake(str(path), table, mode="append")
        latencies.append(time.perf_counter() - started)
    print(f"Delta Lake append (1 table):                            {_spread(latencies)}")

    def glob_rows() -> int:
        return duckdb.sql(f"select count(*) from read_parquet('{path}/**/*.parquet')").fetchall()[0][0]

    print(f"  rows: Delta {DeltaTable(str(path)).to_pyarrow_table().num_rows}, a *.parquet glob {glob_rows()}")
    write_deltalake(str(path), tables[0], mode="overwrite")
    print(f"  after an overwrite with {ROWS} rows: Delta {DeltaTable(str(path)).to_pyarrow_table().num_rows}, "
          f"a *.parquet glob {glob_rows()} (removed files stay until VACUUM)")
    # A writer killed after its data file, before its log entry: start one and kill it mid-write.
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); from bench_commit import article_table;"
            f"from deltalake import write_deltalake; write_deltalake({str(path)!r}, article_table(200000, 99), mode='append')")
    process = subprocess.Popen([sys.executable, "-c", code])
    before = set(path.glob("*.parquet"))
    while process.poll() is None and set(path.glob("*.parquet")) == before:
        time.sleep(0.001)
    process.kill()
    process.wait()
    print(f"  after a writer killed mid-append: Delta {DeltaTable(str(path)).to_pyarrow_table().num_rows}, "
          f"files a *.parquet glob matches: {len(list(path.glob('*.parquet')))} (was {len(before)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delta", action="store_true", help="measure Delta Lake (deltalake) instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-commit-", dir=os.environ.get("BENCH_DIR")) as folder:
        (bench_delta if args.delta else bench_newsclean)(Path(folder))


if __name__ == "__main__":
    main()
