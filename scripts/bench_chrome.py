#!/usr/bin/env python3
"""Speed of the chrome stripper alone: documents per second on one core over ../shared/bench/text.

Usage: .venv/bin/python scripts/bench_chrome.py [--bench DIR] [--rounds N] [--stripper rules|model]

Texts are read and decoded once up front; only the stripper is timed (best of N rounds, one process), two ways:
``strip_chrome`` on each text alone, and ``strip_chrome_many`` over the whole set as one batch (lines repeated
across the batch are worked out once; each round starts with an empty cache, so no round sees an earlier one's).
With ``--stripper model`` the line model instead (``strip_with_model``; "one batch" shares the lexicon's verdict on line texts;
the page's language is detected as the pipeline does, and that is timed too).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.score_text import DEFAULT_BENCH, load_lexicon  # noqa: E402
from transforms.chrome import count_line_keys, site_chrome_keys, strip_chrome, strip_chrome_many  # noqa: E402
from transforms.chrome.features import LineCache  # noqa: E402
from transforms.chrome.model import strip_with_model  # noqa: E402
from flows.models import FastTextLanguageIdentifier  # noqa: E402
from transforms.structure import detect_language  # noqa: E402

LANGUAGE = FastTextLanguageIdentifier()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--stripper", choices=("rules", "model"), default="rules")
    args = ap.parse_args()
    lexicon = load_lexicon()
    texts = [path.read_text(encoding="utf-8", errors="replace") for path in sorted((args.bench / "text").glob("*.txt"))]
    site_chrome = site_chrome_keys(count_line_keys(texts))
    single = batch = float("inf")
    if args.stripper == "model":
        from flows.seeds import load_line_model
        model = load_line_model()

        def one_by_one():
            for text in texts:
                strip_with_model(text, model=model, lexicon=lexicon, site_chrome=site_chrome,
                                 language=detect_language(text, LANGUAGE))

        def as_batch():
            cache = LineCache()
            for text in texts:
                strip_with_model(text, model=model, lexicon=lexicon, site_chrome=site_chrome,
                                 language=detect_language(text, LANGUAGE), cache=cache)
    else:
        def one_by_one():
            for text in texts:
                strip_chrome(text, lexicon=lexicon, site_chrome=site_chrome)

        def as_batch():
            strip_chrome_many(texts, lexicon=lexicon, site_chrome=site_chrome)
    for _ in range(args.rounds):
        began = time.process_time()
        one_by_one()
        single = min(single, time.process_time() - began)
        began = time.process_time()
        as_batch()
        batch = min(batch, time.process_time() - began)
    size = sum(len(text) for text in texts) / 1e6
    # CPU time still rises when other processes share the cores (caches, turbo): say how busy the machine was.
    print(f"{args.stripper} stripper; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for name, best in (("one by one", single), ("one batch", batch)):
        print(f"{len(texts)} documents, {size:.1f} M characters, {name}: best of {args.rounds} rounds {best:.3f} s CPU "
              f"= {len(texts) / best:.0f} docs/s per core ({size / best:.1f} M chars/s)")

if __name__ == "__main__":
    main()
