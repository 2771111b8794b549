"""The ``clean-news`` Prefect flow: read -> clean (decode, strip, structure, normalize) -> validate -> write -> report.

Each task is a short adapter over a batch of documents at a stage boundary; the text logic lives in
``transforms``, the suite in ``expectations``. The per-document stages run in worker processes
(:mod:`flows.workers`) with a deadline per document, so a page that hangs is quarantined as ``timeout``.

A commit is atomic (:class:`flows.store.Commit`): its articles and quarantine files, its input-ledger
segment (:mod:`flows.ledger`), the story index's new rows and exact copies (:mod:`flows.stories`) and the
site line counts it added (:mod:`flows.state`) become visible together or not at all; the next run
finishes or drops what a killed one left (:func:`flows.store.recover`). While the workers clean batch k,
this process reads batch k+1's files and validates and writes the cleaned batches before k (several
batches make one commit).
"""
from __future__ import annotations

import ctypes
import gc
import hashlib
import itertools
import os
import pickle
import re
import sys
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from flows import report as reporting
from flows.engine import flow
from flows.ledger import Ledger, LedgerRow
from flows.lock import OutputLock
from flows.progress import Progress, run_logger
from flows.reading import BatchReader, ReadBatch
from flows.seeds import load_references, seed_warnings
from flows.settings import crash_point, default_workers, deferred_signals, is_stop_signal, silence_console
from flows.sources import MAX_DOCUMENT_BYTES, InputFile, discover
from flows.state import DOCUMENTS_KEY, BatchSites, SiteLineCounts
from flows.state import settle as settle_site_lines
from flows.store import ARTICLES, QUARANTINE, Store, article_row, publish_staged, quarantine_row, recover, staging_store
from flows.validation import LazyValidator, suite_inputs
from flows.workers import DEFAULT_DOC_TIMEOUT, Failure, close_pools, leased_pool, stop_all_pools
from transforms.chrome import site_chrome_keys
from transforms.decode import looks_like_html
from transforms.pipeline import References, decode_document, document_site
from transforms.records import Article, RawDocument

if TYPE_CHECKING:  # imported where used: pandas (the suite) and scipy (the story index) cost a second at start-up,
    # which a run with nothing new never needs
    from flows.stories import StoryBatch, StorySession

# Input files per commit: one validation run (GX costs about 0.75 s per run whatever its size), one Parquet
# file per table and one ledger segment. A commit's articles, rows and story features wait in memory: at
# 200,000 text documents the flow process peaks at about 1.33 GiB with 2000. Commits of 1000 files lowered an
# earlier peak by 74 MiB but ran 12% slower (each commit pays GX's fixed cost).
DEFAULT_BATCH_SIZE = 2000
# Documents are read and cleaned in batches of at most this many documents and MAX_BATCH_BYTES bytes of
# input: small enough that reading the next batch and committing the last keep pace with the workers and
# the raw bytes in memory stay bounded (a folder of large HTML pages too), large enough that the
# per-batch barrier (all line keys counted before cleaning starts) costs little.
CLEAN_BATCH_DOCS = 1000
SWITCH_INTERVAL = 0.001  # seconds; see _process
GC_EVERY_COMMITS = 4  # see _process; a full collection costs about 0.35 s with a commit's articles in flight
MAX_BATCH_BYTES = 128 * 1024 * 1024
# A site with this many plain-text documents counted (in earlier batches or runs) knows its repeated lines:
# its documents skip the counting pass and are counted while they are cleaned. At 20 documents a line on
# 15% of a site's pages has been seen the SITE_CHROME_MIN_DOCS times that make it chrome.
ESTABLISHED_SITE_DOCS = 20

_TASK = {"cache_policy": NO_CACHE, "persist_result": False}


@dataclass(frozen=True)
class CleanOptions:
    """How the clean task runs its documents: worker processes, per-document deadline, reference data key."""

    workers: int
    doc_timeout: float
    refs_key: str
    progress_key: str = ""  # the run's Progress in this process (none on a Dask worker: see clean_batch)


