#!/usr/bin/env python3
"""Extraction quality of the full pipeline on ../shared/bench, scored by the benchmark's own scorer.

Runs the real CLI (`newsclean run`) over bench/text or bench/html into a temporary folder, reads
the articles back from Parquet, keys each body by its input file's stem and scores it.
Quarantined documents count as empty bodies; every document must be accounted for.

Usage: scripts/bench_quality.py --input text|html [--keep DIR] [--worst N]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT.parent / "shared" / "bench"


def document_key(source_uri: str) -> str:
    name = Path(source_uri).name
    for suffix in (".gz", ".html", ".txt"):
        name = name.removesuffix(suffix)
    return name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", choices=("text", "html"), required=True)
    parser.add_argument("--keep", type=Path, help="write the output here instead of a temporary folder")
    parser.add_argument("--worst", type=int, default=0, help="list the N worst documents")
    args = parser.parse_args()
    source = BENCH / args.input
    out = args.keep or Path(tempfile.mkdtemp(prefix=f"bench-quality-{args.input}-"))
    started = time.monotonic()
    subprocess.run([str(ROOT / ".venv" / "bin" / "newsclean"), "run", str(source), "--out", str(out)], check=True)
    seconds = time.monotonic() - started
    articles = duckdb.sql(f"select source_uri, body from read_parquet('{out}/articles/**/*.parquet')").fetchall()
    quarantine = []
    if any((out / "quarantine").rglob("*.parquet")):
        quarantine = duckdb.sql(
            f"select source_uri, reasons from read_parquet('{out}/quarantine/**/*.parquet')").fetchall()
    predictions = {document_key(uri): body for uri, body in articles}
    inputs = len(list(source.iterdir()))
    print(f"{args.input}: {inputs} inputs, {len(articles)} articles, {len(quarantine)} quarantined, "
          f"{seconds:.1f} s wall (CLI, Prefect start-up included)")
    for uri, reasons in quarantine:
        print(f"  quarantined {document_key(uri)}: {', '.join(reasons)}")
    if len(articles) + len(quarantine) != inputs:
        print("ERROR: documents unaccounted for", file=sys.stderr)
        return 1
    prediction_file = out / "predictions.json"
    prediction_file.write_text(json.dumps(predictions, ensure_ascii=False), encoding="utf-8")
    command = [sys.executable, str(BENCH / "score.py"), str(prediction_file)]
    if args.worst:
        command += ["--worst", str(args.worst)]
    return subprocess.run(command).returncode


if __name__ == "__main__":
    sys.exit(main())
