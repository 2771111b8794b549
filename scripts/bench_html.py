#!/usr/bin/env python3
"""Throughput of the HTML path against a bare ``trafilatura.extract`` loop over the same pages, on one core.

Both loops start from the page bytes (trafilatura decodes bytes itself), run in this process one after the
other, and are timed in CPU seconds (the machine is shared, so wall time is noisy; it is printed too).
The pipeline loop is split into its stages so a slow one is easy to spot:

- decode:  decode_document (charset, unicode repair, HTML sniffing; the lead's transforms/decode.py)
- extract: extract_html (trafilatura cascade, metadata) inside clean_article, plus the chrome second pass
- language: structure_article

Usage: .venv/bin/python scripts/bench_html.py [--bench DIR] [--repeat N]
"""
from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from scripts.score_html import DEFAULT_BENCH, SUFFIX, load_lexicon  # noqa: E402
from transforms.names import AliasTable  # noqa: E402
from transforms.pipeline import References, clean_article, decode_document, structure_article  # noqa: E402
from transforms.records import RawDocument  # noqa: E402


def timed(function, items):
    wall, cpu = time.perf_counter(), time.process_time()
    results = [function(item) for item in items]
    return results, time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    ap.add_argument("--repeat", type=int, default=1, help="run each loop N times and keep the fastest")
    a = ap.parse_args()

    raws = [gzip.decompress(path.read_bytes()) for path in sorted((a.bench / "html").glob(f"*{SUFFIX}"))]
    docs = [RawDocument(source_uri=f"page{i}{SUFFIX}", raw=raw) for i, raw in enumerate(raws)]
    refs = References(lexicon=load_lexicon(), aliases=AliasTable.from_rows([]))
    # warm-up: imports, lazily built regexes and date parsers are not per-page costs
    for doc in docs[:3]:
        trafilatura.extract(doc.raw)
        structure_article(clean_article(decode_document(doc), refs=refs))

    best: dict[str, tuple[float, float]] = {}
    for _ in range(a.repeat):
        _, bare_cpu, bare_wall = timed(trafilatura.extract, raws)
        decoded, decode_cpu, decode_wall = timed(decode_document, docs)
        cleaned, clean_cpu, clean_wall = timed(lambda art: clean_article(art, refs=refs), decoded)
        _, lang_cpu, lang_wall = timed(structure_article, cleaned)
        for name, cpu, wall in (("bare", bare_cpu, bare_wall), ("decode", decode_cpu, decode_wall),
                                ("extract", clean_cpu, clean_wall), ("language", lang_cpu, lang_wall)):
            if name not in best or cpu < best[name][0]:
                best[name] = (cpu, wall)

    pages = len(raws)
    pipeline_cpu = sum(best[name][0] for name in ("decode", "extract", "language"))
    pipeline_wall = sum(best[name][1] for name in ("decode", "extract", "language"))
    print(f"pages={pages}  (CPU seconds, wall in brackets)")
    print(f"bare trafilatura.extract loop : {best['bare'][0]:6.2f} s [{best['bare'][1]:6.2f}]  {pages / best['bare'][0]:6.1f} pages/s")
    for name in ("decode", "extract", "language"):
        print(f"  pipeline {name:20s}: {best[name][0]:6.2f} s [{best[name][1]:6.2f}]")
    print(f"pipeline total                : {pipeline_cpu:6.2f} s [{pipeline_wall:6.2f}]  {pages / pipeline_cpu:6.1f} pages/s")
    print(f"throughput ratio pipeline/bare: {best['bare'][0] / pipeline_cpu:.2f}x"
          f"   (without decode: {best['bare'][0] / (best['extract'][0] + best['language'][0]):.2f}x)")


if __name__ == "__main__":
    main()
