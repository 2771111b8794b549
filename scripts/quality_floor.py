#!/usr/bin/env python3
"""The quality floor: today's figures on the held-out bench, pinned so that no change lowers them unseen.

Measures, through the same functions the flow calls:
- ``text_f1``: body F1 of the plain-text path on ../shared/bench/text (site chrome learned over the folder);
- ``html_f1``: body F1 of the HTML path on ../shared/bench/html;
- ``text_titles``: bench pages whose text title equals the HTML path's title;
- ``story_precision`` / ``story_recall``: story assignment on the hand-labelled pairs (tests/goldens/bench_pairs.csv).

Nothing is trained or tuned on these pages: they are only measured. ``tests/quality/test_quality_floor.py``
fails when a figure falls below the pinned one in tests/goldens/quality_floor.json. Raising the floor (or
lowering it, with a reason in the commit message) is an explicit step:

    .venv/bin/python scripts/quality_floor.py            # measure and compare with the floor
    .venv/bin/python scripts/quality_floor.py --update   # write today's figures as the new floor
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import eval_stories, score_html, score_text, score_titles  # noqa: E402
from flows.seeds import load_references  # noqa: E402
from transforms.records import RawDocument  # noqa: E402

BENCH = ROOT.parent / "shared" / "bench"
FLOOR = ROOT / "tests" / "goldens" / "quality_floor.json"
# Figures are deterministic; the tolerance only absorbs float rounding in the last printed digit.
TOLERANCE = 0.0005


def bench_scorer(bench: Path = BENCH):
    """The benchmark's own ``score(gold, pred)`` and its ground truth."""
    spec = importlib.util.spec_from_file_location("bench_score", bench / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    gold = json.loads((bench / "ground-truth.json").read_text(encoding="utf-8"))
    return module.score, gold


def measure(bench: Path = BENCH) -> dict[str, float]:
    """Every pinned figure, measured now."""
    score, gold = bench_scorer(bench)
    text_f1 = score(gold, score_text.predict(bench / "text"))[2]
    html_articles = score_html.run_pipeline(score_html.read_pages(bench / "html"))
    html_f1 = score(gold, {stem: article.body for stem, article in html_articles.items()})[2]
    refs = load_references(None)
    titles = 0
    for text_path in sorted((bench / "text").glob("*.txt")):
        html_title = html_articles.get(text_path.stem)
        if html_title is None:
            continue
        text_title = score_titles.title_of(RawDocument(source_uri=str(text_path), raw=text_path.read_bytes(),
                                                       folder_site="bench"), refs)
        titles += score_titles.comparable(text_title) == score_titles.comparable(html_title.title)
    stories = eval_stories.score(eval_stories.cluster(eval_stories.bench_docs(bench)), eval_stories.load_pairs())
    return {"text_f1": round(text_f1, 4), "html_f1": round(html_f1, 4), "text_titles": titles,
            "story_precision": stories["precision"], "story_recall": stories["recall"]}


def below_floor(figures: dict[str, float], floor: dict[str, float]) -> list[str]:
    """The figures that fell below the floor, as readable lines.

    >>> below_floor({"text_f1": 0.93, "text_titles": 146}, {"text_f1": 0.932, "text_titles": 146})
    ['text_f1 0.93 < floor 0.932']
    """
    return [f"{name} {figures[name]} < floor {pinned}" for name, pinned in floor.items()
            if figures[name] < pinned - TOLERANCE]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update", action="store_true", help="write today's figures to " + str(FLOOR.relative_to(ROOT)))
    args = parser.parse_args()
    figures = measure()
    floor = json.loads(FLOOR.read_text()) if FLOOR.exists() else {}
    for name, value in figures.items():
        print(f"{name:16} {value:<8} floor {floor.get(name, '-')}")
    if args.update:
        FLOOR.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"floor written to {FLOOR}")
        return 0
    failures = below_floor(figures, floor)
    for line in failures:
        print("BELOW FLOOR:", line, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
