"""The stories: their names (looked up by name), the first and last day of each, and the sites each has
published on."""
from __future__ import annotations

import numpy as np

from .arrays import U64, sorted_contains, sorted_merge
from .columns import CodedColumn, Column, Strings, TextColumn
from .model import UNDATED


class StoryTable:
    """Stories by number, in order of creation: name, (first, last) day, and a sorted set of
    story << 32 | site pairs."""

    def __init__(self) -> None:
        self.names = Strings()
        self.keys = np.zeros(0, dtype=np.uint64)  # sorted str hashes of the names, with numbers
        self.key_numbers = np.zeros(0, dtype=np.int32)
        self.new: dict[str, int] = {}  # stories named since the last index_names()
        self.days = Column(np.int64, 2)
        self.sites = np.zeros(0, dtype=np.uint64)  # sorted story << 32 | site
        self.new_sites: set[int] = set()

    def __len__(self) -> int:
        return len(self.names)

    def find(self, name: str) -> int | None:
        """The number of the story ``name``, or None."""
        number = self.new.get(name)
        return number if number is not None else self._indexed(name)

    def add(self, name: str, day: int) -> int:
        """A new story's number."""
        number = self.new[name] = len(self.names)
        self.names.append(name)
        self.days.append((day, day))
        return number

    def _indexed(self, name: str) -> int | None:
        """The number of the story ``name`` among those indexed by index_names(), or None."""
        key = hash(name) & 0xFFFFFFFFFFFFFFFF
        at = int(self.keys.searchsorted(key))
        while at < len(self.keys) and int(self.keys[at]) == key:
            if self.names[int(self.key_numbers[at])] == name:
                return int(self.key_numbers[at])
            at += 1
        return None

    def index_names(self) -> None:
        """Move the names added since the last call into the sorted lookup."""
        if self.new:
            keys = np.fromiter(map(hash, self.new), dtype=np.int64, count=len(self.new))
            numbers = np.fromiter(self.new.values(), dtype=np.int32, count=len(self.new))
            self.keys, self.key_numbers = sorted_merge(self.keys, self.key_numbers, keys.view(np.uint64), numbers)
            self.new.clear()

    def widen(self, story: int, day: int) -> None:
        """Stretch the story's days to cover ``day`` (UNDATED changes nothing)."""
        if day != UNDATED:
            first, last = self.days.data[story].tolist()
            if first == UNDATED:
                self.days.data[story] = (day, day)
            elif day < first or day > last:
                self.days.data[story] = (min(first, day), max(last, day))

    def add_site(self, story: int, site: int) -> None:
        self.new_sites.add(story << 32 | site)

    def has_site(self, story: int, site: int) -> bool:
        key = story << 32 | site
        if key in self.new_sites:
            return True
        at = int(self.sites.searchsorted(key))
        return at < len(self.sites) and int(self.sites[at]) == key

    def flush_sites(self) -> None:
        """Merge the new (story, site) pairs into the sorted set."""
        if self.new_sites:
            new = np.fromiter(self.new_sites, dtype=np.uint64, count=len(self.new_sites))
            new = np.sort(new[~sorted_contains(self.sites, new)])
            self.sites = np.insert(self.sites, np.searchsorted(self.sites, new), new)
            self.new_sites.clear()

    def load(self, stories: CodedColumn, days: np.ndarray, site: np.ndarray, named_site: np.ndarray) -> np.ndarray:
        """The stories of stored articles (``stories``, with their ``days`` and ``site`` numbers; ``named_site``
        says which site numbers count), numbered by first appearance, as adding the articles one by one
        would number them; returns each article's story number."""
        codes = np.asarray(stories.codes, dtype=np.int64)
        used, first = np.unique(codes, return_index=True)
        order = np.argsort(first, kind="stable")
        renumber = np.zeros(max(len(stories.names), 1), dtype=np.int64)
        renumber[used[order]] = np.arange(len(used))
        story = renumber[codes] if len(codes) else codes
        names = [stories.names[c] for c in used[order].tolist()]
        self.names = Strings(TextColumn.of(names))
        self.new = dict(zip(names, range(len(names))))
        self.index_names()
        count = len(self.names)
        days = days.astype(np.int64)
        dated = days != UNDATED
        first_day = np.full(count, np.iinfo(np.int64).max)
        last_day = np.full(count, np.iinfo(np.int64).min)
        np.minimum.at(first_day, story[dated], days[dated])
        np.maximum.at(last_day, story[dated], days[dated])
        undated = first_day == np.iinfo(np.int64).max
        first_day[undated], last_day[undated] = UNDATED, UNDATED
        self.days = Column(np.int64, values=np.stack([first_day, last_day], axis=1).reshape(count, 2))
        site = site.astype(np.int64)
        truthy = named_site[site]
        self.sites = np.unique((story[truthy].astype(np.uint64) << U64(32)) | site[truthy].astype(np.uint64))
        return story
