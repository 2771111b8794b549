#!/usr/bin/env python3
"""Throughput of the HTML path against a bare ``trafilatura.extract`` loop over the same pages, on one core.

Both start from the page bytes (trafilatura decodes bytes itself) and run in this process. The machine is
shared, so the stages are interleaved page by page (every stage of a page runs back to back, under the same
load) and each page's CPU time per stage is the minimum over ``--repeat`` rounds; totals are sums of those.
Stages of the pipeline:

- decode:   decode_document (charset, unicode repair, HTML sniffing; transforms/decode.py)
- html:     extract_html alone on the decoded text, as clean_article calls it (trafilatura cascade and metadata;
            transforms/html.py)
- clean:    clean_article, i.e. extract_html plus the plain-text chrome second pass and bookkeeping
- language: structure_article
- normalize: normalize_article (entity names)
- pickle:   the worker's reply, the Article without raw bytes and text, pickled as flows/workers.py frames it
            and unpickled as the flow process reads it

Pipeline = decode + clean + language + normalize + pickle: what a worker does per page (flows/workers.py
``_process_job``), plus the reply's unpickling in the flow.

Usage: .venv/bin/python scripts/bench_html.py [--bench DIR] [--repeat N]
"""
from __future__ import annotations

import argparse
import gzip
import pickle
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from flows.seeds import load_references  # noqa: E402
from scripts.score_html import DEFAULT_BENCH, SUFFIX  # noqa: E402
from transforms.html import extract_html  # noqa: E402
from transforms.pipeline import (StepInputs, clean_article, clean_document, decode_document,  # noqa: E402
                                 normalize_article, structure_article)
from transforms.records import RawDocument  # noqa: E402

STAGES = ("bare", "decode", "html", "clean", "language", "normalize", "pickle")
PIPELINE = ("decode", "clean", "language", "normalize", "pickle")


def cpu(function, *args):
    start = time.process_time()
    result = function(*args)
    return result, time.process_time() - start


def round_trip(article):
    """The reply a worker frames for the flow process and the flow's unpickling of it."""
    return pickle.loads(pickle.dumps(("ok", (article, None)), protocol=pickle.HIGHEST_PROTOCOL))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    ap.add_argument("--repeat", type=int, default=3, help="rounds; each page keeps its fastest time per stage")
    a = ap.parse_args()

    raws = [gzip.decompress(path.read_bytes()) for path in sorted((a.bench / "html").glob(f"*{SUFFIX}"))]
    docs = [RawDocument(source_uri=f"page{i}{SUFFIX}", raw=raw) for i, raw in enumerate(raws)]
    refs = load_references(None)  # the seed lexicon and alias table, as the flow's workers get them
    for doc in docs[:3]:  # warm-up: imports, lazily built regexes and date parsers are not per-page costs
        trafilatura.extract(doc.raw)
        round_trip(clean_document(doc, StepInputs(refs)))

    best = {stage: [float("inf")] * len(docs) for stage in STAGES}
    wall = time.perf_counter()
    for _ in range(a.repeat):
        for i, doc in enumerate(docs):
            times = {}
            _, times["bare"] = cpu(trafilatura.extract, doc.raw)
            decoded, times["decode"] = cpu(decode_document, doc)
            _, times["html"] = cpu(lambda text: extract_html(text, no_controls=True), decoded.text)
            cleaned, times["clean"] = cpu(lambda art: clean_article(art, refs=refs), decoded)
            structured, times["language"] = cpu(lambda art: structure_article(art, refs=refs), cleaned)
            normalized, times["normalize"] = cpu(lambda art: normalize_article(art, refs=refs), structured)
            _, times["pickle"] = cpu(round_trip, replace(normalized, raw=b"", text=""))
            for stage, seconds in times.items():
                best[stage][i] = min(best[stage][i], seconds)
    total = {stage: sum(values) for stage, values in best.items()}
    pipeline = sum(total[stage] for stage in PIPELINE)
    pages = len(docs)

    print(f"pages={pages} rounds={a.repeat} wall={time.perf_counter() - wall:.0f}s  (CPU seconds, per-page minimum, summed)")
    print(f"bare trafilatura.extract : {total['bare']:6.2f} s  {pages / total['bare']:6.1f} pages/s")
    for stage in STAGES[1:]:
        print(f"  pipeline {stage:15s}: {total[stage]:6.2f} s")
    print(f"  chrome second pass and bookkeeping (clean - html): {total['clean'] - total['html']:6.2f} s")
    print(f"pipeline total           : {pipeline:6.2f} s  {pages / pipeline:6.1f} pages/s")
    print(f"pipeline CPU per page / bare: {pipeline / total['bare']:.2f}  (goal <= 0.85)")
    print(f"throughput ratio pipeline/bare: {total['bare'] / pipeline:.2f}x  (goal >= 1.18)")
    print(f"  without decode                : {total['bare'] / (pipeline - total['decode']):.2f}x")
    print(f"  extract_html alone            : {total['bare'] / total['html']:.2f}x")


if __name__ == "__main__":
    main()
