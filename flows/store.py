"""The Parquet output: table schemas, atomic file commits and what is already stored."""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from flows.settings import crash_point
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
    pa.field("stripper", pa.string(), metadata={"doc": "what removed the chrome: rules, or the line model's version"}),
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
        "removed_share": article.removed_share, "stripper": article.stripper, "repairs": list(article.repairs),
        "warnings": list(warnings),
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


# File permissions (less the umask, as usual): tables and reports readable by all who can read the output
# folder; quarantined raw bytes (anything a scraper fetched, private pages included) by owner and group only.
FILE_MODE = 0o666
QUARANTINE_MODE = 0o640
TABLE_MODES = {QUARANTINE: QUARANTINE_MODE}

FileData = "bytes | Iterable[bytes] | pa.Table"


def rows_table(table_name: str, rows: Sequence[dict]) -> pa.Table:
    """Article or quarantine rows (dicts as :func:`article_row` / :func:`quarantine_row` make them) as Arrow."""
    schema = ARTICLES_SCHEMA if table_name == ARTICLES else QUARANTINE_SCHEMA
    rows = list(rows)
    position = schema.get_field_index("chrome")
    table = pa.Table.from_pylist(rows, schema=schema.remove(position))  # the rows' "chrome" is left out
    return table.add_column(position, schema.field(position), chrome_column([row["chrome"] for row in rows]))


def _write_data(data, sink) -> None:
    if isinstance(data, pa.Table):
        pq.write_table(data, sink, compression="zstd")
        return
    for chunk in [data] if isinstance(data, (bytes, bytearray, memoryview)) else data:
        sink.write(chunk)


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
        final = self.path(table_name, f"{PARTITION}={partition}", f"{file_stem}.parquet")
        self.write_table(rows_table(table_name, rows), final, mode=TABLE_MODES.get(table_name, FILE_MODE))
        return final

    def write_table(self, table: pa.Table, final: str, *, mode: int = FILE_MODE) -> None:
        """Write a Parquet file so that readers and a killed process see all of it or nothing.

        Local: write to a dot-named temporary file (readers glob ``*.parquet`` and skip dot files),
        fsync, rename, fsync the folder. Object stores publish an object only when its upload
        completes, so there the final key is written directly.
        """
        self.write_bytes(table, final, mode=mode)

    def write_bytes(self, data: "FileData", final: str, *, mode: int = FILE_MODE) -> None:
        """Replace a file atomically (same rules as :meth:`write_table`).

        ``data`` may come as an iterable of chunks, so that a large file is never one object in memory,
        or as an Arrow table, written as Parquet.
        """
        folder, name = final.rsplit("/", 1)
        if not self.is_local:
            self.write_direct(data, final)
            return
        temporary = f"{folder}/.{name}-{uuid.uuid4().hex[:8]}.tmp"
        self.write_direct(data, temporary, mode=mode)
        self.rename(temporary, final)

    def write_direct(self, data: "FileData", path: str, *, mode: int = FILE_MODE) -> None:
        """Write ``path`` in place (durably on a local disk). Only for names no reader looks at (temporary
        and pending files) or for object stores, whose objects appear when their upload completes.

        A local file is created with ``mode`` (less the umask) and never through a symbolic link."""
        folder = path.rsplit("/", 1)[0]
        self.filesystem.create_dir(folder, recursive=True)
        if not self.is_local:
            with self.filesystem.open_output_stream(path) as sink:
                _write_data(data, sink)
            return
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
        with open(descriptor, "wb") as handle:
            _write_data(data, handle)
            handle.flush()
            os.fsync(handle.fileno())

    def rename(self, source: str, target: str) -> None:
        """Move a file over ``target`` (atomic on a local disk, with the folder fsynced; copy and delete on
        an object store)."""
        if self.is_local:
            os.replace(source, target)
            _fsync_dir(target.rsplit("/", 1)[0])
        else:
            self.filesystem.move(source, target)

    def delete(self, path: str) -> None:
        """Delete a file; one already gone is fine (recovery may repeat a step)."""
        try:
            self.filesystem.delete_file(path)
        except FileNotFoundError:
            pass

    def files_under(self, *parts: str) -> list[pafs.FileInfo]:
        """Every file (recursively) under a folder of the output; none if it does not exist."""
        selector = pafs.FileSelector(self.path(*parts), recursive=True, allow_not_found=True)
        return [info for info in self.filesystem.get_file_info(selector) if info.type == pafs.FileType.File]

    def begin(self, commit_id: str, number: int | None = None) -> "Commit":
        """A new commit: add files to it, then :meth:`Commit.publish`."""
        return Commit(self, commit_id, number)

    def stored_doc_ids(self) -> set[str]:
        """doc_ids already in articles or quarantine, read from the doc_id column only."""
        ids: set[str] = set()
        for table_name in (ARTICLES, QUARANTINE):
            ids.update(self.table(table_name, columns=["doc_id"]).column("doc_id").to_pylist())
        return ids

    def table_files(self, table_name: str) -> list[str]:
        """The committed Parquet files of a table (what a reader's ``TABLE/**/*.parquet`` glob finds)."""
        return sorted(info.path for info in self.files_under(table_name)
                      if info.base_name.endswith(".parquet") and not info.base_name.startswith((".", "_")))

    def table(self, table_name: str, columns: list[str] | None = None) -> pa.Table:
        """A table's committed rows (``dt`` not included). An empty partition folder, which a killed first
        commit can leave, or a missing table give no rows (a dataset over a folder without files has no
        schema: "No match for FieldRef.Name(doc_id)")."""
        schema = ARTICLES_SCHEMA if table_name == ARTICLES else QUARANTINE_SCHEMA
        files = self.table_files(table_name)
        if not files:
            return schema.empty_table().select(columns) if columns else schema.empty_table()
        import pyarrow.dataset as ds  # here: it imports pandas, 0.3-0.7 s a rerun with nothing new never needs

        dataset = ds.dataset(files, filesystem=self.filesystem, format="parquet", schema=schema)
        return dataset.to_table(columns=columns)


