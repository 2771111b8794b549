"""``newsclean aliases suggest SOURCE...``: print alias rows a corpus suggests; nothing is written.

The I/O side of :mod:`transforms.aliases`: read the sources, decode and clean each document the way the
flow does (names in site chrome are not the article's), and print the candidate rows as CSV on stdout.
The first four columns are the alias table's; the rest is evidence for the reader.
"""
from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from flows.seeds import SeedError, load_references
from flows.sources import read_sources
from transforms.aliases import Suggestion, suggest_aliases
from transforms.names import AliasTable
from transforms.pipeline import References, StepInputs, clean_document

COLUMNS = ("alias", "canonical", "kind", "note", "alias_mentions", "canonical_mentions", "example")


def suggest_command(sources: list[str], *, seeds_dir: Path | None = None, limit: int = 50,
                    aliases: AliasTable | None = None, out: TextIO | None = None) -> int:
    """Print up to ``limit`` suggested alias rows for the documents under ``sources``; return the exit code.

    ``aliases`` replaces the seed table (a test passes a reduced one inline); the chrome lexicon still
    comes from ``seeds_dir``.
    """
    out = out or sys.stdout
    try:
        refs = load_references(seeds_dir)
    except SeedError as error:
        print(f"newsclean: {error}", file=sys.stderr)
        return 2
    if aliases is not None:
        refs = replace(refs, aliases=aliases)
    counts = {"documents": 0, "skipped": 0}
    suggestions = suggest_aliases(_bodies(sources, refs, counts), aliases=refs.aliases, limit=limit)
    write_suggestions(suggestions, out)
    print(f"newsclean: {counts['documents']} documents read ({counts['skipped']} unreadable or empty), "
          f"{len(suggestions)} rows suggested; the alias table was not changed", file=sys.stderr)
    return 0


def write_suggestions(suggestions: list[Suggestion], out: TextIO) -> None:
    """The rows as CSV with a header; paste the first four columns into seeds/aliases.csv."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for s in suggestions:
        writer.writerow((s.alias, s.canonical, s.kind, s.note, s.alias_mentions, s.canonical_mentions, s.example))


def _bodies(sources: list[str], refs: References, counts: dict[str, int]) -> Iterator[str]:
    """Cleaned article text (body and captions), one per readable document."""
    for doc in read_sources(sources):
        counts["documents"] += 1
        article = clean_document(doc, StepInputs(refs))
        if article.quarantined:
            counts["skipped"] += 1
            continue
        yield "\n".join((article.body, *article.captions))