class Opaque:
    """A task argument Prefect passes through untouched: it does not walk the thousands of documents inside
    looking for futures (``quote`` does the same for tasks run here, but a Dask worker receives it unopened)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


@dataclass
class CleanedBatch:
    articles: list[Article]
    site_counts: dict[str, Counter] = field(default_factory=dict)  # line keys this batch added, per site
    seconds: dict[str, float] = field(default_factory=dict)  # wall time of decode and clean in the workers
    progress_shown: bool = False  # whether the run's progress counted its documents as they were cleaned


@task(name="read", **_TASK)
def read_batch(reader: BatchReader) -> ReadBatch:
    """The next batch of documents of files that are new or changed, and the ledger rows of the files it ends."""
    return reader.next_batch()


@task(name="clean", **_TASK)
def clean_batch(docs: "Opaque", sites: "Opaque", refs: "Opaque", options: CleanOptions) -> CleanedBatch:
    """Decode; learn each site's repeated lines from this batch plus earlier ones; strip, structure, normalize.

    The arguments are list[RawDocument], BatchSites and References, wrapped in :class:`Opaque`.
    """
    progress = Progress.registered(options.progress_key)
    with leased_pool(options.workers, refs.value, timeout=options.doc_timeout, key=options.refs_key) as pool:
        cleaned = _clean(pool, docs.value, sites.value, on_done=progress.advance if progress else None)
    cleaned.progress_shown = progress is not None
    return cleaned


def _clean(pool, docs: list[RawDocument], batch_sites: BatchSites, on_done=None) -> CleanedBatch:
    """Every document through the stages in the workers, after a first pass that counts line keys where needed.

    A site's repeated lines are chrome in every copy, the first one included, so the plain-text
    documents of a site with fewer than ESTABLISHED_SITE_DOCS counted documents are counted before any
    is cleaned (the first pass). Documents of established sites are cleaned with what earlier batches
    and runs learned, and counted as they are cleaned. HTML pages are not counted: their chrome is the
    extractor's job. The raw bytes go to a worker once per pass and only the finished article comes back.
    ``on_done(n)`` is told as documents are finished (for the progress bar).
    """
    sizes = [len(doc.raw) for doc in docs]
    articles: list[Article | None] = [None] * len(docs)
    added: dict[str, Counter] = {}
    text_docs = [index for index, doc in enumerate(docs) if not _looks_like_html(doc)]
    established = set(batch_sites.chrome)
    first_pass = [index for index in text_docs if (document_site(docs[index]) or "") not in established]
    started = time.perf_counter()
    counted = pool.map("line_keys", [docs[i] for i in first_pass], sizes=[sizes[i] for i in first_pass])
    learn_seconds = time.perf_counter() - started
    for index, result in zip(first_pass, counted):
        if isinstance(result, Failure):
            articles[index] = _failed(docs[index], result.reason)
        elif isinstance(result, Article):  # could not be decoded
            articles[index] = replace(result, raw=docs[index].raw)
        else:
            _count_document(added, *result)
    sites = {document_site(docs[index]) or "" for index in text_docs}
    site_chrome = {site: batch_sites.chrome[site] if site in established else
                   site_chrome_keys(batch_sites.counts.get(site, Counter()) + added.get(site, Counter()))
                   for site in sites}
    todo = [index for index, article in enumerate(articles) if article is None]
    if on_done and len(todo) < len(docs):
        on_done(len(docs) - len(todo))  # quarantined in the first pass
    started = time.perf_counter()
    processed = pool.map("process", [docs[i] for i in todo], {"chrome": site_chrome, "count": established},
                         sizes=[sizes[i] for i in todo], on_result=(lambda: on_done(1)) if on_done else None)
    clean_seconds = time.perf_counter() - started
    for index, result in zip(todo, processed):
        if isinstance(result, Failure):
            articles[index] = _failed(docs[index], result.reason)
            continue
        article, keys = result
        if keys is not None:
            _count_document(added, article.site or "", keys)
        articles[index] = replace(article, raw=docs[index].raw) if article.quarantined else article
    return CleanedBatch(articles=articles, site_counts=added,
                        seconds={"learn_lines": learn_seconds, "clean": clean_seconds})


def _count_document(counts: dict[str, Counter], site: str, keys: list[str]) -> None:
    site_counts = counts.setdefault(site, Counter())
    site_counts.update(keys)
    site_counts[DOCUMENTS_KEY] += 1


def _looks_like_html(doc: RawDocument) -> bool:
    """What decode_document will call HTML, told from the first bytes (the worker decides for certain)."""
    return doc.format_hint == "html" or looks_like_html(doc.raw[:4096])


@task(name="validate", **_TASK)
def validate_batch(articles: list[Article], validator: "LazyValidator", ingested_at: datetime, run_id: str):
    """Rows failing a critical expectation go to quarantine with the names of what they failed."""
    from expectations.articles import validation_frame

    candidates = [a for a in articles if not a.quarantined]
    rows = [article_row(a, ingested_at=ingested_at, run_id=run_id) for a in candidates]
    outcome = validator.validate(validation_frame(rows), run_name=run_id) if rows else None
    good, bad = [], [a for a in articles if a.quarantined]
    for index, (article, row) in enumerate(zip(candidates, rows)):
        if index in outcome.critical:
            bad.append(replace(article, quarantine_stage="validate", quarantine_reasons=tuple(outcome.critical[index])))
        else:
            row["warnings"] = outcome.warnings.get(index, [])
            good.append(row)
    failures = outcome.rule_failures if outcome else {}
    return good, [quarantine_row(a, ingested_at=ingested_at, run_id=run_id) for a in bad], failures


@task(name="cluster", **_TASK)
def cluster_batch(rows: list[dict], stories: StorySession) -> StoryBatch:
    """Story and near-duplicate of each validated row; exact copies of a stored body are split off."""
    return stories.assign(rows)


@task(name="write", **_TASK)
def write_batch(store: Store, good: list[dict], bad: list[dict], partition: str, run_id: str, number: int,
                ledger: Ledger, ledger_rows: list[LedgerRow], stories: StorySession, site_lines: SiteLineCounts,
                site_added: dict[str, Counter]) -> None:
    """Commit one batch as one atomic commit: articles, quarantine, ledger segment, story index delta
    (exact copies included) and site line counts appear together or not at all."""
    file_stem = f"part-{run_id}-{number:05d}"
    commit = store.begin(f"{run_id}-{number:05d}", number)
    with deferred_signals():  # SIGTERM/SIGINT: this commit is finished first, then the run stops
        commit.add_rows(ARTICLES, good, partition=partition, file_stem=file_stem)
        crash_point("after-articles", number)
        commit.add_rows(QUARANTINE, bad, partition=partition, file_stem=file_stem)
        crash_point("after-quarantine", number)
        segment = ledger.stage(commit, ledger_rows, run_id=run_id, batch=number)
        stories.stage(commit)
        site_delta = site_lines.stage(commit, site_added)
        commit.publish()
        ledger.committed(ledger_rows, segment)
        stories.committed(commit)
        site_lines.committed(commit, site_delta)
    crash_point("after-ledger", number)


@task(name="report", **_TASK)
def report_run(store: Store, summary: dict, validator: "LazyValidator") -> dict:
    return reporting.write_run_report(store, summary, validator)


def new_run_id() -> str:
    """A run's id: UTC start time and a random suffix, e.g. ``20261122T033407Z-917626``; also the flow run's name."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def _current_run_id() -> str:
    """The flow run's name when it is a run id (Prefect names every clean-news run so), else a new id."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    name = context.flow_run.name if context and context.flow_run else ""
    return name if RUN_ID_PATTERN.fullmatch(name or "") else new_run_id()


def _current_flow_run_id() -> str | None:
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    return str(context.flow_run.id) if context and context.flow_run else None


RUN_ID_PATTERN = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")


def run_tags(out: str) -> list[str]:
    """Tags of a run in the Prefect UI: ``newsclean`` and ``out:NAME`` (the output folder's last name)."""
    name = out.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0] or out
    return ["newsclean", f"out:{name}"]


