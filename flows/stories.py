"""Story assignment for a batch of article rows, the persisted story index and the ``stories`` table.

The logic lives in :mod:`transforms.stories`; this module loads and saves the index under
``DIR/state/stories`` and writes ``DIR/stories/stories.parquet`` from it.

The index is a generation of Parquet files (``articles-G``, ``ledger-G``, ``lines-G``) plus a ``CURRENT``
file naming G, and the deltas of the commits since: each commit adds the index rows of the articles it
stores, its exact copies and its new site lines as ``delta-ID-articles`` / ``-ledger`` / ``-lines``, in
the same atomic commit as the articles (:class:`flows.store.Commit`). So the index always holds exactly
the committed articles. The end of a run folds the deltas into a new generation: it writes the new
generation's files, then replaces ``CURRENT`` (which names the generation and the deltas it folded) by
rename, then deletes the folded deltas, so a kill at any point leaves a readable index, none of whose
deltas counts twice.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from flows.settings import crash_point
from flows.store import Commit, Store
from flows.story_files import CURRENT_FILE, DELTA_PREFIX
from flows.story_files import DELTA_PARTS as _DELTA_PARTS
from flows.story_files import current as _current, delta_ids as _delta_ids, folder as _folder
from flows.zipf import zipf_table
from transforms.stories import (UNDATED, CodedColumn, StoryDoc, StoryIndex, TextColumn, date_of,
                                segment_starts, signature_rows)

STORIES = "stories"

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
    """Give each article row a story (in place), flag near duplicates, split off exact duplicates; save the index."""
    index = load_index(store)
    batch = _assign(index, rows)
    save_index(store, index)
    return batch


class StorySession:
    """The story index of one run: loaded once (the last generation and the committed deltas since), updated
    per commit, each commit's changes published with the commit (:meth:`stage`), folded into a new
    generation at the end (:meth:`finish`): a full save rewrites the whole index (about 4 s at 100,000
    articles), a delta only the commit's rows."""

    def __init__(self, store: Store):
        self.store = store
        self.index, self.deltas = load_index_and_deltas(store)
        self._mark()

    def _mark(self) -> None:
        """What the index holds as committed: rows, exact copies, site lines (np.insert makes a new array)."""
        self._rows, self._copies, self._lines = len(self.index), len(self.index.ledger), self.index.site_lines

    def assign(self, rows: Sequence[dict]) -> StoryBatch:
        return _assign(self.index, rows)

    def stage(self, commit: Commit) -> list[str]:
        """Add what the index gained since the last commit (the rows of this commit's articles, its exact
        copies, new site lines) to ``commit``; call :meth:`committed` once it is published."""
        if len(self.index) == self._rows and len(self.index.ledger) == self._copies \
                and len(self.index.site_lines) == len(self._lines):
            return []
        folder = _folder(commit.store)
        arrays = self.index.to_arrays(copy=False)
        new_lines = _not_in_sorted(arrays["site_lines"], self._lines)
        ledger = {name: values[self._copies:] for name, values in arrays["ledger"].items()}
        tables = {
            "articles": _articles_table(arrays["articles"], len(self.index), start=self._rows),
            "ledger": pa.Table.from_pydict(ledger, schema=LEDGER_SCHEMA),
            "lines": pa.table({"key": pa.array(new_lines, type=pa.uint64())}, schema=LINES_SCHEMA),
        }
        return [commit.add(table, f"{folder}/{DELTA_PREFIX}{commit.id}-{name}.parquet") for name, table in tables.items()]

    def committed(self, commit: Commit) -> None:
        self._mark()
        self.deltas.append(commit.id)

    def finish(self) -> None:
        """The end of a run: write the stories table, then fold the deltas into a new generation (in this
        order: a kill in between leaves deltas, so the next run writes the table again)."""
        if self.deltas or not self.store.exists(self.store.path(STORIES, f"{STORIES}.parquet")):
            _write_stories(self.store, self.index)
        if self.deltas:
            save_index(self.store, self.index, folded=self.deltas)
            self.deltas = []

    # Kept for scripts written against the periodic-save session.
    def save(self) -> None:
        self.finish()

    def write_table(self) -> None:
        _write_stories(self.store, self.index)


