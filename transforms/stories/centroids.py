"""Story centroids: per story the summed story terms of its originals (near duplicates add nothing), kept
to its ``CENTROID_TERMS`` strongest terms, in one pool of (slot, weight) runs; the stories an assignment
touches become dicts while it runs."""
from __future__ import annotations

import math
from itertools import chain

import numpy as np

from .articles import NO_ROOT, ArticleColumns
from .arrays import ranges, segment_starts
from .columns import Column
from .vectors import Vectors

CENTROID_TERMS = 96  # strongest terms kept per story centroid
# Story centroids kept as dicts between batches (the stories of the last days are the likely candidates
# of the next batch); beyond this many, all go back to the pool alone. About 8 KB each.
HOT_STORIES = 2048
NO_ORIGINAL, ORIGINALS = -1, -2  # a story's one original: none yet, or several


class CentroidStore:
    """The centroid of every story. A centroid is a run of the pool (start >= 0), or, for a story of one
    original, that article's own terms (start = -1 - its position): most stories have one original, and
    then the centroid is its terms exactly, so it is not stored twice."""

    def __init__(self, articles: ArticleColumns) -> None:
        self.articles = articles
        self.start = Column(np.int64)
        self.length = Column(np.int64)
        self.single = Column(np.int32)  # the story's one original; NO_ORIGINAL, or ORIGINALS for several
        self.norm = Column(np.float64)
        self.pool_slots = Column(np.int32)
        self.pool_weights = Column(np.float64)  # float64: centroid sums as Python floats add them
        self.pool_garbage = 0
        self.hot: dict[int, dict[int, float]] = {}  # story -> its centroid as a dict (a cache of the pool)
        self.dirty: set[int] = set()  # stories whose dict differs from the pool

    def add_story(self) -> None:
        """An empty centroid for the next story."""
        number = self.start.size
        self.start.append(0)
        self.length.append(0)
        self.norm.append(0.0)
        self.single.append(NO_ORIGINAL)
        self.hot[number] = {}

    def add_original(self, story: int, slots: list[int], weights: list[float], position: int) -> None:
        """Add the terms of the original at ``position`` to its story's centroid."""
        self.single.data[story] = position if self.single.data[story] == NO_ORIGINAL else ORIGINALS
        terms = self.terms(story)
        for slot, weight in zip(slots, weights):
            terms[slot] = terms.get(slot, 0.0) + weight
        if len(terms) > 2 * CENTROID_TERMS:  # keep the strongest: bounds memory and comparison cost
            terms = self.hot[story] = dict(sorted(terms.items(), key=lambda item: (-item[1], item[0]))[:CENTROID_TERMS])
        self.norm.data[story] = math.hypot(*terms.values())
        self.dirty.add(story)

    def terms(self, story: int) -> dict[int, float]:
        """The story's centroid (summed weights by slot) as a dict, kept until the next flush."""
        terms = self.hot.get(story)
        if terms is None:
            s, n = int(self.start.data[story]), int(self.length.data[story])
            if s >= 0:
                slots, weights = self.pool_slots.data[s: s + n], self.pool_weights.data[s: s + n]
            else:
                slots, weights = self.articles.terms(-1 - s)
            terms = self.hot[story] = dict(zip(slots.tolist(), weights.tolist()))
        return terms

    def similarity(self, story: int, slots: list[int], weights: list[float]) -> float:
        """Cosine of unit-length terms with the story's centroid."""
        norm = float(self.norm.data[story])
        if not norm:
            return 0.0
        terms = self.terms(story)
        # A plain sum: the C-level map chain it replaces saved about 3 us a call, 0.05 s of the 10 s of CPU that
        # bench_stories --docs 20000 takes (15,000 calls): nothing measurable.
        return sum(terms.get(slot, 0.0) * weight for slot, weight in zip(slots, weights)) / norm

    def cool(self) -> None:
        """Let go of the dicts once there are many (the pool holds them all)."""
        if len(self.hot) > HOT_STORIES:
            self.hot.clear()

    def flush(self) -> None:
        """Write the changed centroids back to the pool (at its end)."""
        if not self.dirty:
            return
        stories = np.array(sorted(self.dirty), dtype=np.int64)
        self.dirty.clear()
        single = self.single.data[stories]
        ones = stories[single >= 0]  # the centroid is the article's terms
        self.start.data[ones] = -1 - single[single >= 0].astype(np.int64)
        self.length.data[ones] = [len(self.hot[n]) for n in ones.tolist()]
        stories = stories[single < 0]
        dicts = [self.hot[n] for n in stories.tolist()]
        lengths = np.fromiter(map(len, dicts), dtype=np.int64, count=len(dicts))
        total = int(lengths.sum())
        pooled = self.start.data[stories] >= 0
        self.pool_garbage += int(self.length.data[stories][pooled].sum())
        self.start.data[stories] = self.pool_slots.size + np.cumsum(lengths) - lengths
        self.length.data[stories] = lengths
        self.pool_slots.extend(np.fromiter(chain.from_iterable(dicts), dtype=np.int32, count=total))
        self.pool_weights.extend(np.fromiter(chain.from_iterable(d.values() for d in dicts), dtype=np.float64,
                                             count=total))
        if self.pool_garbage > self.pool_slots.size // 2:
            self._compact_pool()

    def _compact_pool(self) -> None:
        pooled = np.flatnonzero(self.start.view >= 0)
        lengths = self.length.data[pooled]
        where = ranges(self.start.data[pooled], lengths)
        self.pool_slots = Column(np.int32, values=self.pool_slots.data[where])
        self.pool_weights = Column(np.float64, values=self.pool_weights.data[where])
        self.start.data[pooled] = np.cumsum(lengths) - lengths
        self.pool_garbage = 0

    def vectors(self, stories: np.ndarray) -> Vectors:
        """The centroids of ``stories`` as CSR vectors with unit-length float32 weights."""
        starts, lengths = self.start.data[stories], self.length.data[stories]
        offsets = np.r_[0, np.cumsum(lengths)]
        slots = np.empty(offsets[-1], dtype=np.int32)
        weights = np.empty(offsets[-1], dtype=np.float64)
        pooled = starts >= 0
        into = ranges(offsets[:-1][pooled], lengths[pooled])
        where = ranges(starts[pooled], lengths[pooled])
        slots[into], weights[into] = self.pool_slots.data[where], self.pool_weights.data[where]
        into = ranges(offsets[:-1][~pooled], lengths[~pooled])
        where = ranges(self.articles.term_offsets.data[-1 - starts[~pooled]], lengths[~pooled])
        slots[into], weights[into] = self.articles.term_slots.data[where], self.articles.term_weights.data[where]
        norms = self.norm.data[stories]
        norms = np.where(norms == 0, 1.0, norms).astype(np.float32)  # float32 / float32, as weights / norm did
        return offsets, slots, weights.astype(np.float32) / np.repeat(norms, lengths)

    # -- loading --------------------------------------------------------------------------------------
    def load(self, story: np.ndarray, count: int) -> None:
        """Each of the ``count`` stories' centroids from the stored articles (``story``: each one's story):
        its originals' terms summed in position order, as adding the articles one by one builds it."""
        originals = np.flatnonzero(self.articles.near.view == NO_ROOT)
        originals = originals[np.argsort(story[originals], kind="stable")]  # by story, then position
        offsets = self.articles.term_offsets.view
        firsts = segment_starts(story[originals])
        how_many = np.diff(np.r_[firsts, len(originals)])
        single = np.full(count, NO_ORIGINAL, dtype=np.int32)
        single[story[originals[firsts]]] = np.where(how_many == 1, originals[firsts], ORIGINALS)
        self.single = Column(np.int32, values=single)
        ones = originals[firsts[how_many == 1]]
        originals = originals[np.repeat(how_many > 1, how_many)]  # stories of several originals: summed
        start, length, norm, replay = self._load_pool(originals, story[originals], count)
        start[story[ones]], length[story[ones]] = -1 - ones, offsets[ones + 1] - offsets[ones]
        norm[story[ones]] = [math.hypot(*self.articles.terms(p)[1].tolist()) for p in ones.tolist()]
        self.length = Column(np.int64, values=length)
        self.start = Column(np.int64, values=start)
        self.norm = Column(np.float64, values=norm)
        for position in replay.tolist():  # stories pruned on the way: one article at a time, in order
            terms, values = self.articles.terms(position)
            self.add_original(int(story[position]), terms.tolist(), values.tolist(), position)
        self.flush()

    def _load_pool(self, originals: np.ndarray, owners: np.ndarray, count: int, *, chunk: int = 1 << 18
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Fill the pool with the summed centroids of the stories of several ``originals`` (sorted by
        story, ``owners``); returns every story's pool start, length and norm, and the originals (sorted)
        of the stories that outgrew the pruning bound, to be replayed one by one. Stories are summed about
        ``chunk`` terms at a time, so that the temporaries stay small next to the index."""
        offsets = self.articles.term_offsets.view
        lengths = offsets[originals + 1] - offsets[originals]
        ends = np.cumsum(lengths)
        length = np.zeros(count, dtype=np.int64)
        norm = np.zeros(count, dtype=np.float64)
        slots, weights, replay = [], [], []
        start = 0
        while start < len(originals):
            stop = max(int(np.searchsorted(ends, (ends[start - 1] if start else 0) + chunk, "right")), start + 1)
            if stop < len(originals):  # end on a story boundary
                stop = int(np.searchsorted(owners, owners[stop - 1], "right"))
            done = self._sum_terms(originals[start:stop], owners[start:stop], lengths[start:stop])
            stories, counts, norms, piece_slots, piece_weights, pruned = done
            length[stories], norm[stories] = counts, norms
            slots.append(piece_slots)
            weights.append(piece_weights)
            replay.append(originals[start:stop][np.isin(owners[start:stop], pruned)])
            start = stop
        self.pool_slots = Column(np.int32, values=np.concatenate(slots) if slots else None)
        self.pool_weights = Column(np.float64, values=np.concatenate(weights) if weights else None)
        members = np.sort(np.concatenate(replay)) if replay else np.zeros(0, dtype=np.int64)
        return np.cumsum(length) - length, length, norm, members

    def _sum_terms(self, positions: np.ndarray, owners: np.ndarray, lengths: np.ndarray) -> tuple:
        """Centroids of the stories ``owners`` (sorted) from their originals at ``positions`` (in position
        order within a story): per (story, slot) the weights added left to right, as ``terms[slot] += w``
        does, slots in order of first appearance. Stories whose distinct terms exceed the pruning bound
        come back apart (pruned), to be replayed."""
        where = ranges(self.articles.term_offsets.data[positions], lengths)
        base = int(owners[0])
        pair = (np.repeat(owners - base, lengths) << 32) | self.articles.term_slots.data[where].astype(np.int64)
        weights = self.articles.term_weights.data[where].astype(np.float64)
        order = np.argsort(pair, kind="stable")
        pair, weights = pair[order], weights[order]
        starts = segment_starts(pair)
        repeats = np.diff(np.r_[starts, len(pair)])
        sums = weights[starts]
        adding, k = np.flatnonzero(repeats > 1), 1
        while len(adding):
            sums[adding] += weights[starts[adding] + k]
            k += 1
            adding = adding[repeats[adding] > k]
        pair_story = pair[starts] >> 32
        arrange = np.lexsort((order[starts], pair_story))  # by story, then first appearance
        pair_story, sums = pair_story[arrange], sums[arrange]
        slots = (pair[starts][arrange] & 0xFFFFFFFF).astype(np.int32)
        stories, counts = np.unique(pair_story, return_counts=True)
        kept = counts <= 2 * CENTROID_TERMS  # never pruned: distinct terms only grow
        keep_terms = np.repeat(kept, counts)
        stories, counts, pruned = stories[kept] + base, counts[kept], stories[~kept] + base
        sums, slots = sums[keep_terms], slots[keep_terms]
        values, bounds = sums.tolist(), np.r_[0, np.cumsum(counts)].tolist()
        norms = [math.hypot(*values[s:e]) for s, e in zip(bounds[:-1], bounds[1:])]
        return stories, counts, norms, slots, sums, pruned
