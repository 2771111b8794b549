"""Time the articles suite on synthetic rows: `python scripts/bench_validation.py [--rows 100000] [--batch-size 5000]`.

The rows are generated (random words, a few planted failures), never benchmark text. The suite
gets the chrome residue patterns and alias variants from the project's seeds, as in a real run.
Budget: 100,000 rows in under 10 s (frame building plus the GX validation, GX import and suite
set-up excluded: they happen once per run and are printed apart). As in the flow, the suite runs
through the Checkpoint of a file-backed GX project (a temporary folder), which stores every
validation result, and Data Docs are built once at the end. The rows are validated twice:
as one frame, and in batches of --batch-size as the flow does; GX has a fixed cost per validation
run, so the batched figure is the one a flow run sees. Both must be inside the budget.
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import re
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from expectations.articles import ArticleValidator, SuiteInputs, validation_frame  # noqa: E402

BUDGET_SECONDS = 10.0
WORDS = ("the council said on Tuesday that new budget schools would open after talks with ministers in Ankara and "
         "residents who asked for more money roads hospitals while officials warned about costs “quoted” café").split()
SITES = ("example.com", "news.example.org", "daily.example.net", "local-paper", "wire.example.io")


def suite_inputs() -> SuiteInputs:
    """Residue patterns and alias variants from seeds/ (the flow's own loader when it is available)."""
    try:
        from flows.validation import suite_inputs as from_refs
        from flows.seeds import load_references

        inputs = from_refs(load_references(None))
        if inputs.chrome_residue and inputs.alias_variants:
            return inputs
        print("(the lexicon gives no residue patterns yet: residue patterns from the CSV)", file=sys.stderr)
        return SuiteInputs(chrome_residue=_residue_from_seed(ROOT / "seeds" / "chrome_phrases.csv"),
                           alias_variants=inputs.alias_variants or _variants_from_seed(ROOT / "seeds" / "aliases.csv"))
    except Exception as error:  # the seeds loader or an API it needs is not there yet: read the CSVs directly
        print(f"(seeds via the CSV files: {type(error).__name__}: {error})", file=sys.stderr)
        return SuiteInputs(chrome_residue=_residue_from_seed(ROOT / "seeds" / "chrome_phrases.csv"),
                           alias_variants=_variants_from_seed(ROOT / "seeds" / "aliases.csv"))


def _residue_from_seed(path: Path) -> list[str]:
    patterns = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            match, pattern = row.get("match") or "line", row["pattern"]
            flags = "m" if match.endswith("_cased") else "im"
            if match == "line":
                patterns.append(rf"(?{flags})^[ \t]*{re.escape(pattern)}[ \t]*$")
            elif match.startswith("regex"):
                patterns.append(rf"(?{flags})^[ \t]*(?:{pattern})[ \t]*$")
            else:
                patterns.append(rf"(?{flags}){pattern}")
    return patterns


def _variants_from_seed(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row["alias"] for row in csv.DictReader(handle) if row["alias"] != row["canonical"]]


def synthetic_rows(count: int, *, seed: int = 6) -> list[dict]:
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    rows = []
    for number in range(count):
        # News-like shape: 3-10 paragraphs of 25-80 words (150-500 characters) and a subheading or two.
        paragraphs = [" ".join(rng.choices(WORDS, k=rng.randint(25, 80))).capitalize() + "." for _ in
                      range(rng.randint(3, 10))]
        paragraphs.insert(rng.randint(1, len(paragraphs)), " ".join(rng.choices(WORDS, k=4)).title())
        body = "\n\n".join(paragraphs)
        if number % 97 == 0:
            body += "\n\nAdvertisement"  # planted chrome residue
        normalized = body.replace("Ankara", "Türkiye's capital") if number % 89 == 0 else body  # planted variant
        site = rng.choice(SITES)
        rows.append({
            "doc_id": f"{number:032x}", "source_uri": f"/in/{site}/{number}.txt", "input_format": "text",
            "site": site, "site_name": None, "url": f"https://{site}/a/{number}" if "." in site else None,
            "title": " ".join(rng.choices(WORDS, k=8)).title(), "authors": ["Jane Doe"] if number % 3 else [],
            "published": date(2024, 1 + number % 12, 1 + number % 28), "published_at": None,
            "language": "en" if number % 1000 else "zxx", "body": body, "body_normalized": normalized,
            "captions": [], "chrome": [{"line": "Share", "rule": "share"}],
            "entities": [{"name": "Turkey", "kind": "country", "mentions": 2}], "categories": [], "tags": [],
            "word_count": len(body.split()), "removed_share": rng.random() * 0.6, "repairs": [],
            "warnings": [], "ingested_at": now, "pipeline_version": "bench", "run_id": "bench",
        })
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=5_000, help="rows per validation run, as in the flow (0: skip)")
    args = parser.parse_args(argv)

    rows = synthetic_rows(args.rows)
    project = tempfile.mkdtemp(prefix="newsclean-bench-gx-")
    started = time.perf_counter()
    validator = ArticleValidator(suite_inputs(), docs_dir=os.path.join(project, "reports", "data_docs"),
                                 project_root=project)
    setup = time.perf_counter() - started

    started = time.perf_counter()
    frame = validation_frame(rows)
    framed = time.perf_counter() - started
    outcome = validator.validate(frame, run_name="bench-one-frame")
    total = time.perf_counter() - started

    chars = sum(len(r["body"]) for r in rows) / 1e6
    print(f"rows {len(rows):,}  body text {chars:.0f} M chars  expectations {len(validator.rules)}  "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"suite set-up {setup:.2f} s (GX import and context, once per run; not in the figures below)")
    print(f"one frame: {total:.2f} s  (frame {framed:.2f} s, GX validation {total - framed:.2f} s)  "
          f"{len(rows) / total:,.0f} rows/s  budget {BUDGET_SECONDS:.0f} s: {_verdict(total)}")
    print(f"critical rows {len(outcome.critical):,}  warning rows {len(outcome.warnings):,}  "
          f"failures by rule {dict(sorted(outcome.rule_failures.items()))}")
    worst = total
    if args.batch_size:
        cpu = time.process_time()
        batched, outcome = _batched(validator, rows, args.batch_size)
        cpu = time.process_time() - cpu
        worst = max(worst, batched)
        count = -(-len(rows) // args.batch_size)
        # CPU time as well: on a shared machine the wall time mostly measures the other processes.
        print(f"{count} batches of {args.batch_size:,}: {batched:.2f} s  ({batched / count * 1000:.0f} ms per batch, "
              f"CPU {cpu / count * 1000:.0f} ms)  budget {BUDGET_SECONDS:.0f} s: {_verdict(batched)}")
        print(f"critical rows {len(outcome.critical):,}  warning rows {len(outcome.warnings):,}")
    started = time.perf_counter()
    validator.build_docs()
    print(f"Data Docs of these {len(validator.validated)} validation results: {time.perf_counter() - started:.2f} s "
          f"(once per run)")
    shutil.rmtree(project, ignore_errors=True)
    return 0 if worst < BUDGET_SECONDS else 1


def _batched(validator: ArticleValidator, rows: list[dict], size: int):
    """Seconds to build and validate ``rows`` in frames of ``size``, and the outcome with global row numbers."""
    from expectations.articles import SuiteResult

    merged = SuiteResult()
    started = time.perf_counter()
    for offset in range(0, len(rows), size):
        outcome = validator.validate(validation_frame(rows[offset:offset + size]), run_name="bench-batched")
        merged.critical.update({offset + row: names for row, names in outcome.critical.items()})
        merged.warnings.update({offset + row: names for row, names in outcome.warnings.items()})
    return time.perf_counter() - started, merged


def _verdict(seconds: float) -> str:
    return "ok" if seconds < BUDGET_SECONDS else "OVER"


if __name__ == "__main__":
    sys.exit(main())