def _not_in_sorted(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """The values of a sorted array not in another sorted array (a binary search each: no sort of either).

    >>> _not_in_sorted(np.array([1, 3, 5, 7], dtype=np.uint64), np.array([3, 7], dtype=np.uint64)).tolist()
    [1, 5]
    """
    if not len(known):
        return values
    at = np.minimum(np.searchsorted(known, values), len(known) - 1)
    return values[known[at] != values]


def _assign(index: StoryIndex, rows: Sequence[dict]) -> StoryBatch:
    """The rows split into those to write and the exact copies, their story fields filled in place: a row is
    built once, by the validate task, and not copied again on its way to the table."""
    docs = [story_doc(row) for row in rows]
    assignments = index.assign(docs, zipf=zipf_table)
    batch = StoryBatch()
    for row, found in zip(rows, assignments):
        row["story_id"] = found.story_id
        if found.exact_duplicate_of is not None:
            row["duplicate_of"] = found.exact_duplicate_of
            batch.dropped.append(row)
        else:
            row["near_duplicate_of"] = found.near_duplicate_of
            batch.rows.append(row)
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


# -- the index on disk (its files: flows.story_files) ---------------------------------------------
def load_index(store: Store) -> StoryIndex:
    """The index as committed: the last generation and every committed delta since, or an empty one."""
    return load_index_and_deltas(store)[0]


def load_index_and_deltas(store: Store) -> tuple[StoryIndex, list[str]]:
    """The committed index and the ids of the deltas it holds beyond its generation."""
    fs, folder = store.filesystem, _folder(store)
    generation, folded = _current(store)
    deltas = _delta_ids(store, folded)
    if generation is None and not deltas:
        return StoryIndex(), []

    def read(name: str, columns: list[str] | None = None) -> pa.Table:
        files = ([f"{folder}/{name}-{generation}.parquet"] if generation else []) + \
                [f"{folder}/{DELTA_PREFIX}{delta}-{name}.parquet" for delta in deltas]
        schema = {"articles": ARTICLES_INDEX_SCHEMA, "ledger": LEDGER_SCHEMA, "lines": LINES_SCHEMA}[name]
        tables = []
        for path in files:
            if fs.get_file_info(path).type != pafs.FileType.File:
                continue
            with fs.open_input_file(path) as handle:
                tables.append(pq.read_table(handle, columns=columns))
        if not tables:
            return (schema.empty_table().select(columns) if columns else schema.empty_table())
        return pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]

    # Column by column, straight into numpy: only one Arrow column is in memory at a time, and no
    # Python object per article (as lists of Python values, 187,000 articles took the process to 1.2 GB).
    articles = {}
    for name in ARTICLES_INDEX_SCHEMA.names:
        articles.update(_index_arrays(name, read("articles", [name]).column(name)))
        _release_arrow_memory()
    ledger = read("ledger").to_pydict()
    lines = np.unique(read("lines").column("key").to_numpy())
    index = StoryIndex.from_arrays({"articles": articles, "ledger": ledger, "site_lines": lines})
    _release_arrow_memory()
    return index, deltas


def _release_arrow_memory() -> None:
    """Hand the memory Arrow freed while reading or writing the index back to the system: its allocator
    otherwise keeps it (about 1.9 KB per indexed article after a load) for the rest of the run."""
    pa.default_memory_pool().release_unused()


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()  # date32 counts days from 1970-01-01


def _index_arrays(name: str, column: pa.ChunkedArray) -> dict:
    """One stored column of the articles index as the arrays StoryIndex.from_arrays takes, copied out of
    Arrow's buffers so that the column's Arrow memory goes as soon as it is converted."""
    if name in ("story_id", "near_duplicate_of", "site"):
        encoded = pc.dictionary_encode(column.combine_chunks())
        codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32)
        return {name: CodedColumn(codes, encoded.dictionary.to_pylist())}
    if name == "day":
        days = column.combine_chunks().view(pa.int32())
        ordinals = pc.fill_null(days, UNDATED - _EPOCH_ORDINAL).to_numpy(zero_copy_only=False) + _EPOCH_ORDINAL
        return {name: ordinals.astype(np.int32)}
    if name in ("term_slots", "term_weights"):
        lists = column.combine_chunks()
        if lists.null_count:
            lists = pc.fill_null(lists, pa.scalar([], lists.type))
        offsets = lists.offsets.to_numpy().astype(np.int64)
        values = lists.values.to_numpy(zero_copy_only=False)[offsets[0]: offsets[-1]].copy()
        return {name: values, "term_offsets": offsets - offsets[0]}
    text = _text_column(column.cast(pa.large_binary() if name == "signature" else pa.large_string()).combine_chunks())
    if name == "signature":
        return {name: signature_rows(text, len(text))}
    return {name: text}


