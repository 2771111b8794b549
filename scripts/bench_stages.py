#!/usr/bin/env python3
"""CPU per document of each stage of a plain-text run, one stage at a time in this process, and what
the sum allows on this machine: `.venv/bin/python scripts/bench_stages.py [--docs 10000] [--batch 2000]`.

The documents are the text corpus of ``bench_pipeline.py`` (copies of ../shared/bench/text, each with a
sentence naming its number), a commit of ``--batch`` files at a time. Every stage runs over the whole
commit before the next starts, as the flow calls it:
- worker stages, one document at a time with a worker's caches: unpickling the document, decode,
  counting line keys (as for an established site), strip with the site chrome learned so far, language,
  names, and pickling the article;
- flow-process stages: reading and hashing the files, pickling them for the workers, adding the counts
  to the site's, unpickling the articles, articles-table rows, the Great Expectations validation run,
  story clustering, and the Parquet file.
Each figure is process CPU time (``time.process_time``) per document: a busy machine moves it less than
a wall clock would.

The sum is what a document costs with no Prefect, no waiting and no threads, so no number of workers
beats ``cores x 1000 / sum`` documents per second. The flow-process stages run in one process, in
order: with one worker they overlap it on the other core; on 2 cores, with two workers they share the
cores, so two workers give at most ``max(worker, flow) / max((worker + flow) / 2, flow)`` times one.
Prints figures, asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import pickle
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_pipeline import build_text  # noqa: E402
from expectations.articles import ArticleValidator, validation_frame  # noqa: E402
from flows.validation import suite_inputs  # noqa: E402
from flows.seeds import load_references  # noqa: E402
from flows.sources import discover, read_input  # noqa: E402
from flows.stories import _assign, load_index  # noqa: E402
from flows.store import ARTICLES, Store, article_row  # noqa: E402
from transforms.chrome import LINE_CACHE_MAX, count_line_keys, site_chrome_keys  # noqa: E402
from transforms.pipeline import clean_article, decode_document, normalize_article, structure_article  # noqa: E402


class Stages:
    """CPU seconds per stage, in the order first timed."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.where: dict[str, str] = {}

    def run(self, name: str, where: str, function, items: list) -> list:
        started = time.process_time()
        out = [function(item) for item in items]
        self.seconds[name] = self.seconds.get(name, 0.0) + time.process_time() - started
        self.where[name] = where
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=10_000, help="text documents (default: 10000)")
    parser.add_argument("--batch", type=int, default=2_000, help="rows per commit, as the flow's --batch-size")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "newsclean-bench",
                        help="folder of the corpus (built there once, shared with bench_pipeline.py)")
    args = parser.parse_args()

    folder = args.work / f"stages-text-{args.docs}"
    build_text(folder, args.docs)
    refs = load_references()
    out = Store.open(tempfile.mkdtemp(prefix="newsclean-stages-"))
    # A GX project in the output, as the flow has: each commit's Checkpoint run stores its result there.
    validator = ArticleValidator(suite_inputs(refs), docs_dir=out.path("reports", "data_docs"), project_root=out.root)
    index = load_index(out)
    stages = Stages()
    ingested_at, run_id = datetime.now(timezone.utc), "bench-stages"
    files = discover([folder])
    line_cache: dict = {}
    key_cache: dict[str, str] = {}

    def read(item):
        return list(read_input(item))[0]

    def strip(pair):
        article, chrome = pair
        if len(line_cache) > LINE_CACHE_MAX:
            line_cache.clear()
        return clean_article(article, refs=refs, site_chrome=chrome, line_cache=line_cache)

    def count(article):
        if len(key_cache) > LINE_CACHE_MAX:
            key_cache.clear()
        return article.site or "", count_line_keys([article.text], cache=key_cache)

    site_counts: dict[str, Counter] = defaultdict(Counter)
    written = 0
    for start in range(0, len(files), args.batch):
        docs = stages.run("read and hash", "flow", read, files[start:start + args.batch])
        frames = stages.run("pickle documents for a worker", "flow", lambda d: pickle.dumps(d, 5), docs)
        sent = stages.run("unpickle documents", "worker", pickle.loads, frames)
        decoded = stages.run("decode", "worker", decode_document, sent)
        counted = stages.run("count line keys", "worker", count, decoded)
        stages.run("learn site chrome", "flow", lambda pair: site_counts[pair[0]].update(pair[1]), counted)
        chrome = {site: site_chrome_keys(counts) for site, counts in site_counts.items()}
        cleaned = stages.run("strip chrome", "worker", strip, [(a, chrome.get(a.site or "", frozenset())) for a in decoded])
        structured = stages.run("language", "worker", lambda a: structure_article(a, refs=refs), cleaned)
        normalized = stages.run("names", "worker", lambda a: normalize_article(a, refs=refs), structured)
        frames = stages.run("pickle articles for the flow", "worker",
                            lambda a: pickle.dumps(replace(a, raw=b"", text=""), 5), normalized)
        back = stages.run("unpickle articles", "flow", pickle.loads, frames)
        articles = [a for a in back if not a.quarantined]
        rows = stages.run("rows", "flow", lambda a: article_row(a, ingested_at=ingested_at, run_id=run_id), articles)
        stages.run("validate (Great Expectations)", "flow", lambda r: validator.validate(validation_frame(r), run_name=run_id), [rows])
        batch = stages.run("cluster stories", "flow", lambda r: _assign(index, r), [rows])[0]
        stages.run("write Parquet", "flow", lambda r: out.write(ARTICLES, r, partition="bench", file_stem=f"part-{start}"),
                   [[{**row, "warnings": []} for row in batch.rows]])
        written += len(batch.rows)

    total = len(files)
    print(f"{total:,} text documents, commits of {args.batch:,}, {written:,} articles written; CPU per document:")
    sums = Counter()
    for name, seconds in stages.seconds.items():
        per_doc = seconds / total * 1000
        sums[stages.where[name]] += per_doc
        print(f"  {stages.where[name]:6s}  {name:32s} {per_doc:6.3f} ms")
    worker, flow = sums["worker"], sums["flow"]
    cores = os.cpu_count() or 1
    print(f"  worker stages {worker:.3f} ms, flow process {flow:.3f} ms, in all {worker + flow:.3f} ms per document")
    ceiling = min(cores * 1000 / (worker + flow), 1000 / flow)
    print(f"at most {ceiling:,.0f} documents/s on {cores} cores ({ceiling / cores:,.0f} per core), "
          "however many workers")
    one = max(worker, flow) if cores >= 2 else worker + flow
    two = max(worker / 2, flow) if cores >= 3 else max((worker + flow) / 2, flow) if cores == 2 else worker + flow
    print(f"2 workers vs 1 at most {one / two:.2f}x (the flow process's stages run in one process"
          f"{', on the same cores as the workers' if cores <= 2 else ''})")


if __name__ == "__main__":
    main()