@flow(name="clean-news", flow_run_name=new_run_id, log_prints=False)
def clean_news(sources: list[str], out: str = "data", seeds: str | None = None,
               batch_size: int = DEFAULT_BATCH_SIZE, full: bool = False, workers: int | None = None,
               doc_timeout: float = DEFAULT_DOC_TIMEOUT, max_document_bytes: int = MAX_DOCUMENT_BYTES,
               wait: float = 0.0, in_flight: int = 1) -> dict:
    """Clean the new and changed documents under ``sources`` into validated Parquet under ``out``.

    ``full`` reprocesses every input into a new dataset that replaces the old one at the end;
    ``workers`` worker processes (default: one per core) clean documents, each within ``doc_timeout``
    seconds; ``wait`` is how long to queue behind another run on the same output; ``in_flight`` batches
    are cleaned at once (raise it to the number of Dask workers with ``--task-runner dask``).
    """
    started = time.monotonic()
    run_id = _current_run_id()
    ingested_at = datetime.now(timezone.utc)
    logger = run_logger()
    refs = load_references(seeds)
    for message in seed_warnings(seeds):  # allowed, probably wrong: said in the run's log
        logger.warning(message)
    root = Store.open(out)
    with OutputLock(root, wait=wait):
        recovered = recover(root)
        store = staging_store(root, run_id) if full else root
        ledger = Ledger() if full else Ledger.load(store)
        files = discover(sources)
        cwd = os.getcwd()
        todo = [item for item in files if not ledger.unchanged(item, cwd)]
        totals = RunTotals(files=len(files), skipped_unchanged=len(files) - len(todo))
        logger.info("run %s: %d input files under %s; %d unchanged since an earlier run (not read), %d to read",
                    run_id, len(files), ", ".join(map(str, sources)), totals.skipped_unchanged, len(todo))
        for action in recovered:
            logger.warning("recovered: %s", action)
        validator = LazyValidator(suite_inputs(refs), root) if todo else None
        if todo:
            options = CleanOptions(workers=default_workers() if workers is None else workers,
                                   doc_timeout=doc_timeout, refs_key=_refs_key(refs))
            with Progress(len(todo), desc="clean-news") as progress:
                options = replace(options, progress_key=progress.key)
                _process(todo, store=store, ledger=ledger, refs=refs, options=options, validator=validator,
                         totals=totals, batch_size=batch_size, max_document_bytes=max_document_bytes,
                         in_flight=max(1, in_flight), run_id=run_id, ingested_at=ingested_at, progress=progress)
        elif not full:  # nothing new: still finish the story index and counts a killed run committed
            from flows.story_files import settle as settle_stories

            recovered += ["rewrote the stories table from the committed story index"] if settle_stories(root) else []
            recovered += ["folded the committed site line counts"] if settle_site_lines(root) else []
        if full:
            publish_staged(root, store)
            ledger = Ledger.load(root)
        ledger.compact(root, run_id=run_id)
        summary = totals.summary(run_id=run_id, out=out, sources=sources, ingested_at=ingested_at,
                                 seconds=time.monotonic() - started, full=full, recovered=recovered)
        logger.info("run %s: %d documents read, %d written to articles, %d quarantined, %d already stored in "
                    "%.2f s", run_id, totals.read, totals.written, totals.quarantined, totals.already_stored,
                    summary["seconds"])
        summary["flow_run_id"] = _current_flow_run_id()
        if not todo:  # nothing new: a one-line record, not a report build (that imports GX, about 3 s)
            return _record_idle_run(root, summary)
        return report_run(root, summary, quote(validator))


