"""Cleaning a batch of documents in the workers while learning each site's chrome (its repeated lines).

A site's repeated lines are chrome in every copy, the first one included, so the plain-text documents
of a site with fewer than ESTABLISHED_SITE_DOCS counted documents are counted before any is cleaned (the
first pass). Documents of established sites are cleaned with what earlier batches and runs learned, and
counted as they are cleaned. HTML pages are not counted: their chrome is the extractor's job. The raw
bytes go to a worker once per pass and only the finished article comes back.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field, replace

from flows.state import DOCUMENTS_KEY, BatchSites
from flows.workers import Failure
from transforms.chrome import site_chrome_keys
from transforms.decode import looks_like_html
from transforms.pipeline import decode_document, document_site
from transforms.records import Article, RawDocument

# A site with this many plain-text documents counted (in earlier batches or runs) knows its repeated lines:
# its documents skip the counting pass and are counted while they are cleaned. At 20 documents a line on
# 15% of a site's pages has been seen the SITE_CHROME_MIN_DOCS times that make it chrome.
ESTABLISHED_SITE_DOCS = 20


@dataclass
class CleanedBatch:
    articles: list[Article]
    site_counts: dict[str, Counter] = field(default_factory=dict)  # line keys this batch added, per site
    seconds: dict[str, float] = field(default_factory=dict)  # wall time of decode and clean in the workers
    progress_shown: bool = False  # whether the run's progress counted its documents as they were cleaned


def clean_learning_chrome(pool, docs: list[RawDocument], batch_sites: BatchSites, on_done=None) -> CleanedBatch:
    """Every document through the stages in the workers, after a first pass that counts line keys where needed.

    ``on_done(n)`` is told as documents are finished (for the progress bar).
    """
    sizes = [len(doc.raw) for doc in docs]
    articles: list[Article | None] = [None] * len(docs)
    added: dict[str, Counter] = {}
    text_docs = [index for index, doc in enumerate(docs) if not _looks_like_html(doc)]
    established = set(batch_sites.chrome)
    first_pass = [index for index in text_docs if (document_site(docs[index]) or "") not in established]
    started = time.perf_counter()
    _count_first(pool, docs, first_pass, sizes, articles, added)
    learn_seconds = time.perf_counter() - started
    sites = {document_site(docs[index]) or "" for index in text_docs}
    site_chrome = {site: batch_sites.chrome[site] if site in established else
                   site_chrome_keys(batch_sites.counts.get(site, Counter()) + added.get(site, Counter()))
                   for site in sites}
    todo = [index for index, article in enumerate(articles) if article is None]
    if on_done and len(todo) < len(docs):
        on_done(len(docs) - len(todo))  # quarantined in the first pass
    started = time.perf_counter()
    _clean_and_count(pool, docs, todo, sizes, {"chrome": site_chrome, "count": established}, articles, added,
                     on_result=(lambda: on_done(1)) if on_done else None)
    clean_seconds = time.perf_counter() - started
    return CleanedBatch(articles=articles, site_counts=added,
                        seconds={"learn_lines": learn_seconds, "clean": clean_seconds})


def _count_first(pool, docs: list[RawDocument], indexes: list[int], sizes: list[int],
                 articles: list[Article | None], added: dict[str, Counter]) -> None:
    """The first pass: line keys of the documents at ``indexes`` counted into ``added``; a document that
    failed or could not be decoded gets its quarantined article now."""
    counted = pool.map("line_keys", [docs[i] for i in indexes], sizes=[sizes[i] for i in indexes])
    for index, result in zip(indexes, counted):
        if isinstance(result, Failure):
            articles[index] = _failed(docs[index], result.reason)
        elif isinstance(result, Article):  # could not be decoded
            articles[index] = replace(result, raw=docs[index].raw)
        else:
            _count_document(added, *result)


def _clean_and_count(pool, docs: list[RawDocument], indexes: list[int], sizes: list[int], shared: dict,
                     articles: list[Article | None], added: dict[str, Counter], on_result=None) -> None:
    """The documents at ``indexes`` cleaned with the site chrome in ``shared``; those of established sites
    come back with their line keys, counted into ``added``. Quarantined articles keep their raw bytes."""
    processed = pool.map("process", [docs[i] for i in indexes], shared,
                         sizes=[sizes[i] for i in indexes], on_result=on_result)
    for index, result in zip(indexes, processed):
        if isinstance(result, Failure):
            articles[index] = _failed(docs[index], result.reason)
            continue
        article, keys = result
        if keys is not None:
            _count_document(added, article.site or "", keys)
        articles[index] = replace(article, raw=docs[index].raw) if article.quarantined else article


def _count_document(counts: dict[str, Counter], site: str, keys: list[str]) -> None:
    site_counts = counts.setdefault(site, Counter())
    site_counts.update(keys)
    site_counts[DOCUMENTS_KEY] += 1


def _looks_like_html(doc: RawDocument) -> bool:
    """What decode_document will call HTML, told from the first bytes (the worker decides for certain)."""
    return doc.format_hint == "html" or looks_like_html(doc.raw[:4096])


def _failed(doc: RawDocument, reason: str) -> Article:
    """A quarantined article for a document the workers could not finish (timeout, crash, error)."""
    return replace(decode_document(replace(doc, read_error=reason)), quarantine_stage="clean")
