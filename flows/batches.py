"""The flow's batch engine: batches of documents read, cleaned and committed, pipelined, and when to commit.

While the workers clean batch k, this process reads batch k+1's files and validates and writes the cleaned
batches before k. Two sizes, two meanings:

- a *clean batch* is what goes to the workers at once: at most CLEAN_BATCH_DOCS documents and
  CLEAN_BATCH_BYTES bytes of input;
- a *commit* is several cleaned batches made durable together (one validation run, one Parquet file per
  table, one ledger segment): at least ``commit_size`` input files or documents (DEFAULT_COMMIT_SIZE).

The stages themselves (the Prefect tasks) are the flow's (:mod:`flows.clean_news`): this module only
orders them, through the :class:`Stages` it is given.
"""
from __future__ import annotations

import itertools
import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from flows.chrome_learning import ESTABLISHED_SITE_DOCS, CleanedBatch
from flows.ledger import Ledger, LedgerRow
from flows.progress import Progress, run_logger
from flows.reading import BatchReader, ReadBatch
from flows.runtime import tuned_for_batch_loop
from flows.settings import is_stop_signal, silence_console
from flows.sources import MAX_DOCUMENT_BYTES, InputFile
from flows.state import BatchSites, SiteLineCounts
from flows.workers import close_pools, stop_all_pools
from transforms.pipeline import document_site
from transforms.records import Article, RawDocument

if TYPE_CHECKING:
    from flows.totals import RunTotals

# Input files per commit: one validation run (GX costs about 0.75 s per run whatever its size), one Parquet
# file per table and one ledger segment. A commit's articles, rows and story features wait in memory: at
# 200,000 text documents the flow process peaks at about 1.33 GiB with 2000. Commits of 1000 files lowered an
# earlier peak by 74 MiB but ran 12% slower (each commit pays GX's fixed cost).
DEFAULT_COMMIT_SIZE = 2000
# Documents are read and cleaned in batches of at most this many documents and CLEAN_BATCH_BYTES bytes of
# input: small enough that reading the next batch and committing the last keep pace with the workers and
# the raw bytes in memory stay bounded (a folder of large HTML pages too), large enough that the
# per-batch barrier (all line keys counted before cleaning starts) costs little. A commit size below
# CLEAN_BATCH_DOCS makes the clean batches that small too.
CLEAN_BATCH_DOCS = 1000
CLEAN_BATCH_BYTES = 128 * 1024 * 1024


@dataclass
class CommitInput:
    """The cleaned batches that make one commit, merged: what validate, cluster and write need of them."""

    number: int
    articles: list[Article]
    ledger_rows: list[LedgerRow]  # the input files the commit ends
    file_count: int
    site_added: dict[str, Counter]  # line keys the commit's batches added, per site


class Stages(Protocol):
    """The flow's stages as the engine calls them."""

    def read(self, reader: BatchReader) -> ReadBatch: ...

    def clean(self, docs: list[RawDocument], sites: BatchSites) -> Any: ...  # a future of CleanedBatch

    def commit(self, batch: CommitInput) -> None: ...


@dataclass
class _Submitted:
    number: int
    files: list[InputFile]
    read: ReadBatch  # its documents handed to the clean task; only the ledger rows wait for the commit
    future: Any


@dataclass
class _Cleaned:
    files: list[InputFile]
    read: ReadBatch
    cleaned: CleanedBatch

    @property
    def size(self) -> int:
        """Its share of a commit: input files, or documents when more (a .jsonl holds many)."""
        return max(len(self.files), len(self.cleaned.articles))


@contextmanager
def batch_loop_runtime() -> Iterator[None]:
    """The interpreter tuned for the loop (:mod:`flows.runtime`); the worker pools closed after it.

    Stopped (SIGTERM, Ctrl-C) or failed: batches still being cleaned are abandoned, their workers killed, so
    that the task threads return now instead of after the batch (or a hanging page's deadline).
    """
    with tuned_for_batch_loop():
        try:
            yield
        except BaseException as error:
            if is_stop_signal(error):  # the abandoned tasks' errors go to the API, not to the console
                silence_console()
            stop_all_pools()
            raise
        finally:
            close_pools()


