"""The ``clean-news`` Prefect flow: read -> clean (decode, strip, structure, normalize) -> validate -> write -> report.

Each task is a short adapter over a batch of documents at a stage boundary; the text logic lives in
``transforms``, the suite in ``expectations``. The per-document stages run in worker processes
(:mod:`flows.workers`) with a deadline per document, so a page that hangs is quarantined as ``timeout``;
:mod:`flows.chrome_learning` decides which documents are counted for site chrome before they are cleaned.
The batches are pipelined and gathered into commits by :mod:`flows.batches`.

A commit is atomic (:class:`flows.store.Commit`): its articles and quarantine files, its input-ledger
segment (:mod:`flows.ledger`), the story index's new rows and exact copies (:mod:`flows.stories`) and the
site line counts it added (:mod:`flows.state`) become visible together or not at all; the next run
finishes or drops what a killed one left (:func:`flows.store.recover`).
"""
from __future__ import annotations

import hashlib
import os
import pickle
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from flows import report as reporting
from flows.batches import DEFAULT_COMMIT_SIZE, BatchPipeline, CommitInput, batch_loop_runtime
from flows.chrome_learning import CleanedBatch, clean_learning_chrome
from flows.engine import flow
from flows.ledger import Ledger, LedgerRow
from flows.lock import OutputLock
from flows.progress import Progress, run_logger
from flows.reading import BatchReader, ReadBatch
from flows.runtime import tidy_after_commit
from flows.seeds import load_references, seed_warnings
from flows.settings import crash_point, default_workers, deferred_signals
from flows.sources import MAX_DOCUMENT_BYTES, InputFile, discover
from flows.state import BatchSites, SiteLineCounts
from flows.state import settle as settle_site_lines
from flows.store import ARTICLES, QUARANTINE, Store, article_row, publish_staged, quarantine_row, recover, staging_store
from flows.story_files import has_unfolded_deltas
from flows.totals import RunTotals
from flows.validation import LazyValidator, suite_inputs
from flows.workers import DEFAULT_DOC_TIMEOUT, leased_pool
from transforms.pipeline import References
from transforms.records import Article, RawDocument

if TYPE_CHECKING:  # imported where used: pandas (the suite) and scipy (the story index) cost a second at start-up,
    # which a run with nothing new never needs
    from flows.stories import StoryBatch, StorySession

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
        cleaned = clean_learning_chrome(pool, docs.value, sites.value, on_done=progress.advance if progress else None)
    cleaned.progress_shown = progress is not None
    return cleaned


