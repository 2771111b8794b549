"""Story assignment for a batch of article rows, the persisted story index and the ``stories`` table.

The logic lives in :mod:`transforms.stories`; this module loads and saves the index under
``DIR/state/stories`` and writes ``DIR/stories/stories.parquet`` from it.

The index is a generation of Parquet files (``articles-G``, ``ledger-G``, ``lines-G``) plus a ``CURRENT``
file naming G. A save writes the new generation's files first and then replaces ``CURRENT`` by
rename, so a crash at any point leaves the previous generation readable.
"""
from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import numpy as np

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from flows.store import Store
from transforms.stories import HashedZipf, StoryDoc, StoryIndex, date_of

STATE_FOLDER = ("state", "stories")
CURRENT_FILE = "CURRENT"
STORIES = "stories"
DEFAULT_LANGUAGE = "en"  # frequency table for articles whose language is unknown or not covered
ZIPF_CACHE_VERSION = 1  # bump when the cached table layout changes

ARTICLES_INDEX_SCHEMA = pa.schema([
    pa.field("doc_id", pa.string(), nullable=False),
    pa.field("story_id", pa.string(), nullable=False),
    pa.field("near_duplicate_of", pa.string()),
    pa.field("day", pa.date32(), metadata={"doc": "publication date; null when unknown"}),
    pa.field("site", pa.string()),
    pa.field("title", pa.string()),
    pa.field("body_key", pa.string(), metadata={"doc": "hash of the normalized body; null for near duplicates"}),
    pa.field("signature", pa.binary(), metadata={"doc": "MinHash, little-endian uint32 per permutation"}),
    pa.field("term_slots", pa.list_(pa.int32())),
    pa.field("term_weights", pa.list_(pa.float32())),
])
LEDGER_SCHEMA = pa.schema([
    pa.field("doc_id", pa.string(), nullable=False, metadata={"doc": "the dropped exact duplicate"}),
    pa.field("duplicate_of", pa.string(), nullable=False),
    pa.field("story_id", pa.string()),
    pa.field("site", pa.string()),
    pa.field("url", pa.string()),
    pa.field("source_uri", pa.string()),
    pa.field("day", pa.date32()),
    pa.field("title", pa.string()),
])
LINES_SCHEMA = pa.schema([pa.field("key", pa.uint64(), nullable=False)])

STORIES_SCHEMA = pa.schema([
    pa.field("story_id", pa.string(), nullable=False),
    pa.field("first_seen", pa.date32(), metadata={"doc": "earliest publication date of its articles; null when none is dated"}),
    pa.field("last_seen", pa.date32()),
    pa.field("n_articles", pa.int32(), metadata={"doc": "stored articles, near duplicates included"}),
    pa.field("n_sites", pa.int32(), metadata={"doc": "distinct sites, exact duplicates' sites included"}),
    pa.field("n_near_duplicates", pa.int32()),
    pa.field("n_exact_duplicates", pa.int32(), metadata={"doc": "extra copies dropped, from the ledger"}),
    pa.field("title", pa.string(), metadata={"doc": "representative title: the earliest titled original"}),
    pa.field("sites", pa.list_(pa.string())),
])


@dataclass(frozen=True)
class StoryBatch:
    """``rows``: the rows to write, each with ``story_id`` and ``near_duplicate_of``; ``dropped``: exact
    duplicates, each row with ``story_id`` and ``duplicate_of`` (the doc_id it repeats), not to be written."""

    rows: list[dict] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)


def assign_stories(store: Store, rows: Sequence[dict]) -> StoryBatch:
    """Give each article row a story, flag near duplicates, split off exact duplicates; save the index."""
    index = load_index(store)
    batch = _assign(index, rows)
    save_index(store, index)
    return batch


class StorySession:
    """The story index of one run: loaded once, updated per batch, saved at most every ``save_every`` seconds
    and at the end, because a save rewrites the whole index (about 4 s at 100,000 articles).

    A run killed between saves loses only index entries, never articles: the articles it wrote keep their
    story_id, and an article indexed but not written gets the same answer when the next run meets it again.
    """

    def __init__(self, store: Store, *, save_every: float = 60.0):
        self.store, self.save_every = store, save_every
        self.index = load_index(store)
        self._saved_at = time.monotonic()
        self._dirty = False

    def assign(self, rows: Sequence[dict]) -> StoryBatch:
        batch = _assign(self.index, rows)
        self._dirty = self._dirty or bool(rows)
        if time.monotonic() - self._saved_at >= self.save_every:
            self.save()
        return batch

    def save(self) -> None:
        if self._dirty:
            save_index(self.store, self.index)
            self._dirty = False
        self._saved_at = time.monotonic()

    def write_table(self) -> None:
        _write_stories(self.store, self.index)


