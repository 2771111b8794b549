"""The stored articles as columns: per article its doc_id, title, day, site, story number, original (for a
near duplicate), MinHash signature and story terms, with a lookup of positions by doc_id."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .arrays import sorted_merge
from .columns import CodedColumn, Column, Strings
from .model import StoryDoc
from .near import MINHASH_PERMUTATIONS
from .vectors import Vectors, csr_rows

# An article's original (``near``): NO_ROOT for an original, its position (>= 0) for a stored one, or
# -2 - k for foreign_roots[k], an original named by a loaded index but not stored in it.
NO_ROOT = -1


class ArticleColumns:
    """Columnar, so that an article costs bytes rather than Python objects: per article one row of a 2-D
    uint32 signature array, its terms in one int32 and one float32 array (CSR offsets), numbers for its
    story, site and original, its doc_id and title in one UTF-8 buffer each."""

    def __init__(self) -> None:
        self.doc_ids = Strings()
        self.titles = Strings()
        self.story = Column(np.int32)  # story number per article
        self.near = Column(np.int32)  # NO_ROOT, the original's position, or -2 - k for foreign_roots[k]
        self.days = Column(np.int32)
        self.site = Column(np.int32)  # site number, -1 for none
        self.signatures = Column(np.uint32, MINHASH_PERMUTATIONS)
        self.term_offsets = Column(np.int64, values=np.zeros(1, dtype=np.int64))
        self.term_slots = Column(np.int32)
        self.term_weights = Column(np.float32)
        self.foreign_roots: list[str] = []
        self.site_names: list[str | None] = []
        self.site_numbers: dict[str | None, int] = {}
        # doc_id -> position: 64-bit keys sorted, with positions. The keys are Python's str hash (this process only).
        self.doc_keys = np.zeros(0, dtype=np.uint64)
        self.doc_positions = np.zeros(0, dtype=np.int32)

    def __len__(self) -> int:
        return self.story.size

    def doc_id(self, position: int) -> str:
        return self.doc_ids[position]

    def terms(self, position: int) -> tuple[np.ndarray, np.ndarray]:
        """The story terms of the article at ``position``: slots, weights."""
        s, e = self.term_offsets.data[position], self.term_offsets.data[position + 1]
        return self.term_slots.data[s:e], self.term_weights.data[s:e]

    def root_name(self, code: int) -> str | None:
        """The doc_id an article's ``near`` code names (None for an original)."""
        if code == NO_ROOT:
            return None
        return self.doc_id(code) if code >= 0 else self.foreign_roots[-2 - code]

    def near_column(self) -> CodedColumn:
        """Every article's original as a :class:`CodedColumn` of doc_ids."""
        near = self.near.view
        roots = np.unique(near[near >= 0])
        names = self.doc_ids.tolist() if len(roots) > len(self) // 8 else None
        root_names = [names[p] if names is not None else self.doc_id(p) for p in roots.tolist()]
        codes = np.full(len(near), -1, dtype=np.int32)
        codes[near >= 0] = np.searchsorted(roots, near[near >= 0])
        foreign = near <= -2
        codes[foreign] = len(roots) + (-2 - near[foreign])
        return CodedColumn(codes, root_names + self.foreign_roots)

    def positions_of(self, doc_ids: Sequence[str]) -> np.ndarray:
        """Stored position of each doc_id (the later one, were it stored twice), -1 where none."""
        out = np.full(len(doc_ids), -1, dtype=np.int64)
        if not len(self.doc_keys) or not len(doc_ids):
            return out
        keys = np.fromiter(map(hash, doc_ids), dtype=np.int64, count=len(doc_ids)).view(np.uint64)
        left = np.searchsorted(self.doc_keys, keys, "left")
        right = np.searchsorted(self.doc_keys, keys, "right")
        for i in np.flatnonzero(right > left).tolist():
            for at in range(int(right[i]) - 1, int(left[i]) - 1, -1):  # equal keys: positions ascending
                position = int(self.doc_positions[at])
                if self.doc_id(position) == doc_ids[i]:
                    out[i] = position
                    break
        return out

    def index_doc_ids(self, start: int, doc_ids: Sequence[str]) -> None:
        """Add the doc_ids of the articles from ``start`` on to the lookup."""
        keys = np.fromiter(map(hash, doc_ids), dtype=np.int64, count=len(doc_ids)).view(np.uint64)
        positions = np.arange(start, start + len(doc_ids), dtype=np.int32)
        self.doc_keys, self.doc_positions = sorted_merge(self.doc_keys, self.doc_positions, keys, positions)

    def site_number(self, site: str | None) -> int:
        """The number of a site, numbered on first sight; -1 for none."""
        number = self.site_numbers.get(site)
        if number is None:
            if site is None:
                return -1
            number = self.site_numbers[site] = len(self.site_names)
            self.site_names.append(site)
        return number

    def append(self, docs: Sequence[StoryDoc], order: np.ndarray, days: np.ndarray, signatures: np.ndarray,
               vectors: Vectors) -> None:
        """Store the articles ``order`` of ``docs`` at the next positions; their stories and originals
        are set as they are placed."""
        chosen = [docs[i] for i in order.tolist()]
        self.doc_ids.extend([doc.doc_id for doc in chosen])
        self.titles.extend([doc.title for doc in chosen])
        self.days.extend(days[order])
        self.site.extend(np.fromiter((self.site_number(doc.site) for doc in chosen), dtype=np.int32,
                                     count=len(chosen)))
        self.signatures.extend(signatures[order])
        offsets, slots, weights = csr_rows(vectors, order)
        self.term_offsets.extend(offsets[1:] + self.term_offsets.data[self.term_offsets.size - 1])
        self.term_slots.extend(slots)
        self.term_weights.extend(weights)
        self.near.extend(np.full(len(order), NO_ROOT, dtype=np.int32))
        self.story.extend(np.full(len(order), -1, dtype=np.int32))
