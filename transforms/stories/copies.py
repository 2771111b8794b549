"""Exact copies: the body key of every stored original, and the record of the copies that were not stored."""
from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

import numpy as np

from .arrays import sorted_merge
from .columns import TextColumn, held_bytes, hex_keys
from .model import StoryDoc, date_of, day_number

LEDGER_FIELDS = ("doc_id", "duplicate_of", "story_id", "site", "url", "source_uri", "day", "title")


class ExactCopies:
    """Body key -> position of the first stored article with it (keys sorted), and ``ledger``: one entry
    per exact copy (the extra sources), in arrival order."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.uint64)
        self.positions = np.zeros(0, dtype=np.int32)
        self.ledger: list[dict] = []

    @property
    def nbytes(self) -> int:
        return held_bytes(self) + sum(sys.getsizeof(v) for entry in self.ledger for v in entry.values())

    def positions_of(self, keys: np.ndarray) -> np.ndarray:
        """The stored position of each body key, -1 where none."""
        if not len(self.keys):
            return np.full(len(keys), -1, dtype=np.int64)
        where = np.minimum(np.searchsorted(self.keys, keys, "right") - 1, len(self.keys) - 1)
        found = (where >= 0) & (self.keys[np.maximum(where, 0)] == keys)
        return np.where(found, self.positions[np.maximum(where, 0)], -1)

    def add(self, keys: np.ndarray, start: int) -> None:
        """The body keys of the articles stored from position ``start`` on."""
        positions = np.arange(start, start + len(keys), dtype=np.int32)
        self.keys, self.positions = sorted_merge(self.keys, self.positions, keys, positions)

    def record(self, doc: StoryDoc, original: str, story: str) -> None:
        """Note ``doc`` as an exact copy of the article ``original``."""
        self.ledger.append({"doc_id": doc.doc_id, "duplicate_of": original, "story_id": story, "site": doc.site,
                            "url": doc.url, "source_uri": doc.source_uri, "day": day_number(doc.day),
                            "title": doc.title})

    def key_column(self, count: int) -> TextColumn:
        """The body key of each of ``count`` stored articles as 16 hex digits; null for an article whose key
        a later article holds."""
        body = np.zeros(count, dtype=np.uint64)
        has_body = np.zeros(count, dtype=bool)
        body[self.positions], has_body[self.positions] = self.keys, True
        hex_text = body.astype(">u8").tobytes().hex().encode("ascii")
        return TextColumn(np.arange(0, 16 * count + 1, 16, dtype=np.int64), hex_text,
                          None if has_body.all() else has_body)

    def ledger_columns(self) -> dict[str, list]:
        columns = {name: [entry[name] for entry in self.ledger] for name in LEDGER_FIELDS}
        columns["day"] = [date_of(d) for d in columns["day"]]
        return columns

    def load(self, keys: TextColumn, ledger: Mapping[str, Sequence]) -> None:
        """From :meth:`key_column` and :meth:`ledger_columns` (the last article with a key keeps it, as a
        dict would)."""
        count = len(keys)
        has = np.ones(count, dtype=bool) if keys.valid is None else np.asarray(keys.valid, dtype=bool).copy()
        has &= np.diff(keys.offsets) > 0
        values = hex_keys(keys, has)
        rows = np.flatnonzero(has)[::-1]
        distinct, first = np.unique(values[rows], return_index=True)
        self.keys, self.positions = distinct, rows[first].astype(np.int32)
        fields = list(ledger)
        for row in zip(*(ledger[f] for f in fields)):
            entry = dict(zip(fields, row))
            entry["day"] = day_number(entry["day"])
            self.ledger.append(entry)
