"""The input ledger under DIR/state/ledger: every input a committed batch processed.

One row per input file: path, size, mtime, SHA-256 of its bytes, documents read, and the run and batch
that committed it. A run skips a file whose path, size and mtime match its row without opening it
(a stat, not a hash: 100,000 unchanged files cost a directory walk); a file whose stat changed but
whose bytes hash the same is recorded again and not reprocessed.

Each commit adds one small Parquet segment, published together with the commit's data files (see
:class:`flows.store.Commit`); the end of a run folds the segments into one file. A killed run leaves
every commit whole or absent: an input is in the ledger exactly when what it gave is stored.
"""
from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from flows.sources import InputFile, display_path
from flows.store import Commit, Store

LEDGER_DIR = ("state", "ledger")
LEDGER_SCHEMA = pa.schema([
    pa.field("path", pa.string(), nullable=False),
    pa.field("size", pa.int64()),
    pa.field("mtime_ns", pa.int64()),
    pa.field("sha256", pa.string()),
    pa.field("documents", pa.int32()),
    pa.field("run_id", pa.string()),
    pa.field("batch", pa.int32()),
])


@dataclass(frozen=True)
class LedgerRow:
    path: str
    size: int
    mtime_ns: int
    sha256: str
    documents: int


def ledger_key(item: InputFile, cwd: str | None = None) -> str:
    """The absolute path of an input, so runs from another working directory still match.

    Plain string joining, not ``Path.absolute()``: this runs once per input on every run (100,000 calls).
    """
    path = display_path(item.location)  # valid Unicode, as the Parquet column needs
    return path if os.path.isabs(path) else os.path.join(cwd or os.getcwd(), path)


def file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


# A ledger entry packed into one bytes object: size and mtime_ns (little-endian int64), then the SHA-256
# digest (32 bytes; none for an input that could not be read). As a tuple of two ints and a hex string, the
# ledger of 200,000 inputs took 81 MB for the whole run; packed, 48 MB (most of it the paths).
_STAT = struct.Struct("<qq")


def _entry(size: int, mtime_ns: int, sha256: str) -> bytes:
    """
    >>> _entry(3, 7, "ab" * 32)[16:].hex() == "ab" * 32
    True
    """
    return _STAT.pack(size, mtime_ns) + bytes.fromhex(sha256)


@dataclass
class Ledger:
    """The latest row per input path, plus the files it was read from."""

    entries: dict[str, bytes] = field(default_factory=dict)  # path -> _entry(size, mtime_ns, sha256)
    files: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, store: Store) -> "Ledger":
        folder = store.path(*LEDGER_DIR)
        infos = store.filesystem.get_file_info(pafs.FileSelector(folder, allow_not_found=True))
        files = sorted(i.path for i in infos if i.type == pafs.FileType.File and i.base_name.endswith(".parquet")
                       and not i.base_name.startswith("."))
        ledger = cls(files=files)
        if not files:
            return ledger
        tables = [_read_ledger_file(store, path) for path in files]
        table = pa.concat_tables(tables).sort_by([("run_id", "ascending"), ("batch", "ascending")])
        # Later rows win: sorted by commit order, a dict keeps the last value for each path.
        ledger.entries = dict(zip(table.column("path").to_pylist(),
                                  map(_entry, table.column("size").to_pylist(), table.column("mtime_ns").to_pylist(),
                                      table.column("sha256").to_pylist())))
        return ledger

    def __len__(self) -> int:
        return len(self.entries)

    def unchanged(self, item: InputFile, cwd: str | None = None) -> bool:
        """Same path, size and mtime as when committed: skip without reading."""
        entry = self.entries.get(ledger_key(item, cwd))
        return entry is not None and entry[:_STAT.size] == _STAT.pack(item.size, item.mtime_ns)

    def same_content(self, key: str, sha256: str) -> bool:
        entry = self.entries.get(key)
        return entry is not None and entry[_STAT.size:] == bytes.fromhex(sha256)

    def commit(self, store: Store, rows: Sequence[LedgerRow], *, run_id: str, batch: int) -> str | None:
        """Write one batch's rows as an immutable segment in a commit of its own (see :meth:`stage`)."""
        commit = store.begin(f"{run_id}-{batch:05d}")
        path = self.stage(commit, rows, run_id=run_id, batch=batch)
        commit.publish()
        self.committed(rows, path)
        return path

    def stage(self, commit: Commit, rows: Sequence[LedgerRow], *, run_id: str, batch: int) -> str | None:
        """Add one commit's rows to ``commit`` as an immutable segment; call :meth:`committed` once published."""
        if not rows:
            return None
        table = _table(rows, run_id=run_id, batch=batch)
        return commit.add(table, commit.store.path(*LEDGER_DIR, f"segment-{run_id}-{batch:05d}.parquet"))

    def committed(self, rows: Sequence[LedgerRow], path: str | None) -> None:
        """What a published commit added: skip its inputs from now on."""
        if path is None:
            return
        self.files.append(path)
        for row in rows:
            self.entries[row.path] = _entry(row.size, row.mtime_ns, row.sha256)

    def compact(self, store: Store, *, run_id: str) -> None:
        """Fold all segments into one file (written first, so a crash in between only leaves repeats)."""
        if len(self.files) <= 1:
            return
        tables = [_read_ledger_file(store, path) for path in self.files]
        table = pa.concat_tables(tables).sort_by([("run_id", "ascending"), ("batch", "ascending")])
        latest: dict[str, int] = {path: index for index, path in enumerate(table.column("path").to_pylist())}
        table = table.take(sorted(latest.values()))
        path = store.path(*LEDGER_DIR, f"base-{run_id}.parquet")
        store.write_table(table, path)
        for old in self.files:
            if old != path:
                store.delete(old)
        self.files = [path]


def _read_ledger_file(store: Store, path: str) -> pa.Table:
    """One ledger file as LEDGER_SCHEMA. Read as one Parquet file, not with ``pq.read_table``, which goes
    through pyarrow.dataset and so imports pandas: 0.3-0.7 s of a rerun with nothing new (python -X importtime)."""
    with store.filesystem.open_input_file(path) as handle:
        table = pq.ParquetFile(handle).read(columns=LEDGER_SCHEMA.names)
    return table if table.schema.equals(LEDGER_SCHEMA) else table.cast(LEDGER_SCHEMA)


def _table(rows: Iterable[LedgerRow], *, run_id: str, batch: int) -> pa.Table:
    rows = list(rows)
    return pa.table({
        "path": [r.path for r in rows], "size": [r.size for r in rows], "mtime_ns": [r.mtime_ns for r in rows],
        "sha256": [r.sha256 for r in rows], "documents": [r.documents for r in rows],
        "run_id": [run_id] * len(rows), "batch": [batch] * len(rows),
    }, schema=LEDGER_SCHEMA)