def _text_column(array: pa.Array) -> TextColumn:
    """A large_string/large_binary Arrow array as a TextColumn (its bytes copied)."""
    _, offsets, data = array.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int64)[array.offset: array.offset + len(array) + 1]
    valid = array.is_valid().to_numpy(zero_copy_only=False) if array.null_count else None
    data = b"" if data is None else data.slice(int(offsets[0]), int(offsets[-1] - offsets[0])).to_pybytes()
    return TextColumn(offsets - offsets[0], data, valid)


_ROWS_PER_CHUNK = 1 << 20  # 32-bit Arrow offsets: a chunk's signatures (256 bytes each) stay far below 2 GiB


def save_index(store: Store, index: StoryIndex, *, folded: Sequence[str] = ()) -> str:
    """Write a new generation of the index, switch ``CURRENT`` to it atomically, drop older generations and
    the deltas it ``folded`` (the index must hold them)."""
    fs, folder = store.filesystem, _folder(store)
    fs.create_dir(folder, recursive=True)
    _, before = _current(store)
    # Without a list, the index was loaded with every committed delta (load_index), so it folds them all.
    folded = set(folded) if folded else set(_delta_ids(store, before))
    # Deltas the current generation folded that a kill kept from being deleted stay named in CURRENT until
    # they are gone: dropped from the list, they would count twice at the next load.
    folded |= before & set(_delta_ids(store, set()))
    folded = sorted(folded)
    generation = datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    arrays = index.to_arrays(copy=False)  # written before the index changes again
    tables = {
        "articles": _articles_table(arrays["articles"], len(index)),
        "ledger": pa.Table.from_pydict(arrays["ledger"], schema=LEDGER_SCHEMA),
        "lines": pa.table({"key": pa.array(arrays["site_lines"], type=pa.uint64())}, schema=LINES_SCHEMA),
    }
    for name, table in tables.items():
        _write_atomic(fs, f"{folder}/{name}-{generation}.parquet", table)
    crash_point("mid-story-save")
    store.write_bytes("\n".join([generation, *folded]).encode("utf-8") + b"\n", f"{folder}/{CURRENT_FILE}")
    crash_point("after-story-save")
    gone = {f"{DELTA_PREFIX}{delta}-{part}.parquet" for delta in folded for part in _DELTA_PARTS}
    for info in fs.get_file_info(pafs.FileSelector(folder)):
        name = info.base_name
        if name in gone or (name.endswith(".parquet") and not name.startswith(DELTA_PREFIX)
                            and not name.endswith(f"-{generation}.parquet")):
            fs.delete_file(info.path)
    del tables
    _release_arrow_memory()
    return generation


def _articles_table(a: dict, count: int, *, start: int = 0) -> pa.Table:
    """The articles index (its rows from ``start``) as an Arrow table of ARTICLES_INDEX_SCHEMA, built from
    the index's arrays."""
    chunks = []
    first = start
    for start in range(first, max(count, first + 1), _ROWS_PER_CHUNK):
        stop = min(start + _ROWS_PER_CHUNK, count)
        rows = slice(start, stop)
        day = a["day"][rows]
        signature = np.ascontiguousarray(a["signature"][rows], dtype="<u4")
        width = signature.shape[1] * 4
        columns = {
            "doc_id": _text_array(a["doc_id"], start, stop, pa.string()),
            "story_id": _coded_array(a["story_id"], rows),
            "near_duplicate_of": _coded_array(a["near_duplicate_of"], rows),
            "day": pa.array(day - _EPOCH_ORDINAL, type=pa.int32(), mask=day == UNDATED).view(pa.date32()),
            "site": _coded_array(a["site"], rows),
            "title": _text_array(a["title"], start, stop, pa.string()),
            "body_key": _text_array(a["body_key"], start, stop, pa.string()),
            "signature": pa.Array.from_buffers(pa.binary(), stop - start, [
                None, pa.py_buffer(np.arange(0, width * (stop - start) + 1, width, dtype=np.int32)),
                pa.py_buffer(signature)]),
        }
        offsets = a["term_offsets"][start: stop + 1]
        for name, kind in (("term_slots", pa.int32()), ("term_weights", pa.float32())):
            values = pa.array(a[name][offsets[0]: offsets[-1]], type=kind)
            columns[name] = pa.ListArray.from_arrays(pa.array(offsets - offsets[0], type=pa.int32()), values)
        chunks.append(pa.table(columns, schema=ARTICLES_INDEX_SCHEMA))
    return pa.concat_tables(chunks)


