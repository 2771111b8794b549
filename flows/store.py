"""The Parquet output: table schemas, atomic file commits and what is already stored."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from transforms.records import PIPELINE_VERSION, Article, RemovedLine, RemovedLines

ARTICLES = "articles"
QUARANTINE = "quarantine"
PARTITION = "dt"  # ingestion date, hive style: articles/dt=2026-11-21/part-....parquet

_STRINGS = pa.list_(pa.string())
_TIMESTAMP = pa.timestamp("us", tz="UTC")
ENTITY = pa.struct([("name", pa.string()), ("kind", pa.string()), ("mentions", pa.int32())])
REMOVED_LINE = pa.struct([("line", pa.string()), ("rule", pa.string())])

ARTICLES_SCHEMA = pa.schema([
    pa.field("doc_id", pa.string(), nullable=False, metadata={"doc": "SHA-256 of the raw input, 32 hex digits; stable across runs"}),
    pa.field("source_uri", pa.string(), nullable=False, metadata={"doc": "input file path, #N for line N of a .jsonl"}),
    pa.field("input_format", pa.string(), metadata={"doc": "text | html, recognised by content"}),
    pa.field("site", pa.string(), metadata={"doc": "URL host, else the input file's parent folder name"}),
    pa.field("site_name", pa.string(), metadata={"doc": "the site's own name where the page gives it"}),
    pa.field("url", pa.string()),
    pa.field("title", pa.string()),
    pa.field("authors", _STRINGS),
    pa.field("published", pa.date32()),
    pa.field("published_at", _TIMESTAMP, metadata={"doc": "publication time where the page gives one"}),
    pa.field("language", pa.string(), metadata={"doc": "ISO 639-1"}),
    pa.field("body", pa.large_string(), metadata={"doc": "article text, chrome removed, original spelling"}),
    pa.field("body_normalized", pa.large_string(), metadata={"doc": "body with entity names in canonical form"}),
    pa.field("captions", _STRINGS),
    pa.field("chrome", pa.list_(REMOVED_LINE), metadata={"doc": "removed lines with the rule that removed each"}),
    pa.field("entities", pa.list_(ENTITY)),
    pa.field("categories", _STRINGS),
    pa.field("tags", _STRINGS),
    pa.field("word_count", pa.int32()),
    pa.field("removed_share", pa.float32(), metadata={"doc": "share of the input's non-empty lines removed as chrome"}),
    pa.field("repairs", _STRINGS, metadata={"doc": "decoding repairs applied (charset, mojibake, NUL bytes)"}),
    pa.field("warnings", _STRINGS, metadata={"doc": "warning-level expectations this row failed"}),
    pa.field("ingested_at", _TIMESTAMP, nullable=False),
    pa.field("pipeline_version", pa.string()),
    pa.field("run_id", pa.string()),
    pa.field("story_id", pa.string(), metadata={"doc": "story this article belongs to; see DIR/stories"}),
    pa.field("near_duplicate_of", pa.string(), metadata={"doc": "doc_id of the original this article nearly copies"}),
])

QUARANTINE_SCHEMA = pa.schema([
    pa.field("doc_id", pa.string(), nullable=False),
    pa.field("source_uri", pa.string(), nullable=False),
    pa.field("stage", pa.string(), metadata={"doc": "read | clean | validate"}),
    pa.field("reasons", _STRINGS),
    pa.field("raw", pa.large_binary(), metadata={"doc": "the original bytes (the first MiB of a too_large input)"}),
    pa.field("input_format", pa.string()),
    pa.field("site", pa.string()),
    pa.field("url", pa.string()),
    pa.field("title", pa.string()),
    pa.field("authors", _STRINGS),
    pa.field("published", pa.date32()),
    pa.field("language", pa.string()),
    pa.field("body", pa.large_string()),
    pa.field("body_normalized", pa.large_string()),
    pa.field("chrome", pa.list_(REMOVED_LINE)),
    pa.field("word_count", pa.int32()),
    pa.field("removed_share", pa.float32()),
    pa.field("repairs", _STRINGS),
    pa.field("ingested_at", _TIMESTAMP, nullable=False),
    pa.field("pipeline_version", pa.string()),
    pa.field("run_id", pa.string()),
])


def article_row(article: Article, *, ingested_at: datetime, run_id: str, warnings: Sequence[str] = ()) -> dict:
    """The articles-table row of a clean article."""
    return {
        "doc_id": article.doc_id, "source_uri": article.source_uri, "input_format": article.input_format,
        "site": article.site, "site_name": article.site_name, "url": article.url, "title": article.title,
        "authors": list(article.authors), "published": article.published, "published_at": article.published_at,
        "language": article.language, "body": article.body, "body_normalized": article.body_normalized,
        "captions": list(article.captions), "chrome": article.chrome,  # RemovedLines: Store.write turns it into Arrow
        "entities": [{"name": e.name, "kind": e.kind, "mentions": e.mentions} for e in article.entities],
        "categories": list(article.categories), "tags": list(article.tags), "word_count": article.word_count,
        "removed_share": article.removed_share, "repairs": list(article.repairs), "warnings": list(warnings),
        "ingested_at": ingested_at, "pipeline_version": PIPELINE_VERSION, "run_id": run_id,
        "story_id": None, "near_duplicate_of": None,
    }


def quarantine_row(article: Article, *, ingested_at: datetime, run_id: str) -> dict:
    """The quarantine-table row of an article that failed somewhere, raw bytes included."""
    return {
        "doc_id": article.doc_id, "source_uri": article.source_uri, "stage": article.quarantine_stage,
        "reasons": list(article.quarantine_reasons), "raw": article.raw, "input_format": article.input_format,
        "site": article.site, "url": article.url, "title": article.title, "authors": list(article.authors),
        "published": article.published, "language": article.language, "body": article.body or None,
        "body_normalized": article.body_normalized or None,
        "chrome": article.chrome,
        "word_count": article.word_count, "removed_share": article.removed_share, "repairs": list(article.repairs),
        "ingested_at": ingested_at, "pipeline_version": PIPELINE_VERSION, "run_id": run_id,
    }


def chrome_column(values: Sequence[Sequence[RemovedLine]]) -> pa.Array:
    """The ``chrome`` column: each row's removed lines as (line, rule) structs.

    A text page loses about 140 lines. :class:`RemovedLines` keeps them as one newline-joined text,
    which Arrow splits itself, so a commit's lines never become Python objects; any other sequence
    of (line, rule) pairs or dicts is converted as it is.

    >>> column = chrome_column([RemovedLines([("Share", "share_call"), ("", "blank")]), RemovedLines(), [("Ad", "ad_label")]])
    >>> column.to_pylist()[0], column.to_pylist()[1:]
    ([{'line': 'Share', 'rule': 'share_call'}, {'line': '', 'rule': 'blank'}], [[], [{'line': 'Ad', 'rule': 'ad_label'}]])
    """
    if not all(isinstance(value, RemovedLines) for value in values):
        return pa.array([list(value) for value in values], type=pa.list_(REMOVED_LINE))
    lengths = np.fromiter(map(len, values), dtype=np.int32, count=len(values))
    filled = [value.joined for value in values if len(value)]  # "" would split into one empty line, not none
    lines = pc.list_flatten(pc.split_pattern(pa.array(filled, type=pa.large_string()), "\n")).cast(pa.string())
    rules = pa.array(list(chain.from_iterable(value.rules for value in values)), type=pa.string())
    offsets = pa.array(np.r_[0, np.cumsum(lengths, dtype=np.int32)], type=pa.int32())
    return pa.ListArray.from_arrays(offsets, pa.StructArray.from_arrays([lines, rules], fields=list(REMOVED_LINE)),
                                    type=pa.list_(REMOVED_LINE))


@dataclass(frozen=True)
class Store:
    """An output location (local folder or object-store URI) and its filesystem."""

    filesystem: pafs.FileSystem
    root: str

    @classmethod
    def open(cls, out: str) -> "Store":
        if "://" in out:
            filesystem, root = pafs.FileSystem.from_uri(out)
        else:
            filesystem, root = pafs.LocalFileSystem(), os.path.abspath(out)
        filesystem.create_dir(root, recursive=True)
        return cls(filesystem, root.rstrip("/"))

    @property
    def is_local(self) -> bool:
        return isinstance(self.filesystem, pafs.LocalFileSystem)

    def path(self, *parts: str) -> str:
        return "/".join((self.root, *parts))

    def child(self, name: str) -> "Store":
        """A store rooted in a sub-folder (the staging area of a --full run)."""
        return Store(self.filesystem, self.path(name))

    def exists(self, path: str) -> bool:
        return self.filesystem.get_file_info(path).type != pafs.FileType.NotFound

    def write(self, table_name: str, rows: Sequence[dict], *, partition: str, file_stem: str) -> str | None:
        """Write rows as one Parquet file in the table's partition; the file appears whole or not at all."""
        if not rows:
            return None
        schema = ARTICLES_SCHEMA if table_name == ARTICLES else QUARANTINE_SCHEMA
        rows = list(rows)
        position = schema.get_field_index("chrome")
        table = pa.Table.from_pylist(rows, schema=schema.remove(position))  # the rows' "chrome" is left out
        table = table.add_column(position, schema.field(position), chrome_column([row["chrome"] for row in rows]))
        final = self.path(table_name, f"{PARTITION}={partition}", f"{file_stem}.parquet")
        self.write_table(table, final)
        return final

    def write_table(self, table: pa.Table, final: str) -> None:
        """Write a Parquet file so that readers and a killed process see all of it or nothing.

        Local: write to a dot-named temporary file (readers glob ``*.parquet`` and skip dot files),
        fsync, rename, fsync the folder. Object stores publish an object only when its upload
        completes, so there the final key is written directly.
        """
        folder = final.rsplit("/", 1)[0]
        self.filesystem.create_dir(folder, recursive=True)
        if not self.is_local:
            with self.filesystem.open_output_stream(final) as sink:
                pq.write_table(table, sink, compression="zstd")
            return
        temporary = f"{folder}/.{final.rsplit('/', 1)[1]}-{uuid.uuid4().hex[:8]}.tmp"
        with open(temporary, "wb") as handle:
            pq.write_table(table, handle, compression="zstd")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        _fsync_dir(folder)

    def write_bytes(self, data: bytes | Iterable[bytes], final: str) -> None:
        """Replace a file atomically (same rules as :meth:`write_table`).

        ``data`` may come as an iterable of chunks, so that a large file is never one object in memory.
        """
        chunks = [data] if isinstance(data, (bytes, bytearray, memoryview)) else data
        folder = final.rsplit("/", 1)[0]
        self.filesystem.create_dir(folder, recursive=True)
        if not self.is_local:
            with self.filesystem.open_output_stream(final) as sink:
                for chunk in chunks:
                    sink.write(chunk)
            return
        temporary = f"{folder}/.{final.rsplit('/', 1)[1]}-{uuid.uuid4().hex[:8]}.tmp"
        with open(temporary, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        _fsync_dir(folder)

    def remove_temporaries(self) -> int:
        """Delete the dot-named temporary files a killed run left behind; return how many."""
        removed = 0
        for table in (ARTICLES, QUARANTINE, "state"):
            selector = pafs.FileSelector(self.path(table), recursive=True, allow_not_found=True)
            for info in self.filesystem.get_file_info(selector):
                if info.type == pafs.FileType.File and info.base_name.startswith(".") and info.base_name.endswith(".tmp"):
                    self.filesystem.delete_file(info.path)
                    removed += 1
        return removed

    def stored_doc_ids(self) -> set[str]:
        """doc_ids already in articles or quarantine, read from the doc_id column only."""
        ids: set[str] = set()
        for table_name in (ARTICLES, QUARANTINE):
            folder = self.path(table_name)
            if self.filesystem.get_file_info(folder).type != pafs.FileType.Directory:
                continue
            dataset = ds.dataset(folder, filesystem=self.filesystem, format="parquet", partitioning="hive",
                                 exclude_invalid_files=False, ignore_prefixes=[".", "_"])
            ids.update(dataset.to_table(columns=["doc_id"]).column("doc_id").to_pylist())
        return ids


def _fsync_dir(folder: str) -> None:
    """Make a rename durable: the folder's entry must reach the disk too."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# A --full run writes a complete new dataset beside the old one and swaps it in at the end, so readers
# see the old dataset or the new one, never a mix with both copies of a document.
STAGED = (ARTICLES, QUARANTINE, "state", "stories")
STAGING_PREFIX = ".full-"
_RETIRED_PREFIX = ".old-"
_READY = "_READY"


def staging_store(root: Store, run_id: str) -> Store:
    """Where a --full run writes until it publishes."""
    if not root.is_local:
        raise ValueError("--full needs a local output folder (object stores cannot rename folders); "
                         "write the rebuild to a new prefix instead")
    return root.child(STAGING_PREFIX + run_id)


def publish_staged(root: Store, staging: Store) -> None:
    """Swap a finished --full run's tables in; the marker makes an interrupted swap resumable."""
    root.write_bytes(b"", staging.path(_READY))
    _swap_in(root, staging)


def recover_staged(root: Store) -> list[str]:
    """Finish swaps that were marked ready, drop staging areas of --full runs that never finished."""
    actions: list[str] = []
    if not root.is_local:
        return actions
    for info in root.filesystem.get_file_info(pafs.FileSelector(root.root, allow_not_found=True)):
        if info.type != pafs.FileType.Directory:
            continue
        if info.base_name.startswith(STAGING_PREFIX):
            staging = Store(root.filesystem, info.path)
            if root.exists(staging.path(_READY)):
                _swap_in(root, staging)
                actions.append(f"finished publishing {info.base_name}")
            else:
                root.filesystem.delete_dir(info.path)
                actions.append(f"dropped unfinished {info.base_name}")
        elif info.base_name.startswith(_RETIRED_PREFIX):
            root.filesystem.delete_dir(info.path)
    return actions


def _swap_in(root: Store, staging: Store) -> None:
    """Retire each current table and move the staged one in; safe to repeat after a crash at any step.

    A table the rebuild left empty is retired too. ``retired/NAME`` existing means NAME was already
    retired, so a repeat never retires a table that was just moved in; the staging area (with its
    marker) goes before the retired tables, so a repeat cannot happen once cleanup has started.
    """
    filesystem = root.filesystem
    retired = root.path(_RETIRED_PREFIX + staging.root.rsplit("/", 1)[1][len(STAGING_PREFIX):])
    for name in STAGED:
        new, current = staging.path(name), root.path(name)
        if root.exists(current) and not root.exists(f"{retired}/{name}"):
            filesystem.create_dir(retired, recursive=True)
            filesystem.move(current, f"{retired}/{name}")
        if root.exists(new):
            filesystem.move(new, current)
    _fsync_dir(root.root)
    filesystem.delete_file(staging.path(_READY))
    filesystem.delete_dir(staging.root)
    if root.exists(retired):
        filesystem.delete_dir(retired)