def _process(todo: list[InputFile], *, store: Store, ledger: Ledger, refs: References, options: CleanOptions,
             validator: "LazyValidator", totals: "RunTotals", batch_size: int, max_document_bytes: int,
             in_flight: int, run_id: str, ingested_at: datetime, progress: Progress) -> None:
    """The batch loop, pipelined: this process reads batch k+1 and commits k-1 while workers clean k.

    Up to ``in_flight`` batches are cleaned at once (more than one only pays off on a Dask cluster);
    a batch learns site chrome from itself and from every batch whose cleaning had finished before it started.
    """
    from flows.stories import StorySession

    partition = ingested_at.date().isoformat()
    logger = run_logger()
    validator.prepare_in_background()
    stories = StorySession(store)
    site_lines = SiteLineCounts.load(store)
    already_stored = store.stored_doc_ids()
    # This thread reads files and the pool's thread feeds the workers while the commits keep the
    # interpreter busy: after each system call a thread waits up to the switch interval for the GIL
    # (5 ms by default), which stalled reading (0.6 s -> 8 s for 5000 files in one measured run).
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    pending: deque = deque()  # (number, files, ReadBatch, future of CleanedBatch), oldest first

    def finish_oldest() -> tuple:
        number, files, read, future = pending.popleft()
        with totals.timed("wait_for_clean"):
            cleaned = future.result()
        if not cleaned.progress_shown:  # cleaned elsewhere (a Dask worker): counted now
            progress.advance(len(cleaned.articles))
        quarantined = sum(1 for article in cleaned.articles if article.quarantined)
        logger.info("batch %d: cleaned %d documents (%d quarantined while cleaning) in %.2f s", number,
                    len(cleaned.articles), quarantined, sum(cleaned.seconds.values()))
        totals.stage_seconds.update(cleaned.seconds)
        for site, counts in cleaned.site_counts.items():
            site_lines.add(site, counts)
        return number, files, read, cleaned

    ready: list[tuple] = []  # cleaned batches not committed yet, oldest first
    commits = itertools.count()

    def commit_ready() -> None:
        """Commit every cleaned batch waiting, as one: one validation run, one file per table, one ledger segment."""
        if not ready:
            return
        number = next(commits)
        articles = [article for *_, cleaned in ready for article in cleaned.articles]
        ledger_rows = [row for _, _, read, _ in ready for row in read.ledger_rows]
        file_count = sum(len(files) for _, files, _, _ in ready)
        site_added: dict[str, Counter] = {}
        for *_, cleaned in ready:
            for site, counts in cleaned.site_counts.items():
                site_added.setdefault(site, Counter()).update(counts)
        ready.clear()
        seconds: dict[str, float] = {}
        started = time.perf_counter()
        with totals.timed("validate"):
            good, bad, failures = validate_batch(quote(articles), quote(validator), ingested_at, run_id)
        seconds["validate"] = time.perf_counter() - started
        with totals.timed("cluster"):
            clustered = cluster_batch(quote(good), quote(stories))
        good = clustered.rows
        seconds["cluster"] = time.perf_counter() - started - seconds["validate"]
        # An exact copy of a stored body is content already stored; the story ledger keeps its source.
        totals.already_stored += len(clustered.dropped)
        totals.exact_duplicates += len(clustered.dropped)
        file_stem = f"part-{run_id}-{number:05d}"
        with totals.timed("write"):
            write_batch(store, quote(good), quote(bad), partition, run_id, number, quote(ledger), quote(ledger_rows),
                        quote(stories), quote(site_lines), quote(site_added))
        seconds["write"] = time.perf_counter() - started - seconds["validate"] - seconds["cluster"]
        totals.add_batch(good, bad, failures, articles)
        failed_rules = ", ".join(f"{rule} {n}" for rule, n in sorted(failures.items())) or "none"
        logger.info("commit %d: %d input files, %d documents: %d written to articles/dt=%s/%s.parquet, %d "
                    "quarantined, %d exact copies of stored articles; rules failed: %s; validate %.2f s, "
                    "cluster %.2f s, write %.2f s", number, file_count, len(articles), len(good), partition,
                    file_stem, len(bad), len(clustered.dropped), failed_rules, seconds["validate"],
                    seconds["cluster"], seconds["write"])
        gc.collect(1 if number % GC_EVERY_COMMITS < GC_EVERY_COMMITS - 1 else 2)
        _release_free_memory()

    # The cyclic garbage collector: left to itself it ran 22 full collections in a 20,000-document run,
    # each walking every object alive (modules, the ledger, the articles in flight): 11 s of a 64 s flow,
    # growing with the run. What is loaded by now lives for the whole run and is frozen out of its sight;
    # automatic collection is off in the batch loop. Most garbage is freed by reference counting; cycles
    # (pandas frames of a validation, task-run objects) go in a young collection after each commit and
    # a full one every GC_EVERY_COMMITS commits (at 20,000 documents: flow 56 s -> 45 s, peak RSS +10%).
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        reader = BatchReader(todo, ledger, max_docs=min(batch_size, CLEAN_BATCH_DOCS), max_bytes=MAX_BATCH_BYTES,
                             max_document_bytes=max_document_bytes)
        for number in itertools.count():
            read_started = time.perf_counter()
            with totals.timed("read"):
                read = read_batch(quote(reader))
            files = read.files
            batch_bytes = sum(len(doc.raw) for doc in read.docs)
            totals.read += len(read.docs)
            totals.input_bytes += batch_bytes
            totals.unchanged_content += read.unchanged_content
            fresh = []
            for doc in read.docs:
                if doc.doc_id in already_stored:
                    totals.already_stored += 1
                else:
                    already_stored.add(doc.doc_id)
                    fresh.append(doc)
            progress.grow(len(read.docs) - len(files))  # a .jsonl file holds many documents, an unchanged one none
            progress.advance(len(read.docs) - len(fresh))
            logger.info("batch %d: read %d files, %d documents (%.1f MB) in %.2f s; %d already stored, %d files "
                        "with unchanged bytes; %d to clean", number, len(files), len(read.docs), batch_bytes / 1e6,
                        time.perf_counter() - read_started, len(read.docs) - len(fresh), read.unchanged_content,
                        len(fresh))
            finished = [finish_oldest() for _ in range(len(pending) - in_flight + 1)] if len(pending) >= in_flight else []
            sites = {document_site(doc) or "" for doc in fresh}
            batch_sites = site_lines.for_batch(sites, established_docs=ESTABLISHED_SITE_DOCS)
            future = clean_batch.submit(Opaque(fresh), Opaque(batch_sites), Opaque(refs), options)
            read.docs = fresh = []  # the clean task has them; only the ledger rows wait for the commit
            pending.append((number, files, read, future))
            ready.extend(finished)
            del finished  # the batches live in `ready` until committed, and no longer
            # Commit once enough input files (or documents: a .jsonl holds many) wait, and before the last batch
            # is cleaned, so that the work left after the workers stop (one batch's commit) stays small.
            if sum(max(len(batch_files), len(cleaned.articles)) for _, batch_files, _, cleaned in ready) >= batch_size \
                    or reader.done:
                commit_ready()
            if reader.done:
                break
        while pending:
            ready.append(finish_oldest())
        # Nothing is left to clean: the workers (about 100 MB each) stop before the last commit, whose
        # validation is this process's peak.
        close_pools()
        commit_ready()
        site_lines.save(store)
        with totals.timed("cluster"):
            stories.finish()
    except BaseException as error:
        # Stopped (SIGTERM, Ctrl-C) or failed: batches still being cleaned are abandoned, their workers killed, so
        # that the task threads return now instead of after the batch (or a hanging page's deadline).
        if is_stop_signal(error):  # the abandoned tasks' errors go to the API, not to the console
            silence_console()
        stop_all_pools()
        raise
    finally:
        gc.unfreeze()
        if gc_was_enabled:
            gc.enable()
        sys.setswitchinterval(switch_interval)
        close_pools()


