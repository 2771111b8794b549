#!/usr/bin/env python3
"""Time story clustering (exact, near-duplicate and story assignment) on synthetic documents.

Documents are synthesized from the ../shared/bench/text pages: each synthetic event takes one page's
prose paragraphs and renames its capitalized words (names, places) with pseudo-words of its own, so
events built on one page share only ordinary vocabulary; each event is told by 1-5 outlets, each
taking a different subset of the paragraphs in its own order, over 120 days. A share of documents are
exact re-scrapes or near copies (a paragraph dropped, a line of chrome added). Nothing of the bench
text is stored; generation time is reported apart from clustering time.

The clustering runs ``StoryIndex.assign`` over batches as the flow calls it (2,000 rows by default),
then saves the index to a temporary store and loads it back (timed separately).

Memory: the process's RSS after clustering (and its peak), the index's own bytes per stored article
(``StoryIndex.nbytes``: the rows of its arrays, band tables included), the peak RSS a save adds (the
flow saves every minute, so this adds to its peak), and, after the clustered
index is dropped, the bytes a load of the saved index keeps (tracemalloc: Python objects and numpy
arrays) and the RSS it adds.

Usage: .venv/bin/python scripts/bench_stories.py [--docs 100000] [--batch 2000] [--bench DIR] [--no-save]
"""
from __future__ import annotations

import argparse
import gc
import random
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.stories import load_index, save_index, zipf_table  # noqa: E402
from flows.store import Store  # noqa: E402
from transforms.stories import StoryDoc, StoryIndex  # noqa: E402

DEFAULT_BENCH = ROOT.parent / "shared" / "bench"
_NAME = re.compile(r"\b[A-Z][a-z]{2,}\b")
_SYLLABLES = ["ka", "lo", "mi", "ru", "te", "za", "vo", "ne", "shi", "bar", "tol", "dem", "qui", "xan", "yor", "pel"]
FIRST_DAY = date(2026, 1, 1)
DAYS = 120
EXACT_SHARE = 0.03
NEAR_SHARE = 0.03


def prose_paragraphs(bench: Path) -> list[list[str]]:
    """Per bench page, its lines of at least 12 words (prose, mostly)."""
    pages = []
    for path in sorted((bench / "text").glob("*.txt")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").split("\n")]
        prose = [line for line in lines if len(line.split()) >= 12]
        if len(prose) >= 3:
            pages.append(prose)
    return pages


def pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def synthesize(pages: list[list[str]], count: int, seed: int = 7) -> list[StoryDoc]:
    """``count`` documents: events told by 1-5 outlets, plus exact and near copies."""
    rng = random.Random(seed)
    docs: list[StoryDoc] = []
    event = 0
    while len(docs) < count:
        page = pages[rng.randrange(len(pages))]
        names: dict[str, str] = {}

        def rename(match: re.Match[str]) -> str:
            word = match.group(0)
            if word not in names:
                names[word] = pseudo_word(rng)
            return names[word]

        renamed = [_NAME.sub(rename, paragraph) for paragraph in page]
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        for outlet in range(rng.randint(1, 5)):
            if len(docs) >= count:
                break
            take = rng.sample(renamed, max(2, int(len(renamed) * rng.uniform(0.4, 0.9))))
            body = "\n\n".join(take)
            doc_day = day + timedelta(days=rng.randint(0, 2))
            docs.append(StoryDoc(doc_id=f"e{event:06d}-{outlet}", body=body, day=doc_day, site=f"site{rng.randrange(400)}",
                                 title=take[0][:80], language="en"))
            roll = rng.random()
            if roll < EXACT_SHARE and len(docs) < count:
                docs.append(StoryDoc(doc_id=f"e{event:06d}-{outlet}x", body=body, day=doc_day, site=f"site{rng.randrange(400)}"))
            elif roll < EXACT_SHARE + NEAR_SHARE and len(docs) < count and len(take) > 2:
                near = "\n\n".join(take[:-1] + ["Subscribe to our newsletter for more stories like this one."])
                docs.append(StoryDoc(doc_id=f"e{event:06d}-{outlet}n", body=near, day=doc_day, site=f"site{rng.randrange(400)}"))
        event += 1
    return docs


def memory() -> dict[str, int]:
    """This process's resident set size and its peak, in bytes (Linux)."""
    found = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) * 1024
    return found