def _fsync_dir(folder: str) -> None:
    """Make a rename durable: the folder's entry must reach the disk too."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# -- commits ---------------------------------------------------------------------------------------
# One commit changes several files: the articles and quarantine files of a batch, its input-ledger segment,
# the story index's new rows and exact copies, the site line counts it added. They become visible together
# or not at all:
#   1. every file is written (and fsynced) under its pending name, ``.NAME.pending`` beside its final
#      name: no reader's ``*.parquet`` glob and no loader of this package looks at it;
#   2. the commit record ``state/commits/ID.json``, listing the final names, is written atomically: this
#      is the commit point;
#   3. each pending file is renamed to its final name, and the record deleted.
# A run killed before 2 leaves pending files only, deleted by the next run (:func:`recover`); killed after
# 2, its record, which the next run finishes (renames what is still pending). Plain-Parquet readers never
# see a row of a commit that has not reached 2.
COMMITS_DIR = ("state", "commits")
PENDING_SUFFIX = ".pending"
# Where leftovers of a killed run can be (a --full run's staging area is dropped or published whole).
_OUTPUT_TABLES = (ARTICLES, QUARANTINE, "state", "stories")


def pending_path(final: str) -> str:
    """
    >>> pending_path("/out/articles/dt=2026-12-07/part-r-00000.parquet")
    '/out/articles/dt=2026-12-07/.part-r-00000.parquet.pending'
    """
    folder, name = final.rsplit("/", 1)
    return f"{folder}/.{name}{PENDING_SUFFIX}"


class Commit:
    """The files of one commit, published together by :meth:`publish` (see the comment above)."""

    def __init__(self, store: Store, commit_id: str, number: int | None = None):
        self.store, self.id, self.number = store, commit_id, number  # number: for crash points only
        self.files: list[str] = []  # final paths

    def add(self, data: FileData, final: str, *, mode: int = FILE_MODE) -> str:
        """Stage one file (Arrow table as Parquet, or bytes) to appear at ``final``."""
        self.store.write_direct(data, pending_path(final), mode=mode)
        self.files.append(final)
        return final

    def add_rows(self, table_name: str, rows: Sequence[dict], *, partition: str, file_stem: str) -> str | None:
        """Stage rows of the articles or quarantine table as one file of the partition (nothing if none)."""
        if not rows:
            return None
        final = self.store.path(table_name, f"{PARTITION}={partition}", f"{file_stem}.parquet")
        return self.add(rows_table(table_name, rows), final, mode=TABLE_MODES.get(table_name, FILE_MODE))

    def publish(self) -> None:
        """Write the commit record (the commit point), then move every file to its final name."""
        if not self.files:
            return
        crash_point("before-commit-record", self.number)
        record = commit_record_path(self.store, self.id)
        relative = [path[len(self.store.root) + 1:] for path in self.files]
        self.store.write_bytes(json.dumps({"commit": self.id, "files": relative}).encode("utf-8"), record)
        crash_point("after-commit-record", self.number)
        _finish(self.store, record, self.number)


def commit_record_path(store: Store, commit_id: str) -> str:
    return store.path(*COMMITS_DIR, f"{commit_id}.json")


def _finish(store: Store, record: str, number: int | None = None) -> int:
    """Rename a recorded commit's pending files to their final names, then drop the record. Safe to repeat
    after a kill at any step: a file already moved has no pending name left. Returns the files moved."""
    with store.filesystem.open_input_stream(record) as handle:
        files = json.loads(handle.read().decode("utf-8"))["files"]
    moved = 0
    for position, relative in enumerate(files):
        final = store.path(relative)
        pending = pending_path(final)
        if store.exists(pending):
            store.rename(pending, final)
            moved += 1
        if position == 0:  # one file moved, the others not yet
            crash_point("mid-publish", number)
    store.delete(record)
    return moved


def recover(root: Store) -> list[str]:
    """Bring an output left by a killed run back to its last commit; what was done, as sentences.

    A --full run's staging area is published if it was marked ready, else dropped; commits whose record
    exists are finished; pending and temporary files of unfinished commits and writes are deleted, and
    empty partition folders removed. Needs no human and is safe to repeat (a kill during recovery is
    recovered by the next run).
    """
    actions = recover_staged(root)
    records = sorted(info.path for info in root.files_under(*COMMITS_DIR) if info.base_name.endswith(".json")
                     and not info.base_name.startswith("."))
    for record in records:
        _finish(root, record)
        actions.append(f"finished commit {record.rsplit('/', 1)[1][:-len('.json')]}")
    removed = 0
    for table in _OUTPUT_TABLES:
        for info in root.files_under(table):
            name = info.base_name
            if name.startswith(".") and (name.endswith(PENDING_SUFFIX) or name.endswith(".tmp")):
                root.delete(info.path)
                removed += 1
    if removed:
        actions.append(f"removed {removed} unfinished files of an interrupted run")
    empty = _remove_empty_partitions(root)
    if empty:
        actions.append(f"removed {empty} empty partition folders")
    return actions


def _remove_empty_partitions(root: Store) -> int:
    if not root.is_local:
        return 0  # object stores have no empty folders
    removed = 0
    for table in (ARTICLES, QUARANTINE):
        folder = root.path(table)
        if not os.path.isdir(folder):
            continue
        for entry in os.scandir(folder):
            if entry.is_dir(follow_symlinks=False) and not os.listdir(entry.path):
                os.rmdir(entry.path)
                removed += 1
    return removed


# -- --full: a new dataset swapped in whole ---------------------------------------------------------
# A --full run writes a complete new dataset beside the old one and swaps it in at the end, so readers
# see the old dataset or the new one, never a mix with both copies of a document, and never no table:
# each table folder is exchanged with its staged copy in one step (Linux renameat2 RENAME_EXCHANGE;
# where the filesystem lacks it, two renames, between which the table is briefly absent).
STAGED = (ARTICLES, QUARANTINE, "state", "stories")
STAGING_PREFIX = ".full-"
_RETIRED_PREFIX = ".old-"  # left by earlier versions; dropped on sight
_READY = "_READY"
_GENERATION_PREFIX = ".generation-"  # inside each staged table: which --full run built it


def staging_store(root: Store, run_id: str) -> Store:
    """Where a --full run writes until it publishes."""
    if not root.is_local:
        raise ValueError("--full needs a local output folder (object stores cannot rename folders); "
                         "write the rebuild to a new prefix instead")
    return root.child(STAGING_PREFIX + run_id)


def publish_staged(root: Store, staging: Store) -> None:
    """Swap a finished --full run's tables in; the marker makes an interrupted swap resumable."""
    marker = _GENERATION_PREFIX + staging.root.rsplit("/", 1)[1][len(STAGING_PREFIX):]
    for name in STAGED:
        if staging.exists(staging.path(name)):
            staging.write_bytes(b"", staging.path(name, marker))
    root.write_bytes(b"", staging.path(_READY))
    crash_point("before-swap")
    _swap_in(root, staging)