@dataclass
class RunTotals:
    """What the run did, for the summary and the report."""

    files: int = 0
    skipped_unchanged: int = 0
    unchanged_content: int = 0
    read: int = 0
    written: int = 0
    quarantined: int = 0
    already_stored: int = 0
    exact_duplicates: int = 0  # of already_stored: a new input whose normalized body is stored already
    reasons: Counter = field(default_factory=Counter)
    rule_failures: Counter = field(default_factory=Counter)
    per_site: Counter = field(default_factory=Counter)
    chrome_rules: Counter = field(default_factory=Counter)
    entities: Counter = field(default_factory=Counter)
    rewrites: Counter = field(default_factory=Counter)
    input_bytes: int = 0
    stage_seconds: Counter = field(default_factory=Counter)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stage_seconds[stage] += time.perf_counter() - started

    def add_batch(self, good: list[dict], bad: list[dict], failures: dict, articles: list[Article]) -> None:
        self.written += len(good)
        self.quarantined += len(bad)
        self.rule_failures.update(failures)
        for row in bad:
            self.reasons.update(row["reasons"])
        for row in good:
            self.per_site[row["site"] or "(unknown)"] += 1
            self.chrome_rules.update(row["chrome"].rules)
            self.entities.update({(e["name"], e["kind"]): e["mentions"] for e in row["entities"]})
        for article in articles:
            self.rewrites.update({(variant, canonical): n for variant, canonical, n in article.rewrites})

    def summary(self, *, run_id: str, out: str, sources: list[str], ingested_at: datetime, seconds: float,
                full: bool, recovered: list[str]) -> dict:
        return {
            "run_id": run_id, "out": out, "sources": [str(s) for s in sources], "full": full,
            "files": self.files, "skipped_unchanged": self.skipped_unchanged,
            "unchanged_content": self.unchanged_content, "read": self.read, "written": self.written,
            "quarantined": self.quarantined, "already_stored": self.already_stored,
            "exact_duplicates": self.exact_duplicates,
            "quarantine_reasons": dict(self.reasons.most_common()), "rule_failures": dict(self.rule_failures.most_common()),
            "per_site": dict(self.per_site.most_common()), "chrome_rules": dict(self.chrome_rules.most_common()),
            "rewrites": [{"variant": v, "canonical": c, "count": n} for (v, c), n in self.rewrites.most_common()],
            "top_entities": [{"name": n, "kind": k, "mentions": m} for (n, k), m in self.entities.most_common(25)],
            "input_bytes": self.input_bytes, "recovered": recovered,
            "stage_seconds": {stage: round(value, 2) for stage, value in self.stage_seconds.items()}, "seconds": round(seconds, 2), "ingested_at": ingested_at.isoformat(),
        }


def _record_idle_run(store: Store, summary: dict) -> dict:
    """The summary of a run that found nothing new, as reports/run-ID.json, listed in the runs index; Data Docs
    stay as they were."""
    import json

    path = store.path("reports", f"run-{summary['run_id']}.json")
    summary = {**summary, "reconciliation": reporting.reconcile(summary, {"articles_rows": 0, "quarantine_rows": 0}),
               "reports": {"summary": path, "data_docs": store.path("reports", "data_docs", "index.html")}}
    store.write_bytes(json.dumps(summary, indent=2, ensure_ascii=False).encode("utf-8"), path)
    reporting.write_runs_index(store, latest=summary)
    return summary


def _libc_malloc_trim():
    """glibc's malloc_trim, which hands the C heap's free pages back to the system; None elsewhere."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_MALLOC_TRIM = _libc_malloc_trim()


def _release_free_memory() -> None:
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _failed(doc: RawDocument, reason: str) -> Article:
    """A quarantined article for a document the workers could not finish (timeout, crash, error)."""
    return replace(decode_document(replace(doc, read_error=reason)), quarantine_stage="clean")


def _refs_key(refs: References) -> str:
    return hashlib.sha256(pickle.dumps(refs)).hexdigest()[:16]