def reset_peak() -> int:
    """Reset this process's peak RSS to its current RSS (Linux ``clear_refs``); return it, or 0 if not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        return 0
    return memory()["VmRSS"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    ap.add_argument("--no-save", action="store_true", help="skip the save/load timing")
    ap.add_argument("--order", choices=("day", "random"), default="day",
                    help="day: documents arrive in publication order, as daily runs deliver them (batches span a "
                         "few days); random: every batch spans all 120 days (the worst case for the story window)")
    ap.add_argument("--measure-load", metavar="DIR", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure_load:
        measure_load(args.measure_load)
        return

    started = time.monotonic()
    docs = synthesize(prose_paragraphs(args.bench), args.docs)
    if args.order == "day":
        docs.sort(key=lambda doc: doc.day)  # stable: copies stay after their originals
    zipf_table("en")  # outside the timed part: the first run on a machine builds the cached table
    words = sum(len(doc.body.split()) for doc in docs)
    print(f"synthesized {len(docs):,} docs ({words / len(docs):.0f} words on average) in {time.monotonic() - started:.1f}s")

    index = StoryIndex()
    counts = {"exact": 0, "near": 0}
    started, cpu = time.monotonic(), time.process_time()
    for start in range(0, len(docs), args.batch):
        for found in index.assign(docs[start: start + args.batch], zipf=zipf_table):
            counts["exact"] += found.exact_duplicate_of is not None
            counts["near"] += found.near_duplicate_of is not None
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
    stories = index.story_count if hasattr(index, "story_count") else len(set(index.story_ids))
    print(f"clustered {len(docs):,} docs in {elapsed:.1f}s wall, {cpu:.1f}s CPU ({len(docs) / elapsed:,.0f} docs/s): "
          f"{stories:,} stories, {counts['near']:,} near duplicates, {counts['exact']:,} exact duplicates")
    stored = len(index)
    rss = memory()
    own = f", index {index.nbytes / stored:,.0f} B/article" if hasattr(index, "nbytes") else ""
    print(f"memory after clustering: RSS {rss['VmRSS'] / 1e6:,.0f} MB (peak {rss['VmHWM'] / 1e6:,.0f} MB){own}")
    if not args.no_save:
        with tempfile.TemporaryDirectory() as folder:
            store = Store.open(folder)
            base = reset_peak()
            started = time.monotonic()
            save_index(store, index)
            saved = time.monotonic() - started
            extra = f" (peak RSS +{(memory()['VmHWM'] - base) / 1e6:,.0f} MB)" if base else ""
            print(f"index saved in {saved:.1f}s{extra}")
            # A fresh process: this one's free memory would hide what a load adds.
            subprocess.run([sys.executable, __file__, "--measure-load", folder], check=True)


def measure_load(folder: str) -> None:
    """Load the index saved under ``folder``: time, then bytes kept (traced) and RSS added."""
    from transforms.stories import StoryIndex as _  # noqa: F401  imports and their caches before the baseline

    store = Store.open(folder)
    gc.collect()
    before = memory()
    started = time.monotonic()
    loaded = load_index(store)
    took = time.monotonic() - started
    gc.collect()
    after = memory()
    del loaded
    gc.collect()
    tracemalloc.start()
    loaded = load_index(store)
    gc.collect()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    count = len(loaded)
    added, high = after["VmRSS"] - before["VmRSS"], after["VmHWM"] - before["VmRSS"]
    print(f"index loaded in {took:.1f}s: RSS +{added / 1e6:,.0f} MB = {added / count:,.0f} B/article (peak "
          f"+{high / 1e6:,.0f} MB); {count:,} articles keep {kept / 1e6:,.0f} MB = {kept / count:,.0f} B/article "
          f"(tracemalloc, second load; its peak {peak / 1e6:,.0f} MB)")


if __name__ == "__main__":
    main()
