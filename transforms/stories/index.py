"""The story index: every stored article's story, MinHash signature and story terms; story centroids;
the record of exact copies; site lines. :meth:`StoryIndex.assign` answers three questions per article,
cheapest first: exact copy, near duplicate, story."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from . import storage
from .articles import NO_ROOT, ArticleColumns
from .centroids import CentroidStore
from .columns import held_bytes
from .copies import ExactCopies
from .model import UNDATED, Assignment, StoryDoc, ZipfTables, day_number, new_story_id
from .near import BandTable, shingle_signatures
from .site_lines import SiteLines
from .story_table import StoryTable
from .tokens import Tokens
from .vectors import Vectors, at_least, csr_rows, matrices, story_vectors
from .words import WordCodes

# Cosine similarity between an article and a story's centroid from which the article joins the story
# (measured on labelled bench pairs, see scripts/eval_stories.py).
STORY_SIMILARITY = 0.30
# An article joins a story that already holds an article of its own site only from this similarity:
# one site's pages that share a lot of vocabulary (a show's page and its reviews page, two product
# pages) are mostly about different things, while a site's follow-up on its own story is rarer.
SAME_SITE_SIMILARITY = 0.5
# A story is a candidate for an article when the article reaches this share of the story similarity with
# the story's centroid at the start of the batch or with one of its articles added in the same batch.
CANDIDATE_SHARE = 0.5
# Articles further than this from a story's first and last days do not join it: a story that goes on
# longer gathers new articles through its latest ones.
STORY_WINDOW_DAYS = 3
# Float32 products of unit-length vectors (at most CENTROID_TERMS terms in common) differ from the exact
# float64 similarity by at most about 1e-5 (96 terms x float32 rounding): far less than this.
_PRODUCT_SLACK = 1e-3


class StoryIndex:
    """Every stored article (:class:`ArticleColumns`), its story (:class:`StoryTable`, centroids in a
    :class:`CentroidStore`), the exact copies (:class:`ExactCopies`), the LSH bands of the signatures
    (:class:`BandTable`) and the sites' lines (:class:`SiteLines`).

    Mutable on purpose (it is an index, not a record): :meth:`assign` reads and extends it.
    ``story_similarity`` is the bar an article's similarity to a story must reach to join it.
    """

    def __init__(self, *, story_similarity: float = STORY_SIMILARITY) -> None:
        self.story_similarity = story_similarity
        self._word_codes = WordCodes()  # a cache across batches (word numbers, term slots and weights)
        self._articles = ArticleColumns()
        self._stories = StoryTable()
        self._centroids = CentroidStore(self._articles)
        self._copies = ExactCopies()
        self._bands = BandTable()
        self._site_lines = SiteLines()

    def __len__(self) -> int:
        return len(self._articles)

    # -- reading --------------------------------------------------------------------------------------
    def position(self, doc_id: str) -> int | None:
        """Where the article ``doc_id`` is stored (the later one, were it stored twice), or None."""
        found = int(self._articles.positions_of([doc_id])[0])
        return None if found < 0 else found

    def story_of(self, doc_id: str) -> str | None:
        position = self.position(doc_id)
        return None if position is None else self._stories.names[self._articles.story.data[position]]

    def terms(self, position: int) -> tuple[np.ndarray, np.ndarray]:
        """The story terms of the article at ``position``: slots, weights."""
        return self._articles.terms(position)

    @property
    def story_count(self) -> int:
        return len(self._stories)

    @property
    def ledger(self) -> list[dict]:
        """Exact duplicates: one entry per extra source."""
        return self._copies.ledger

    @property
    def site_lines(self) -> np.ndarray:
        return self._site_lines.keys

    @property
    def nbytes(self) -> int:
        """Bytes the index holds: its arrays (the rows in use), band tables, names and ledger."""
        return (held_bytes(self._articles) + held_bytes(self._stories) + held_bytes(self._centroids)
                + self._copies.nbytes + self._bands.nbytes + self._site_lines.keys.nbytes)

    # Per-article lists, built on demand for tests and scripts (the flow reads to_arrays()).
    @property
    def doc_ids(self) -> list[str]:
        return self._articles.doc_ids.tolist()

    @property
    def story_ids(self) -> list[str]:
        names = self._stories.names.tolist()
        return [names[n] for n in self._articles.story.view.tolist()]

    @property
    def near_duplicate_of(self) -> list[str | None]:
        return self._articles.near_column().tolist()

    @property
    def days(self) -> list[int]:
        return self._articles.days.view.tolist()

    @property
    def sites(self) -> list[str | None]:
        names = self._articles.site_names + [None]
        return [names[n] for n in self._articles.site.view.tolist()]

    @property
    def titles(self) -> list[str | None]:
        return self._articles.titles.tolist()

    @property
    def signatures(self) -> np.ndarray:
        return self._articles.signatures.view

    # -- assignment ---------------------------------------------------------------------------------
    def assign(self, docs: Sequence[StoryDoc], *, zipf: ZipfTables) -> list[Assignment]:
        """Story, near- and exact-duplicate status of each article in ``docs``; adds them to the index.

        Articles are taken in publication order (input order among equals). A near duplicate joins its
        original's story; any other article joins the story, active within ``STORY_WINDOW_DAYS``, whose
        centroid it is most similar to when that similarity reaches the story similarity, else starts one.
        An exact duplicate is not added (the ledger records it) and gets its original's story.
        """
        tokens = Tokens([doc.body for doc in docs], self._word_codes)
        keys = tokens.body_key_values()
        outcome, fresh = self._known_and_copies(docs, keys)
        if fresh:
            base = len(self)
            order = self._assign_fresh(docs, tokens, fresh, outcome, zipf)
            self._articles.index_doc_ids(base, [docs[i].doc_id for i in order.tolist()])
            self._copies.add(keys[order], base)
        self._centroids.cool()
        self._stories.index_names()
        results = []
        for i, doc in enumerate(docs):
            found = outcome[i]
            if found.exact_duplicate_of is not None:
                found = replace(found, story_id=self.story_of(found.exact_duplicate_of) or "")
                self._copies.record(doc, found.exact_duplicate_of, found.story_id)
            results.append(found)
        return results

    def _known_and_copies(self, docs: Sequence[StoryDoc], keys: np.ndarray) -> tuple[dict[int, Assignment], list[int]]:
        """The outcome of the articles already stored and of the exact copies (their story still to be
        filled in), and the numbers of the others (fresh)."""
        known = self._articles.positions_of([doc.doc_id for doc in docs]).tolist()
        stored = self._copies.positions_of(keys).tolist()
        outcome: dict[int, Assignment] = {}
        fresh: list[int] = []
        batch_keys: dict[int, str] = {}
        for i, (doc, key) in enumerate(zip(docs, keys.tolist())):
            if known[i] >= 0:  # indexed by a run that stopped before writing it: same answer again
                at = known[i]
                outcome[i] = Assignment(doc.doc_id, self._stories.names[self._articles.story.data[at]],
                                        near_duplicate_of=self._articles.root_name(int(self._articles.near.data[at])))
                continue
            original = self._articles.doc_id(stored[i]) if stored[i] >= 0 else batch_keys.get(key)
            if original is not None:
                outcome[i] = Assignment(doc.doc_id, "", exact_duplicate_of=original, similarity=1.0)
            else:
                batch_keys[key] = doc.doc_id
                fresh.append(i)
        return outcome, fresh

    def _assign_fresh(self, docs: Sequence[StoryDoc], tokens: Tokens, fresh_list: list[int],
                      outcome: dict[int, Assignment], zipf: ZipfTables) -> np.ndarray:
        """Place the fresh articles; returns them in the order they were stored."""
        fresh = np.zeros(len(docs), dtype=bool)
        fresh[fresh_list] = True
        signatures = shingle_signatures(tokens)
        kept_lines = self._site_lines.kept(tokens.line_keys([doc.site for doc in docs]), tokens.line_doc, fresh)
        vectors = story_vectors(tokens, docs, kept_lines, zipf)
        days = np.array([day_number(doc.day) for doc in docs], dtype=np.int64)
        chosen = np.array(fresh_list, dtype=np.int64)
        order = chosen[np.lexsort((chosen, days[chosen]))]  # by day, then input order
        rank = np.full(len(docs), -1, dtype=np.int64)
        rank[order] = np.arange(len(order))
        near = self._bands.near_duplicates(signatures, rank, tokens.doc_words > 0, self._articles.signatures.view)
        base = len(self)
        self._articles.append(docs, order, days, signatures, vectors)  # stories and originals follow, in _place
        group: list[int] = []
        for i in order.tolist():  # days close enough to share one window of active stories
            if group and days[i] - days[group[0]] > STORY_WINDOW_DAYS:
                self._place(docs, group, days, vectors, near, base, rank, outcome)
                group = []
            group.append(i)
        self._place(docs, group, days, vectors, near, base, rank, outcome)
        self._bands.add(self._articles.signatures.view, base)
        return order

    def _place(self, docs: Sequence[StoryDoc], group: list[int], days: np.ndarray, vectors: Vectors, near: list,
               base: int, rank: np.ndarray, outcome: dict[int, Assignment]) -> None:
        """Assign a story to each article of ``group`` (in order), whose days span one window."""
        candidates = self._group_candidates(group, days, vectors)
        offsets, all_slots, all_weights = vectors
        stories, roots = self._articles.story.data, self._articles.near.data
        positions = (base + rank[group]).tolist()
        for row, i in enumerate(group):
            doc, day = docs[i], int(days[i])
            site = self._articles.site_number(doc.site)
            s, e = offsets[i], offsets[i + 1]
            slots, weights = all_slots[s:e].tolist(), all_weights[s:e].tolist()
            if near[i] is not None:
                target, score = near[i]
                original = base + int(rank[target[1]]) if isinstance(target, tuple) else target
                root = int(roots[original])
                root = original if root == NO_ROOT else root
                story = int(stories[original])
            else:
                root = NO_ROOT
                story, score = self._best_story(candidates.of(row, stories, positions), day,
                                                site if site >= 0 and bool(doc.site) else None, slots, weights)
                if story < 0:
                    story = self._story_number(new_story_id(doc.doc_id), day)
            stories[positions[row]], roots[positions[row]] = story, root
            self._grow(story, day, site, root, slots, weights, positions[row])
            outcome[i] = Assignment(doc.doc_id, self._stories.names[story],
                                    near_duplicate_of=self._articles.root_name(root), similarity=round(score, 4))
        self._centroids.flush()
        self._stories.flush_sites()

    def _group_candidates(self, group: list[int], days: np.ndarray, vectors: Vectors) -> "_Candidates":
        """The stories active in the group's window, and the group's similarity products (float32) with
        their centroids and with each other, kept where they reach the candidate share of the bar."""
        low = CANDIDATE_SHARE * self.story_similarity
        first_day, last_day = int(days[group[0]]), int(days[group[-1]])
        count = len(self._stories)
        spans = self._stories.days.data[:count]
        if first_day == UNDATED:  # the group of undated articles: every story is a candidate
            active = np.arange(count)
        else:
            active = np.flatnonzero(((spans[:, 1] >= first_day - STORY_WINDOW_DAYS)
                                     & (spans[:, 0] <= last_day + STORY_WINDOW_DAYS)) | (spans[:, 0] == UNDATED))
        query, centroids = matrices(csr_rows(vectors, np.array(group, dtype=np.int64)), self._centroids.vectors(active))
        against_stored = at_least(query @ centroids.T, low) if len(active) else None
        return _Candidates(active, against_stored, at_least(query @ query.T, low))

    def _best_story(self, candidates: Mapping[int, float | None], day: int, site: int | None, slots: list[int],
                    weights: list[float]) -> tuple[int, float]:
        """The candidate story the article (``slots``, ``weights``) is most similar to, at or above the bar,
        within the story window, and (below the same-site bar) with no article of its ``site``; -1 if none."""
        story, score = -1, 0.0
        names, story_days, dirty = self._stories.names, self._stories.days.data, self._centroids.dirty
        for candidate in sorted(candidates, key=names.__getitem__):
            # A centroid unchanged since the group's product has the similarity the product gave
            # (to float32 rounding): one clearly short of the bar or of the best so far is skipped
            # without its exact (and costlier) recomputation; the decisions are the same.
            known = candidates[candidate]
            if known is not None and candidate not in dirty and (
                    known < self.story_similarity - _PRODUCT_SLACK or known < score - _PRODUCT_SLACK):
                continue
            first, last = story_days[candidate].tolist()
            dated = day != UNDATED and first != UNDATED
            if dated and (day < first - STORY_WINDOW_DAYS or day > last + STORY_WINDOW_DAYS):
                continue
            similarity = self._centroids.similarity(candidate, slots, weights)
            if similarity < self.story_similarity or similarity <= score:
                continue  # fails whatever the site (SAME_SITE_SIMILARITY is the higher bar)
            if similarity >= SAME_SITE_SIMILARITY or site is None or not self._stories.has_site(candidate, site):
                story, score = candidate, similarity
        return story, score

    def _story_number(self, name: str, day: int) -> int:
        """The story named ``name``, created (starting on ``day``) if there is none."""
        number = self._stories.find(name)
        if number is None:
            number = self._stories.add(name, day)
            self._centroids.add_story()
        return number

    def _grow(self, story: int, day: int, site: int, root: int, slots: list[int], weights: list[float],
              position: int) -> None:
        """Account for the article at ``position``, new in ``story``: its days, its site, and (an original)
        its terms."""
        self._stories.widen(story, day)
        if site >= 0 and self._articles.site_names[site]:
            self._stories.add_site(story, site)
        if root == NO_ROOT:
            self._centroids.add_original(story, slots, weights, position)

    # -- storage ------------------------------------------------------------------------------------
    def to_arrays(self, *, copy: bool = True) -> dict:
        """The index as arrays, laid out as Arrow lays out its columns (the flow stores them as Parquet):
        ``articles`` (doc_id, story_id, near_duplicate_of, day (ordinal, UNDATED for none), site, title,
        body_key, signature (n x 64 uint32), term_offsets, term_slots, term_weights), ``ledger`` (lists)
        and ``site_lines``.

        ``copy=False`` returns the numeric columns as views of the index's own arrays, valid until the
        index next changes: enough for a save that writes them at once (the copies added 36 MB to the peak
        of a save at 200,000 articles).
        """
        return storage.to_arrays(self._articles, self._stories, self._copies, self._site_lines.keys, copy=copy)

    def to_columns(self) -> dict[str, dict[str, list]]:
        """The index as plain columns (articles, ledger, site lines) of Python values."""
        return storage.columns_of(self.to_arrays())

    @classmethod
    def from_columns(cls, columns: Mapping[str, Mapping[str, Sequence]]) -> "StoryIndex":
        """The inverse of :meth:`to_columns`."""
        return cls.from_arrays(storage.arrays_of(columns))

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, object]) -> "StoryIndex":
        """The inverse of :meth:`to_arrays`. ``signature`` may also be a :class:`TextColumn` of 256-byte
        little-endian values. The index takes over writable arrays it is given (no copy): the caller
        should not change them afterwards."""
        index = cls()
        storage.load(arrays, index._articles, index._stories, index._centroids, index._copies)
        index._site_lines = SiteLines(arrays["site_lines"])
        return index


class _Candidates:
    """A group's candidate stories per article: the active stories its product with their centroids
    reached the candidate share with (and that similarity), and the stories of earlier articles of the
    group it resembles (similarity not known: None)."""

    def __init__(self, active: np.ndarray, against_stored, within) -> None:
        self.active, self.against_stored, self.within = active, against_stored, within

    def of(self, row: int, stories: np.ndarray, positions: list[int]) -> dict[int, float | None]:
        """Candidate story -> its similarity at the start of the group (None: not known) for the group's
        article ``row``; ``stories`` holds the stored articles' stories, ``positions`` the group's."""
        candidates: dict[int, float | None] = {}
        if self.against_stored is not None:
            s, e = self.against_stored.indptr[row], self.against_stored.indptr[row + 1]
            candidates.update(zip(self.active[self.against_stored.indices[s:e]].tolist(),
                                  self.against_stored.data[s:e].tolist()))
        s, e = self.within.indptr[row], self.within.indptr[row + 1]
        for j in self.within.indices[s:e].tolist():
            if j < row:
                candidates.setdefault(int(stories[positions[j]]), None)
        return candidates
