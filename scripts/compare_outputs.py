#!/usr/bin/env python3
"""Are the cleaned outputs of two code versions identical? Every field of every article, compared in full.

Cleans the bench pages (../shared/bench, text and HTML) and the sample articles (seeds/articles) with this
checkout and with another git revision (checked out into a temporary worktree and run with this .venv), then
lists every document whose record differs. For a refactoring that must not change behaviour:

    .venv/bin/python scripts/compare_outputs.py --against HEAD~3
    .venv/bin/python scripts/compare_outputs.py --dump out.json     # this checkout's records only

Plain-text documents of one folder are cleaned as one site (site chrome learned over the folder, as the flow does).
"""
from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT.parent / "shared" / "bench"


def dump(root: Path, bench: Path) -> dict[str, dict]:
    """Every input's cleaned record, keyed by input, from the code under ``root``."""
    sys.path.insert(0, str(root))
    from flows.seeds import load_references
    from transforms import pipeline
    from transforms.chrome import count_line_keys, site_chrome_keys
    from transforms.records import RawDocument

    refs = load_references(root / "seeds")
    inputs = {"bench text": [(p, p.read_bytes(), "text") for p in sorted((bench / "text").glob("*.txt"))],
              "samples": [(p, p.read_bytes(), "text") for p in sorted((root / "seeds" / "articles").glob("*.txt"))],
              "bench html": [(p, gzip.decompress(p.read_bytes()), "html")
                             for p in sorted((bench / "html").glob("*.html.gz"))]}
    records = {}
    for group, files in inputs.items():
        docs = [RawDocument(source_uri=path.name, raw=raw, format_hint=hint, folder_site=group) for path, raw, hint in files]
        decoded = [pipeline.decode_document(doc) for doc in docs]
        texts = [a.text for a in decoded if a.input_format == "text" and not a.quarantined]
        chrome = site_chrome_keys(count_line_keys(texts)) if texts else frozenset()
        for article in decoded:
            cleaned = _clean(pipeline, article, refs, chrome)
            fields = dataclasses.asdict(dataclasses.replace(cleaned, raw=b"", text=""))
            records[f"{group}/{article.source_uri}"] = json.loads(json.dumps(fields, default=str))
    return records


def _clean(pipeline, article, refs, chrome):
    if hasattr(pipeline, "run_steps"):
        return pipeline.run_steps(article, pipeline.StepInputs(refs, site_chrome=chrome))
    # revisions before the steps were data (77211fb) chained the stages by hand
    cleaned = pipeline.clean_article(article, refs=refs, site_chrome=chrome)
    return pipeline.normalize_article(pipeline.structure_article(cleaned), refs=refs)


def differences(before: dict[str, dict], after: dict[str, dict]) -> list[str]:
    """One line per input whose record differs, naming the fields.

    >>> differences({"a": {"body": "x", "title": "t"}}, {"a": {"body": "y", "title": "t"}, "b": {}})
    ['a: body', 'b: only after']
    """
    lines = []
    for key in sorted(before.keys() | after.keys()):
        if key not in before or key not in after:
            lines.append(f"{key}: only {'after' if key in after else 'before'}")
        elif before[key] != after[key]:
            fields = sorted(f for f in before[key].keys() | after[key].keys() if before[key].get(f) != after[key].get(f))
            lines.append(f"{key}: {', '.join(fields)}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", help="git revision to compare this checkout with")
    parser.add_argument("--dump", type=Path, help="write this checkout's records to a JSON file and stop")
    parser.add_argument("--bench", type=Path, default=BENCH)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)  # the code to dump (worktree)
    args = parser.parse_args()
    if args.dump:
        args.dump.write_text(json.dumps(dump(args.root, args.bench)))
        return 0
    if not args.against:
        parser.error("give --against REV or --dump FILE")
    with tempfile.TemporaryDirectory(prefix="newsclean-compare-") as tmp:
        worktree, before_file, after_file = Path(tmp) / "tree", Path(tmp) / "before.json", Path(tmp) / "after.json"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(worktree), args.against], check=True)
        try:
            for root, target in ((worktree, before_file), (ROOT, after_file)):
                subprocess.run([sys.executable, __file__, "--root", str(root), "--bench", str(args.bench),
                                "--dump", str(target)], check=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)], check=True)
        before, after = json.loads(before_file.read_text()), json.loads(after_file.read_text())
    lines = differences(before, after)
    print(f"{len(after)} documents compared with {args.against}: {len(lines)} differ")
    for line in lines:
        print(" ", line)
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
