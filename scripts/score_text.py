#!/usr/bin/env python3
"""Quick quality score of the plain-text cleaner on ../shared/bench/text.

Runs the pipeline functions (decode_document -> clean_article) over every ``*.txt`` in the bench folder,
writes ``{file stem: body}`` to a predictions JSON and prints the benchmark scorer's output.

Usage: .venv/bin/python scripts/score_text.py [--bench DIR] [--out PRED.json] [--worst N] [--no-learn]

By default the run learns site chrome the way the flow does: the whole folder is one ``site`` (its folder
name), so repeated chrome-like lines across the batch become ``site_chrome`` keys.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.seeds import load_references  # noqa: E402
from transforms.chrome import ChromeLexicon, count_line_keys, site_chrome_keys  # noqa: E402
from transforms.names import AliasTable  # noqa: E402
from transforms.pipeline import StepInputs, decode_document, run_steps  # noqa: E402
from transforms.records import RawDocument  # noqa: E402

DEFAULT_BENCH = ROOT.parent / "shared" / "bench"


def load_lexicon(seeds: Path = ROOT / "seeds") -> ChromeLexicon:
    """The shipped chrome lexicon, through the project's seed loader (validated, cached)."""
    return load_references(seeds).lexicon


def predict(bench_text: Path, *, learn: bool = True) -> dict[str, str]:
    """Body per file stem, through the same functions the flow calls."""
    refs = replace(load_references(ROOT / "seeds"), aliases=AliasTable.from_rows([]))
    docs = [RawDocument(source_uri=str(path), raw=path.read_bytes(), format_hint="text", folder_site=path.parent.name)
            for path in sorted(bench_text.glob("*.txt"))]
    articles = [decode_document(doc) for doc in docs]
    site_chrome = frozenset()
    if learn:
        site_chrome = site_chrome_keys(count_line_keys(a.text for a in articles if not a.quarantined))
    preds = {}
    for doc, article in zip(docs, articles):
        cleaned = run_steps(article, StepInputs(refs, site_chrome=site_chrome))
        preds[Path(doc.source_uri).stem] = cleaned.body
    return preds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    ap.add_argument("--out", type=Path, default=Path("/tmp/newsclean-bench-text-pred.json"))
    ap.add_argument("--worst", type=int, default=0)
    ap.add_argument("--no-learn", action="store_true", help="do not learn site chrome across the batch")
    args = ap.parse_args()
    preds = predict(args.bench / "text", learn=not args.no_learn)
    args.out.write_text(json.dumps(preds, ensure_ascii=False), encoding="utf-8")
    cmd = [sys.executable, str(args.bench / "score.py"), str(args.out)]
    if args.worst:
        cmd += ["--worst", str(args.worst)]
    print(f"{len(preds)} documents -> {args.out}", flush=True)
    subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