def _assign(index: StoryIndex, rows: Sequence[dict]) -> StoryBatch:
    docs = [story_doc(row) for row in rows]
    assignments = index.assign(docs, zipf=zipf_table)
    batch = StoryBatch()
    for row, found in zip(rows, assignments):
        if found.exact_duplicate_of is not None:
            batch.dropped.append({**row, "story_id": found.story_id, "duplicate_of": found.exact_duplicate_of})
        else:
            batch.rows.append({**row, "story_id": found.story_id, "near_duplicate_of": found.near_duplicate_of})
    return batch


def story_doc(row: dict) -> StoryDoc:
    """The fields of an articles-table row that story assignment reads."""
    day = row.get("published")
    return StoryDoc(
        doc_id=row["doc_id"], body=row.get("body_normalized") or row.get("body") or "", day=day,
        site=row.get("site"), title=row.get("title"), language=row.get("language"),
        entities=tuple((e["name"], int(e["mentions"])) for e in row.get("entities") or ()),
        source_uri=row.get("source_uri") or "", url=row.get("url"),
    )


@lru_cache(maxsize=64)
def zipf_table(language: str | None) -> HashedZipf:
    """Zipf frequencies of the language's words from the ``wordfreq`` package (shipped data, no network),
    for the languages it covers, else for ``DEFAULT_LANGUAGE``."""
    code = (language or DEFAULT_LANGUAGE).split("-")[0].lower()
    return _zipf(code) or _zipf(DEFAULT_LANGUAGE)


@lru_cache(maxsize=16)
def _zipf(code: str) -> HashedZipf | None:
    """The table of one wordfreq language (None if it has none), from the user's cache when built there
    before: reading wordfreq's own file and hashing its words costs 0.1-0.8 s per language, loading the
    cached arrays about a millisecond."""
    from importlib.metadata import version

    path = zipf_cache_folder() / f"{code}-wordfreq-{version('wordfreq')}-v{ZIPF_CACHE_VERSION}.npz"
    try:
        with np.load(path) as stored:
            return HashedZipf(stored["hashes"], stored["centizipf"])
    except (OSError, KeyError, ValueError):
        pass
    import wordfreq

    if code not in wordfreq.available_languages():
        return None
    table = HashedZipf.from_bins(wordfreq.get_frequency_list(code))
    try:  # a cache, not a requirement: a read-only home just means building the table every run
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}-{uuid.uuid4().hex[:8]}.tmp.npz")
        np.savez(temporary, hashes=table.hashes, centizipf=table.centizipf)
        os.replace(temporary, path)
    except OSError:
        pass
    return table


def zipf_cache_folder() -> Path:
    """Where built frequency tables are kept: ``$NEWSCLEAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/newsclean``,
    else ``~/.cache/newsclean``; tables go in its ``zipf`` folder."""
    root = os.environ.get("NEWSCLEAN_CACHE_DIR")
    if not root:
        root = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
                            "newsclean")
    return Path(root) / "zipf"


# -- the index on disk --------------------------------------------------------------------------------
def _folder(store: Store) -> str:
    return store.path(*STATE_FOLDER)


def load_index(store: Store) -> StoryIndex:
    """The index as last saved, or an empty one."""
    fs, folder = store.filesystem, _folder(store)
    current = f"{folder}/{CURRENT_FILE}"
    if fs.get_file_info(current).type != pafs.FileType.File:
        return StoryIndex()
    with fs.open_input_stream(current) as handle:
        generation = handle.read().decode("utf-8").strip()
    columns = {}
    for name in ("articles", "ledger", "lines"):
        with fs.open_input_file(f"{folder}/{name}-{generation}.parquet") as handle:
            table = pq.read_table(handle)
        # The term lists become numpy views of one array each: as Python lists of numbers, the terms of
        # 187,000 articles took the process to 1.2 GB while loading.
        columns[name] = {column: (_list_arrays(table.column(column)) if column in _TERM_COLUMNS
                                  else table.column(column).to_pylist()) for column in table.column_names}
    columns["site_lines"] = columns.pop("lines")
    return StoryIndex.from_columns(columns)