def _text_array(column: TextColumn, start: int, stop: int, kind: pa.DataType) -> pa.Array:
    offsets = column.offsets[start: stop + 1]
    data = column.data[int(offsets[0]): int(offsets[-1])]
    valid = None if column.valid is None else pa.array(column.valid[start:stop]).buffers()[1]
    return pa.Array.from_buffers(kind, stop - start, [valid, pa.py_buffer((offsets - offsets[0]).astype(np.int32)),
                                                      pa.py_buffer(data)])


def _coded_array(column: CodedColumn, rows: slice) -> pa.Array:
    codes = column.codes[rows]
    return pc.take(pa.array(column.names, type=pa.string()), pa.array(codes, type=pa.int32(), mask=codes < 0))


# Parquet row groups of the index files. With pyarrow's default (one group of up to 1M rows) the writer holds
# a whole column encoded in memory: a save of 60,000 articles took 120 MB on top of the index, growing with
# it. In groups of 16,384 rows it takes about 40 MB at any size, for a file 7% larger.
_ROW_GROUP_ROWS = 16_384
# Only these columns repeat values (story and site names); on signatures, terms and ids the writer would
# build a dictionary only to abandon it.
_DICTIONARY_COLUMNS = ("story_id", "near_duplicate_of", "site")


def _write_atomic(fs: pafs.FileSystem, final: str, table: pa.Table) -> None:
    folder, name = final.rsplit("/", 1)
    temporary = f"{folder}/.{name}-{uuid.uuid4().hex[:8]}.tmp"
    with fs.open_output_stream(temporary) as sink:
        pq.write_table(table, sink, compression="zstd", row_group_size=_ROW_GROUP_ROWS,
                       use_dictionary=[column for column in _DICTIONARY_COLUMNS if column in table.column_names])
    fs.move(temporary, final)


# -- the stories table --------------------------------------------------------------------------------
def story_rows(index: StoryIndex) -> list[dict]:
    """One row per story, aggregated from the index and its duplicate ledger."""
    a = index.to_arrays(copy=False)["articles"]
    story, names = a["story_id"].codes.astype(np.int64), a["story_id"].names
    count = len(names)
    days = a["day"].astype(np.int64)
    dated = days != UNDATED
    first = np.full(count, np.iinfo(np.int64).max)
    last = np.full(count, np.iinfo(np.int64).min)
    np.minimum.at(first, story[dated], days[dated])
    np.maximum.at(last, story[dated], days[dated])
    near = a["near_duplicate_of"].codes >= 0
    n_articles = np.bincount(story, minlength=count)
    n_near = np.bincount(story[near], minlength=count)
    site_names = a["site"].names
    sites: list[set] = [set() for _ in range(count)]
    site = a["site"].codes.astype(np.int64)
    for s, k in set(zip(story[site >= 0].tolist(), site[site >= 0].tolist())):
        if site_names[k]:
            sites[s].add(site_names[k])
    # The earliest original's title stands for the story (near duplicates often carry a rewritten one):
    # among titled originals, the earliest dated one (the first stored among equals), else the first.
    titles = [(t or "").strip() for t in a["title"].tolist()]
    titled = np.flatnonzero(np.array([bool(t) for t in titles], dtype=bool) & ~near)
    undated_last = np.where(dated[titled], days[titled], np.iinfo(np.int64).max)
    ranked = titled[np.lexsort((titled, undated_last, story[titled]))]
    chosen = ranked[segment_starts(story[ranked])]
    title = [None] * count
    for position in chosen.tolist():
        title[story[position]] = titles[position]
    extra = np.zeros(count, dtype=np.int64)
    number = {name: n for n, name in enumerate(names)}
    for entry in index.ledger:
        n = number.get(entry["story_id"])
        if n is not None:
            extra[n] += 1
            if entry["site"]:
                sites[n].add(entry["site"])
    rows = []
    for n in range(count):
        undated = first[n] == np.iinfo(np.int64).max
        ordered = sorted(sites[n])
        rows.append({"story_id": names[n], "first_seen": None if undated else date_of(int(first[n])),
                     "last_seen": None if undated else date_of(int(last[n])), "n_articles": int(n_articles[n]),
                     "sites": ordered, "n_near_duplicates": int(n_near[n]), "n_exact_duplicates": int(extra[n]),
                     "title": title[n], "n_sites": len(ordered)})
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
