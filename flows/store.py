"""The Parquet output: table schemas, atomic file commits and what is already stored."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from transforms.records import PIPELINE_VERSION, Article

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
        "captions": list(article.captions), "chrome": [{"line": r.line, "rule": r.rule} for r in article.chrome],
        "entities": [{"name": e.name, "kind": e.kind, "mentions": e.mentions} for e in article.entities],
        "categories": list(article.categories), "tags": list(article.tags), "word_count": article.word_count,
        "removed_share": article.removed_share, "repairs": list(article.repairs), "warnings": list(warnings),
        "ingested_at": ingested_at, "pipeline_version": PIPELINE_VERSION, "run_id": run_id,
    }


def quarantine_row(article: Article, *, ingested_at: datetime, run_id: str) -> dict:
    """The quarantine-table row of an article that failed somewhere, raw bytes included."""
    return {
        "doc_id": article.doc_id, "source_uri": article.source_uri, "stage": article.quarantine_stage,
        "reasons": list(article.quarantine_reasons), "raw": article.raw, "input_format": article.input_format,
        "site": article.site, "url": article.url, "title": article.title, "authors": list(article.authors),
        "published": article.published, "language": article.language, "body": article.body or None,
        "body_normalized": article.body_normalized or None,
        "chrome": [{"line": r.line, "rule": r.rule} for r in article.chrome],
        "word_count": article.word_count, "removed_share": article.removed_share, "repairs": list(article.repairs),
        "ingested_at": ingested_at, "pipeline_version": PIPELINE_VERSION, "run_id": run_id,
    }


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
            import os
            filesystem, root = pafs.LocalFileSystem(), os.path.abspath(out)
        filesystem.create_dir(root, recursive=True)
        return cls(filesystem, root.rstrip("/"))

    def path(self, *parts: str) -> str:
        return "/".join((self.root, *parts))

    def write(self, table_name: str, rows: Sequence[dict], *, partition: str, file_stem: str) -> str | None:
        """Write rows as one Parquet file in the table's partition; the file appears whole or not at all."""
        if not rows:
            return None
        schema = ARTICLES_SCHEMA if table_name == ARTICLES else QUARANTINE_SCHEMA
        table = pa.Table.from_pylist(list(rows), schema=schema)
        folder = self.path(table_name, f"{PARTITION}={partition}")
        self.filesystem.create_dir(folder, recursive=True)
        final = f"{folder}/{file_stem}.parquet"
        # Readers glob *.parquet, so the temporary name never shows up in a query; the rename is atomic
        # on a local filesystem (object stores publish an object only when its upload completes).
        temporary = f"{folder}/.{file_stem}-{uuid.uuid4().hex[:8]}.parquet.tmp"
        with self.filesystem.open_output_stream(temporary) as sink:
            pq.write_table(table, sink, compression="zstd")
        self.filesystem.move(temporary, final)
        return final

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