_TERM_COLUMNS = ("term_slots", "term_weights")


def _list_arrays(column: pa.ChunkedArray) -> list[np.ndarray]:
    """One numpy array per row of an Arrow list column (views of the column's values)."""
    column = column.combine_chunks()
    values = pc.list_flatten(column).to_numpy(zero_copy_only=False)
    lengths = pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False)
    return np.split(values, np.cumsum(lengths)[:-1]) if len(column) else []


def save_index(store: Store, index: StoryIndex) -> str:
    """Write a new generation of the index, switch ``CURRENT`` to it atomically, drop older generations."""
    fs, folder = store.filesystem, _folder(store)
    fs.create_dir(folder, recursive=True)
    generation = datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    columns = index.to_columns()
    tables = {
        "articles": pa.Table.from_pydict(columns["articles"], schema=ARTICLES_INDEX_SCHEMA),
        "ledger": pa.Table.from_pydict(columns["ledger"], schema=LEDGER_SCHEMA),
        "lines": pa.Table.from_pydict(columns["site_lines"], schema=LINES_SCHEMA),
    }
    for name, table in tables.items():
        _write_atomic(fs, f"{folder}/{name}-{generation}.parquet", table)
    temporary = f"{folder}/.{CURRENT_FILE}-{generation}.tmp"
    with fs.open_output_stream(temporary) as sink:
        sink.write(generation.encode("utf-8"))
    fs.move(temporary, f"{folder}/{CURRENT_FILE}")
    for info in fs.get_file_info(pafs.FileSelector(folder)):
        if info.base_name.endswith(".parquet") and not info.base_name.endswith(f"-{generation}.parquet"):
            fs.delete_file(info.path)
    return generation


def _write_atomic(fs: pafs.FileSystem, final: str, table: pa.Table) -> None:
    folder, name = final.rsplit("/", 1)
    temporary = f"{folder}/.{name}-{uuid.uuid4().hex[:8]}.tmp"
    with fs.open_output_stream(temporary) as sink:
        pq.write_table(table, sink, compression="zstd")
    fs.move(temporary, final)


# -- the stories table --------------------------------------------------------------------------------
def story_rows(index: StoryIndex) -> list[dict]:
    """One row per story, aggregated from the index and its duplicate ledger."""
    stories: dict[str, dict] = {}
    for position, story in enumerate(index.story_ids):
        day = date_of(index.days[position])
        entry = stories.setdefault(story, {"story_id": story, "first_seen": day, "last_seen": day, "n_articles": 0,
                                           "sites": set(), "n_near_duplicates": 0, "n_exact_duplicates": 0,
                                           "title": None, "_title_day": None})
        if day is not None:
            entry["first_seen"] = min(entry["first_seen"] or day, day)
            entry["last_seen"] = max(entry["last_seen"] or day, day)
        entry["n_articles"] += 1
        if index.sites[position]:
            entry["sites"].add(index.sites[position])
        if index.near_duplicate_of[position]:
            entry["n_near_duplicates"] += 1
        title = (index.titles[position] or "").strip()
        # The earliest original's title stands for the story; near duplicates often carry a rewritten one.
        if title and not index.near_duplicate_of[position] and (entry["title"] is None or (day is not None and (entry["_title_day"] is None or day < entry["_title_day"]))):
            entry["title"], entry["_title_day"] = title, day
    for extra in index.ledger:
        entry = stories.get(extra["story_id"])
        if entry is not None:
            entry["n_exact_duplicates"] += 1
            if extra["site"]:
                entry["sites"].add(extra["site"])
    rows = []
    for entry in stories.values():
        entry.pop("_title_day")
        entry["sites"] = sorted(entry["sites"])
        entry["n_sites"] = len(entry["sites"])
        rows.append(entry)
    return sorted(rows, key=lambda r: (r["first_seen"] is None, r["first_seen"] or date.min, r["story_id"]))


def write_stories_table(store: Store) -> str:
    """(Re)write ``DIR/stories/stories.parquet`` from the index; the file is replaced whole or not at all."""
    return _write_stories(store, load_index(store))


def _write_stories(store: Store, index: StoryIndex) -> str:
    table = pa.Table.from_pylist(story_rows(index), schema=STORIES_SCHEMA)
    folder = store.path(STORIES)
    store.filesystem.create_dir(folder, recursive=True)
    final = f"{folder}/{STORIES}.parquet"
    _write_atomic(store.filesystem, final, table)
    return final