@task(name="validate", **_TASK)
def validate_batch(articles: list[Article], validator: "LazyValidator", ingested_at: datetime, run_id: str):
    """Articles failing a critical expectation go to quarantine with the names of what they failed; the others
    become articles-table rows with the names of the warnings they failed."""
    candidates = [a for a in articles if not a.quarantined]
    rows = [article_row(a, ingested_at=ingested_at, run_id=run_id) for a in candidates]
    outcome = validator.validate_rows(rows, run_name=run_id) if rows else None
    good, bad = [], [a for a in articles if a.quarantined]
    for article, row, verdict in zip(candidates, rows, outcome.verdicts if outcome else ()):
        if verdict.passed:
            row["warnings"] = list(verdict.warnings)
            good.append(row)
        else:
            bad.append(replace(article, quarantine_stage="validate", quarantine_reasons=verdict.critical))
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
    file_stem = _file_stem(run_id, number)
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
               batch_size: int = DEFAULT_COMMIT_SIZE, full: bool = False, workers: int | None = None,
               doc_timeout: float = DEFAULT_DOC_TIMEOUT, max_document_bytes: int = MAX_DOCUMENT_BYTES,
               wait: float = 0.0, in_flight: int = 1) -> dict:
    """Clean the new and changed documents under ``sources`` into validated Parquet under ``out``.

    ``batch_size`` is the commit size: input files (or documents, for a .jsonl) made durable together;
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
        todo, totals = _files_to_read(sources, ledger, run_id)
        for action in recovered:
            logger.warning("recovered: %s", action)
        validator = LazyValidator(suite_inputs(refs), root) if todo else None
        if todo:
            options = CleanOptions(workers=default_workers() if workers is None else workers,
                                   doc_timeout=doc_timeout, refs_key=_refs_key(refs))
            stages = FlowStages(store=store, ledger=ledger, refs=refs, options=options, validator=validator,
                                totals=totals, run_id=run_id, ingested_at=ingested_at)
            _process(todo, stages, commit_size=batch_size, in_flight=in_flight, max_document_bytes=max_document_bytes)
        elif not full:  # nothing new: still finish the story index and counts a killed run committed
            recovered += _settle_killed_runs(root)
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


def _settle_killed_runs(root: Store) -> list[str]:
    """The story index and site line counts a killed run committed, folded; what was done, one line each.

    The story code (numpy, scipy) is imported only when there is something to fold.
    """
    done = []
    if has_unfolded_deltas(root):
        from flows.stories import StorySession

        StorySession(root).finish()
        done.append("rewrote the stories table from the committed story index")
    if settle_site_lines(root):
        done.append("folded the committed site line counts")
    return done


def _files_to_read(sources: list[str], ledger: Ledger, run_id: str) -> tuple[list[InputFile], RunTotals]:
    """The input files under ``sources`` that are new or changed since the ledger's runs, and the run's totals."""
    files = discover(sources)
    cwd = os.getcwd()
    todo = [item for item in files if not ledger.unchanged(item, cwd)]
    totals = RunTotals(files=len(files), skipped_unchanged=len(files) - len(todo))
    run_logger().info("run %s: %d input files under %s; %d unchanged since an earlier run (not read), %d to read",
                      run_id, len(files), ", ".join(map(str, sources)), totals.skipped_unchanged, len(todo))
    return todo, totals


def _process(todo: list[InputFile], stages: FlowStages, *, commit_size: int, in_flight: int,
             max_document_bytes: int) -> None:
    """Every batch of ``todo`` read, cleaned, validated, clustered and written, in commits; then the story
    index and the site line counts folded for the next run."""
    from flows.stories import StorySession

    stages.validator.prepare_in_background()
    store = stages.store
    stages.stories, stages.site_lines = StorySession(store), SiteLineCounts.load(store)
    with Progress(len(todo), desc="clean-news") as progress:
        stages.options = replace(stages.options, progress_key=progress.key)
        pipeline = BatchPipeline(stages, totals=stages.totals, progress=progress, site_lines=stages.site_lines,
                                 already_stored=store.stored_doc_ids(), commit_size=commit_size,
                                 in_flight=in_flight)
        with batch_loop_runtime():
            pipeline.run(todo, stages.ledger, max_document_bytes=max_document_bytes)
            stages.site_lines.save(store)
            with stages.totals.timed("cluster"):
                stages.stories.finish()


@dataclass
class FlowStages:
    """The flow's tasks as the batch engine calls them (:class:`flows.batches.Stages`), with what one run shares."""

    store: Store
    ledger: Ledger
    refs: References
    options: CleanOptions
    validator: LazyValidator
    totals: RunTotals
    run_id: str
    ingested_at: datetime
    stories: "StorySession | None" = None
    site_lines: SiteLineCounts | None = None

    def read(self, reader: BatchReader) -> ReadBatch:
        return read_batch(quote(reader))

    def clean(self, docs: list[RawDocument], sites: BatchSites):
        return clean_batch.submit(Opaque(docs), Opaque(sites), Opaque(self.refs), self.options)

    def commit(self, batch: CommitInput) -> None:
        """validate -> cluster -> write, as one commit."""
        seconds: dict[str, float] = {}
        with self.totals.timed("validate", into=seconds):
            good, bad, failures = validate_batch(quote(batch.articles), quote(self.validator), self.ingested_at,
                                                 self.run_id)
        with self.totals.timed("cluster", into=seconds):
            clustered = cluster_batch(quote(good), quote(self.stories))
        good = clustered.rows
        # An exact copy of a stored body is content already stored; the story ledger keeps its source.
        self.totals.already_stored += len(clustered.dropped)
        self.totals.exact_duplicates += len(clustered.dropped)
        with self.totals.timed("write", into=seconds):
            write_batch(self.store, quote(good), quote(bad), self.partition, self.run_id, batch.number,
                        quote(self.ledger), quote(batch.ledger_rows), quote(self.stories), quote(self.site_lines),
                        quote(batch.site_added))
        self.totals.add_batch(good, bad, failures, batch.articles)
        failed_rules = ", ".join(f"{rule} {n}" for rule, n in sorted(failures.items())) or "none"
        run_logger().info(
            "commit %d: %d input files, %d documents: %d written to articles/dt=%s/%s.parquet, %d quarantined, "
            "%d exact copies of stored articles; rules failed: %s; validate %.2f s, cluster %.2f s, write %.2f s",
            batch.number, batch.file_count, len(batch.articles), len(good), self.partition,
            _file_stem(self.run_id, batch.number), len(bad), len(clustered.dropped), failed_rules,
            seconds["validate"], seconds["cluster"], seconds["write"])
        tidy_after_commit(batch.number)

    @property
    def partition(self) -> str:
        return self.ingested_at.date().isoformat()


def _file_stem(run_id: str, number: int) -> str:
    """The name of a commit's Parquet file in each table."""
    return f"part-{run_id}-{number:05d}"


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


def _refs_key(refs: References) -> str:
    return hashlib.sha256(pickle.dumps(refs)).hexdigest()[:16]