class BatchPipeline:
    """The batch loop, pipelined: this process reads batch k+1 and commits k-1 while workers clean k.

    Up to ``in_flight`` batches are cleaned at once (more than one only pays off on a Dask cluster);
    a batch learns site chrome from itself and from every batch whose cleaning had finished before it started.
    Documents already stored (by doc_id) are counted and not cleaned again.
    """

    def __init__(self, stages: Stages, *, totals: RunTotals, progress: Progress, site_lines: SiteLineCounts,
                 already_stored: set[str], commit_size: int = DEFAULT_COMMIT_SIZE, in_flight: int = 1):
        self.stages, self.totals, self.progress, self.site_lines = stages, totals, progress, site_lines
        self.already_stored = already_stored
        self.commit_size, self.in_flight = commit_size, max(1, in_flight)
        self.logger = run_logger()
        self._pending: deque[_Submitted] = deque()  # being cleaned, oldest first
        self._ready: list[_Cleaned] = []  # cleaned, not committed yet, oldest first
        self._commits = itertools.count()

    def run(self, todo: list[InputFile], ledger: Ledger, *, max_document_bytes: int = MAX_DOCUMENT_BYTES) -> None:
        reader = BatchReader(todo, ledger, max_docs=min(self.commit_size, CLEAN_BATCH_DOCS),
                             max_bytes=CLEAN_BATCH_BYTES, max_document_bytes=max_document_bytes)
        for number in itertools.count():
            read = self._read(reader, number)
            finished = [self._finish_oldest() for _ in range(len(self._pending) - self.in_flight + 1)]
            self._submit(number, read)
            self._ready.extend(finished)
            del finished  # the batches live in `_ready` until committed, and no longer
            # Commit once enough input files (or documents: a .jsonl holds many) wait, and before the last batch
            # is cleaned, so that the work left after the workers stop (one batch's commit) stays small.
            if sum(batch.size for batch in self._ready) >= self.commit_size or reader.done:
                self._commit_ready()
            if reader.done:
                break
        while self._pending:
            self._ready.append(self._finish_oldest())
        # Nothing is left to clean: the workers (about 100 MB each) stop before the last commit, whose
        # validation is this process's peak.
        close_pools()
        self._commit_ready()

    def _read(self, reader: BatchReader, number: int) -> ReadBatch:
        """The next batch read, counted, its documents already stored dropped (and shown as done)."""
        started = time.perf_counter()
        with self.totals.timed("read"):
            read = self.stages.read(reader)
        batch_bytes = sum(len(doc.raw) for doc in read.docs)
        self.totals.read += len(read.docs)
        self.totals.input_bytes += batch_bytes
        self.totals.unchanged_content += read.unchanged_content
        fresh = []
        for doc in read.docs:
            if doc.doc_id in self.already_stored:
                self.totals.already_stored += 1
            else:
                self.already_stored.add(doc.doc_id)
                fresh.append(doc)
        self.progress.grow(len(read.docs) - len(read.files))  # a .jsonl file holds many documents, an unchanged one none
        self.progress.advance(len(read.docs) - len(fresh))
        self.logger.info("batch %d: read %d files, %d documents (%.1f MB) in %.2f s; %d already stored, %d files "
                         "with unchanged bytes; %d to clean", number, len(read.files), len(read.docs),
                         batch_bytes / 1e6, time.perf_counter() - started, len(read.docs) - len(fresh),
                         read.unchanged_content, len(fresh))
        read.docs = fresh
        return read

    def _submit(self, number: int, read: ReadBatch) -> None:
        """The batch's documents to the clean task, with the site chrome learned so far."""
        sites = {document_site(doc) or "" for doc in read.docs}
        batch_sites = self.site_lines.for_batch(sites, established_docs=ESTABLISHED_SITE_DOCS)
        future = self.stages.clean(read.docs, batch_sites)
        read.docs = []  # the clean task has them; only the ledger rows wait for the commit
        self._pending.append(_Submitted(number, read.files, read, future))

    def _finish_oldest(self) -> _Cleaned:
        """Wait for the oldest batch being cleaned; its line counts join what later batches learn from."""
        submitted = self._pending.popleft()
        with self.totals.timed("wait_for_clean"):
            cleaned: CleanedBatch = submitted.future.result()
        if not cleaned.progress_shown:  # cleaned elsewhere (a Dask worker): counted now
            self.progress.advance(len(cleaned.articles))
        quarantined = sum(1 for article in cleaned.articles if article.quarantined)
        self.logger.info("batch %d: cleaned %d documents (%d quarantined while cleaning) in %.2f s",
                         submitted.number, len(cleaned.articles), quarantined, sum(cleaned.seconds.values()))
        self.totals.stage_seconds.update(cleaned.seconds)
        for site, counts in cleaned.site_counts.items():
            self.site_lines.add(site, counts)
        return _Cleaned(submitted.files, submitted.read, cleaned)

    def _commit_ready(self) -> None:
        """Commit every cleaned batch waiting, as one: one validation run, one file per table, one ledger segment."""
        if not self._ready:
            return
        site_added: dict[str, Counter] = {}
        for batch in self._ready:
            for site, counts in batch.cleaned.site_counts.items():
                site_added.setdefault(site, Counter()).update(counts)
        commit = CommitInput(
            number=next(self._commits),
            articles=[article for batch in self._ready for article in batch.cleaned.articles],
            ledger_rows=[row for batch in self._ready for row in batch.read.ledger_rows],
            file_count=sum(len(batch.files) for batch in self._ready), site_added=site_added)
        self._ready.clear()
        self.stages.commit(commit)
