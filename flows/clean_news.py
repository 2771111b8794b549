"""The ``clean-news`` Prefect flow: read -> clean -> structure -> normalize -> validate -> write -> report.

Each task is a short adapter over a batch of documents at a stage boundary; the text logic lives
in ``transforms`` and the suite in ``expectations``.
"""
from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from tqdm import tqdm

from expectations.articles import CRITICAL, ArticleValidator, SuiteInputs, validation_frame
from flows import report as reporting
from flows.seeds import load_references
from flows.sources import InputFile, discover, read_input
from flows.state import SiteLineCounts
from flows.store import ARTICLES, QUARANTINE, Store, article_row, quarantine_row
from transforms.chrome import count_line_keys, site_chrome_keys
from transforms.pipeline import References, clean_article, decode_document, normalize_article, structure_article
from transforms.records import Article, RawDocument

DEFAULT_BATCH_SIZE = 2000
# Bytes of input per batch at most, so a folder of large HTML pages still runs in bounded memory.
MAX_BATCH_BYTES = 128 * 1024 * 1024

_TASK = {"cache_policy": NO_CACHE, "persist_result": False}


def plan_batches(files: list[InputFile], *, batch_size: int, max_bytes: int = MAX_BATCH_BYTES) -> list[list[InputFile]]:
    """Consecutive groups of at most ``batch_size`` files and about ``max_bytes`` bytes."""
    batches: list[list[InputFile]] = []
    current: list[InputFile] = []
    size = 0
    for item in files:
        if current and (len(current) >= batch_size or size + item.size > max_bytes):
            batches.append(current)
            current, size = [], 0
        current.append(item)
        size += item.size
    if current:
        batches.append(current)
    return batches


@task(name="read", **_TASK)
def read_batch(files: list[InputFile]) -> list[RawDocument]:
    return [doc for item in files for doc in read_input(item)]


@task(name="clean", **_TASK)
def clean_batch(docs: list[RawDocument], refs: References, site_lines: SiteLineCounts) -> list[Article]:
    """Decode, learn each site's repeated lines from this batch plus earlier runs, strip chrome."""
    decoded = [decode_document(doc) for doc in docs]
    by_site: dict[str | None, list[str]] = {}
    for article in decoded:
        if not article.quarantined and article.input_format == "text":
            by_site.setdefault(article.site, []).append(article.text)
    site_chrome = {}
    for site, texts in by_site.items():
        site_lines.add(site, count_line_keys(texts))
        site_chrome[site] = site_chrome_keys(site_lines.counts(site))
    return [clean_article(a, refs=refs, site_chrome=site_chrome.get(a.site, frozenset())) for a in decoded]


@task(name="structure", **_TASK)
def structure_batch(articles: list[Article]) -> list[Article]:
    return [structure_article(a) for a in articles]


@task(name="normalize", **_TASK)
def normalize_batch(articles: list[Article], refs: References) -> list[Article]:
    return [normalize_article(a, refs=refs) for a in articles]


@task(name="validate", **_TASK)
def validate_batch(articles: list[Article], validator: ArticleValidator, ingested_at: datetime, run_id: str):
    """Rows failing a critical expectation go to quarantine with the names of what they failed."""
    candidates = [a for a in articles if not a.quarantined]
    rows = [article_row(a, ingested_at=ingested_at, run_id=run_id) for a in candidates]
    outcome = validator.validate(validation_frame(rows))
    good, bad = [], [a for a in articles if a.quarantined]
    for index, (article, row) in enumerate(zip(candidates, rows)):
        if index in outcome.critical:
            bad.append(replace(article, quarantine_stage="validate", quarantine_reasons=tuple(outcome.critical[index])))
        else:
            row["warnings"] = outcome.warnings.get(index, [])
            good.append(row)
    return good, [quarantine_row(a, ingested_at=ingested_at, run_id=run_id) for a in bad], outcome.rule_failures


@task(name="write", **_TASK)
def write_batch(store: Store, good: list[dict], bad: list[dict], partition: str, file_stem: str) -> None:
    store.write(ARTICLES, good, partition=partition, file_stem=file_stem)
    store.write(QUARANTINE, bad, partition=partition, file_stem=file_stem)


@task(name="report", **_TASK)
def report_run(store: Store, summary: dict, validator: ArticleValidator) -> dict:
    return reporting.write_run_report(store, summary, validator)


@flow(name="clean-news", log_prints=False)
def clean_news(sources: list[str], out: str = "data", seeds: str | None = None,
               batch_size: int = DEFAULT_BATCH_SIZE) -> dict:
    """Clean every document under ``sources`` into validated Parquet under ``out``."""
    started = time.monotonic()
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    ingested_at = datetime.now(timezone.utc)
    partition = ingested_at.date().isoformat()
    refs = load_references(seeds)
    store = Store.open(out)
    validator = ArticleValidator(suite_inputs(refs), docs_dir=store.path("reports", "data_docs"))
    site_lines = SiteLineCounts.load(store)
    already_stored = store.stored_doc_ids()
    files = discover(sources)

    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    rule_failures: Counter[str] = Counter()
    per_site: Counter[str] = Counter()
    rewrites: Counter[tuple[str, str]] = Counter()
    entities: Counter[tuple[str, str]] = Counter()
    chrome_rules: Counter[str] = Counter()
    progress = tqdm(total=len(files), unit="file", desc="clean-news", disable=None, leave=False)
    for number, batch in enumerate(plan_batches(files, batch_size=batch_size)):
        docs = read_batch(batch)
        counts["read"] += len(docs)
        fresh = []
        for doc in docs:
            if doc.doc_id in already_stored:
                counts["already_stored"] += 1
            else:
                already_stored.add(doc.doc_id)
                fresh.append(doc)
        articles = normalize_batch(structure_batch(clean_batch(fresh, refs, site_lines)), refs)
        good, bad, failures = validate_batch(articles, validator, ingested_at, run_id)
        write_batch(store, good, bad, partition, f"part-{run_id}-{number:05d}")
        site_lines.save(store)
        counts["written"] += len(good)
        counts["quarantined"] += len(bad)
        rule_failures.update(failures)
        for row in bad:
            reasons.update(row["reasons"])
        for row in good:
            per_site[row["site"] or "(unknown)"] += 1
            chrome_rules.update(line["rule"] for line in row["chrome"])
            entities.update({(e["name"], e["kind"]): e["mentions"] for e in row["entities"]})
        for article in articles:
            rewrites.update({(variant, canonical): n for variant, canonical, n in article.rewrites})
        progress.update(len(batch))
    progress.close()
    summary = {
        "run_id": run_id, "out": out, "sources": [str(s) for s in sources],
        "files": len(files), "read": counts["read"], "written": counts["written"],
        "quarantined": counts["quarantined"], "already_stored": counts["already_stored"],
        "quarantine_reasons": dict(reasons.most_common()), "rule_failures": dict(rule_failures.most_common()),
        "per_site": dict(per_site.most_common()), "chrome_rules": dict(chrome_rules.most_common()),
        "rewrites": [{"variant": v, "canonical": c, "count": n} for (v, c), n in rewrites.most_common()],
        "top_entities": [{"name": n, "kind": k, "mentions": m} for (n, k), m in entities.most_common(25)],
        "seconds": round(time.monotonic() - started, 2), "ingested_at": ingested_at.isoformat(),
    }
    return report_run(store, summary, validator)


def suite_inputs(refs: References) -> SuiteInputs:
    """What the suite needs from the seeds: chrome residue patterns and the alias variants."""
    return SuiteInputs(chrome_residue=refs.lexicon.residue_regexes(), alias_variants=refs.aliases.variants())