def recover_staged(root: Store) -> list[str]:
    """Finish swaps that were marked ready, drop staging areas of --full runs that never finished."""
    actions: list[str] = []
    if not root.is_local:
        return actions
    for info in root.filesystem.get_file_info(pafs.FileSelector(root.root, allow_not_found=True)):
        if info.type != pafs.FileType.Directory or not root.exists(info.path):
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
    """Put each staged table in place of the current one; safe to repeat after a kill at any step.

    A table whose folder holds this run's generation marker is in place already. The old tables end
    up in the staging folder, deleted with it at the end; a table the rebuild left empty is retired too.
    """
    marker = _GENERATION_PREFIX + staging.root.rsplit("/", 1)[1][len(STAGING_PREFIX):]
    for name in STAGED:
        new, current = staging.path(name), root.path(name)
        if os.path.exists(os.path.join(current, marker)):
            continue
        if os.path.isdir(new):
            if os.path.isdir(current):
                _exchange(new, current, retired=staging.path(".retired-" + name))
            else:
                os.rename(new, current)
        elif os.path.isdir(current):
            os.rename(current, staging.path(".retired-" + name))
        _fsync_dir(root.root)
        crash_point("mid-swap")
    root.filesystem.delete_dir(staging.root)
    _fsync_dir(root.root)


_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def _exchange(new: str, current: str, *, retired: str) -> None:
    """Swap two folders in one step where the kernel can; else move ``current`` to ``retired``, then
    ``new`` to ``current``."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.renameat2(_AT_FDCWD, new.encode(), _AT_FDCWD, current.encode(), _RENAME_EXCHANGE) == 0:
            return
    except (OSError, AttributeError):
        pass
    os.rename(current, retired)
    os.rename(new, current)
