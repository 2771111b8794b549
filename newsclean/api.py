"""Clean documents in memory with the pipeline a run uses (``transforms.pipeline``), one by one or as a list.

What a run adds on top is not done here: no Great Expectations validation (``warnings`` stays empty and no
row is quarantined at the ``validate`` stage), no story index (``story_id`` and ``near_duplicate_of`` stay
None), no ledger and no per-document time limit. For those, and for files, use ``newsclean run``.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

# The source_uri of in-memory documents; like a .jsonl input, each document is "#N" of it.
MEMORY_URI = "memory.jsonl"
_DOCUMENT_FIELDS = ("text", "html", "url", "site", "published", "title")


def clean_text(text: str, *, site: str | None = None, url: str | None = None, title: str | None = None,
               published: str | None = None, seeds: str | Path | None = None) -> dict[str, Any]:
    """The article record of one plain-text document.

    ``site`` files the document under a site (else the host of ``url``); ``published`` is a date or
    date-time string; ``seeds`` a folder of seed tables (default: as for ``newsclean run``).
    """
    return clean_documents([{"text": text, "site": site, "url": url, "title": title, "published": published}],
                           seeds=seeds)[0]


def clean_html(html: str, *, url: str | None = None, site: str | None = None, title: str | None = None,
               published: str | None = None, seeds: str | Path | None = None) -> dict[str, Any]:
    """The article record of one HTML page (``url`` gives its site and resolves its links).

    >>> paragraphs = "".join(f"<p>The council approved budget line {n} on Monday after a long debate.</p>"
    ...                      for n in range(1, 4))
    >>> page = ("<html><head><title>Budget passes | Example</title></head><body><nav>Home | News</nav>"
    ...         f"<article><h1>Budget passes</h1>{paragraphs}</article></body></html>")
    >>> record = clean_html(page, url="https://www.example.com/news/budget")
    >>> record["site"], record["input_format"], record["title"]
    ('example.com', 'html', 'Budget passes')
    >>> print(record["body"])
    The council approved budget line 1 on Monday after a long debate.
    The council approved budget line 2 on Monday after a long debate.
    The council approved budget line 3 on Monday after a long debate.
    """
    return clean_documents([{"html": html, "url": url, "site": site, "title": title, "published": published}],
                           seeds=seeds)[0]


def clean_documents(documents: Iterable[str | Mapping[str, Any]], *,
                    seeds: str | Path | None = None) -> list[dict[str, Any]]:
    """The article records of several documents, in order: one per document, clean or not.

    A document is a string (plain text) or a mapping like a ``.jsonl`` input line: ``text`` or ``html``, and
    optionally ``url``, ``site``, ``published`` and ``title``. As in a run, the plain-text documents of one
    site are counted first, so a line repeated on three or more of them is removed as that site's chrome.
    A document that cannot be cleaned (empty, no text field, too large, ...) gets ``quarantine_reasons``.

    >>> pages = [f"Subscribe to the Daily Ledger\\nStory {n}: the council met on Monday to debate the budget." for n in "abc"]
    >>> [record["body"] for record in clean_documents([{"text": page, "site": "ledger"} for page in pages])]
    ['Story a: the council met on Monday to debate the budget.', 'Story b: the council met on Monday to debate the budget.', 'Story c: the council met on Monday to debate the budget.']
    >>> clean_documents([{"text": ""}, {"title": "no body"}])[1]["quarantine_reasons"]
    ['no_text_field']
    """
    from flows.seeds import load_references
    from transforms.chrome import count_line_keys, site_chrome_keys
    from transforms.pipeline import StepInputs, decode_document, run_steps

    refs = load_references(seeds)
    decoded = [decode_document(doc) for doc in _raw_documents(documents)]
    # The first pass of a run: per site, in how many plain-text documents each short line occurs.
    counts: dict[str, Counter[str]] = {}
    for article in decoded:
        if article.input_format == "text" and not article.quarantined:
            counts.setdefault(article.site or "", Counter()).update(count_line_keys([article.text]))
    site_chrome = {site: site_chrome_keys(site_counts) for site, site_counts in counts.items()}
    line_cache: dict = {}
    ingested_at = datetime.now(timezone.utc)
    records = []
    for article in decoded:
        chrome = site_chrome.get(article.site or "", frozenset()) if article.input_format == "text" else frozenset()
        records.append(_record(run_steps(article, StepInputs(refs, chrome, line_cache)), ingested_at))
    return records


def version() -> str:
    """The installed package's version (``newsclean --version``)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return installed_version("newsclean")
    except PackageNotFoundError:  # imported from a checkout that was never installed
        return "0+unknown"


def _raw_documents(documents: Iterable[str | Mapping[str, Any]]):
    """The documents as RawDocuments, read the way a run reads a .jsonl file (the same checks and reasons)."""
    from flows.sources import read_jsonl_data

    lines = []
    for document in documents:
        if isinstance(document, str):
            document = {"text": document}
        elif not isinstance(document, Mapping):
            raise TypeError(f"a document is a str or a mapping with `text` or `html`, not {type(document).__name__}")
        fields = {name: document[name] for name in _DOCUMENT_FIELDS if document.get(name) is not None}
        lines.append(json.dumps(fields, default=str))  # ASCII: a lone surrogate travels as \ud800, made valid there
    data = "\n".join(lines).encode("ascii")
    docs = list(read_jsonl_data(MEMORY_URI, data))
    assert len(docs) == len(lines)  # _read_jsonl skips only blank lines, and json.dumps writes none
    return docs


def _record(article, ingested_at: datetime) -> dict[str, Any]:
    """The articles-table row of ``article`` as plain Python values, plus its quarantine reasons and stage."""
    from flows.store import article_row

    record = article_row(article, ingested_at=ingested_at, run_id=None)
    record["chrome"] = [{"line": line, "rule": rule} for line, rule in article.chrome]
    record["quarantine_reasons"] = list(article.quarantine_reasons)
    record["quarantine_stage"] = article.quarantine_stage
    return record
