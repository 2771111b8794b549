#!/usr/bin/env python3
"""How often the plain-text path finds the same title as the HTML path, on ../shared/bench.

Every bench page exists as HTML and as plain text. The HTML path reads the title from the page's markup
(it matches trafilatura's title on every page, see score_html.py); the text path has to guess it among the
lines above the article. This prints how many text titles equal the HTML title (case and punctuation
ignored) and how many are a prefix of it or the other way round; ``--show`` lists the pages that differ.
No ground truth is read: the reference is the pipeline's own HTML output.

Usage: .venv/bin/python scripts/score_titles.py [--bench DIR] [--show]
"""
from __future__ import annotations

import argparse
import gzip
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.seeds import load_references  # noqa: E402
from transforms.pipeline import StepInputs, clean_document  # noqa: E402
from transforms.records import RawDocument  # noqa: E402

DEFAULT_BENCH = ROOT.parent / "shared" / "bench"


def comparable(title: str | None) -> str:
    """``title`` casefolded with punctuation runs as single spaces.

    >>> comparable("Taylor Swift's AMA row — over?")
    'taylor swift s ama row over'
    """
    return re.sub(r"\W+", " ", (title or "").casefold()).strip()


def title_of(doc: RawDocument, refs) -> str | None:
    return clean_document(doc, StepInputs(refs)).title


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--show", action="store_true", help="list the pages whose titles differ")
    args = parser.parse_args()
    refs = load_references(None)
    same = prefix = total = 0
    differing = []
    for text_path in sorted((args.bench / "text").glob("*.txt")):
        html_path = args.bench / "html" / (text_path.stem + ".html.gz")
        if not html_path.exists():
            continue
        text_title = title_of(RawDocument(source_uri=str(text_path), raw=text_path.read_bytes(),
                                          folder_site="bench"), refs)
        html_title = title_of(RawDocument(source_uri=str(html_path), raw=gzip.decompress(html_path.read_bytes()),
                                          format_hint="html"), refs)
        a, b = comparable(text_title), comparable(html_title)
        total += 1
        same += a == b
        prefix += bool(a) and a != b and (a.startswith(b) or b.startswith(a))
        if a != b:
            differing.append((text_title, html_title))
    print(f"{total} pages: text title equals the HTML title on {same} ({same / max(total, 1):.3f}), "
          f"one is a prefix of the other on {prefix} more")
    if args.show:
        for text_title, html_title in differing:
            print(f"  text {text_title!r:.80}\n  html {html_title!r:.80}\n")


if __name__ == "__main__":
    main()
