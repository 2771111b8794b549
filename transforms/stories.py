"""Story clustering and duplicate control: exact body keys, MinHash near-duplicates, story similarity.

Three questions per article, cheapest first:

* exact duplicate: the same normalized body (whitespace and case aside) already stored;
* near duplicate: MinHash LSH (datasketch) over word shingles of ``body_normalized`` finds a stored
  article with nearly the same text (a syndicated copy or a re-scrape with other chrome);
* story: a weighted bag of informative words and entities, compared by cosine with the articles
  published within a few days; outlets that tell one event in their own words still share its rare
  words (names, places, numbers spelled out), which common words and site chrome do not outweigh.

Word informativeness comes from a general word-frequency table (Zipf scale, passed in by the caller),
so it holds from the first article on and does not drift between runs the way a corpus IDF would.
Everything here is pure: :class:`StoryIndex` is an in-memory index that the flow loads from and saves
to ``DIR/state/stories`` through :meth:`StoryIndex.to_columns` / :meth:`StoryIndex.from_columns`.
"""
from __future__ import annotations

import hashlib
import math
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
from datasketch import MinHash, MinHashLSH
from scipy import sparse

# -- near duplicates --------------------------------------------------------------------------------
SHINGLE_WORDS = 5  # five-word shingles: long enough that two articles on one event rarely share many
MINHASH_PERMUTATIONS = 64  # estimate error about 0.06 at J=0.5; 128 doubles the hashing time for little
MINHASH_SEED = 1
SHINGLE_SAMPLE = 4  # MinHash over one shingle in four (by hash value) on longer texts
MIN_SAMPLED_SHINGLES = 40  # below this many sampled shingles a text keeps all of them
# Estimated Jaccard of the shingle sets from which an article counts as a copy of a stored one. A copy
# with different chrome cleans to nearly the same body (J > 0.8 on the samples); two outlets writing
# the same event from one wire story with their own edits land between 0.2 and 0.5.
NEAR_DUPLICATE_JACCARD = 0.6
# The LSH band layout is tuned for this threshold; candidates are then checked against the estimate.
LSH_THRESHOLD = 0.5

# -- stories ----------------------------------------------------------------------------------------
# A word, with its contraction ("doesn't") but not a possessive "'s", which becomes a separate "s".
_WORD = re.compile(r"\w+(?:'(?!s\b)\w+)*", re.UNICODE)
_HAS_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
# Zipf frequency (log10 of occurrences per billion words) above which a word carries no story signal:
# "said", "year", "people" sit at 6+, "ceasefire" at 3.6, most surnames below 3.
ZIPF_CEILING = 5.5
# Words missing from the frequency table (names, coinages, typos) weigh as if they had this Zipf value.
UNKNOWN_ZIPF = 1.5
MIN_WORD_CHARS = 3
STORY_TERMS = 48  # strongest terms kept per article: bounds index size and comparison cost
# Entities (canonical names from the alias table) count as extra terms with this weight per mention.
ENTITY_WEIGHT = 2.0
FEATURE_BITS = 22  # terms hash into 2**22 slots; collisions among an article's 48 terms are negligible
# Cosine similarity of term vectors from which two articles tell the same story (measured on labelled
# bench pairs, see scripts/eval_stories.py).
STORY_SIMILARITY = 0.32
# Articles published further apart than this are not compared for a story: a story that goes on
# longer gathers new articles through its latest ones.
STORY_WINDOW_DAYS = 3


def body_key(text: str) -> str:
    """Key of a normalized body for exact-duplicate detection: case and whitespace do not count.

    >>> body_key("Turkey  may send\\ntroops.") == body_key("turkey may send troops.")
    True
    """
    return hashlib.sha256(" ".join(text.casefold().split()).encode("utf-8")).hexdigest()[:32]


def word_tokens(text: str) -> list[str]:
    """Lower-case word tokens; contractions stay whole (as the frequency table spells them), possessives go.

    >>> word_tokens("Erdogan met Zelensky’s team; it doesn't matter, Feb. 18.")
    ['erdogan', 'met', 'zelensky', 's', 'team', 'it', "doesn't", 'matter', 'feb', '18']
    """
    return _WORD.findall(text.casefold().replace("’", "'").replace("ʼ", "'"))


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, as datasketch's affine32 scheme applies it before permuting."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


class _TokenHashes(dict):
    """Token -> stable 32-bit hash, computed once per distinct token (CRC-32: fast and stable across runs)."""

    def __missing__(self, token: str) -> int:
        value = zlib.crc32(token.encode("utf-8"))
        self[token] = value
        return value


_TOKEN_HASHES = _TokenHashes()
_MAX_CACHED_TOKENS = 2_000_000
_SLOT_MASK = (1 << FEATURE_BITS) - 1
_SHINGLE_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


def shingle_hashes(tokens: Sequence[str], *, size: int = SHINGLE_WORDS, sample: int = SHINGLE_SAMPLE) -> np.ndarray:
    """32-bit hashes of the ``size``-word shingles of ``tokens`` (one shingle if fewer words),
    one in ``sample`` of them (chosen by hash) when that leaves at least ``MIN_SAMPLED_SHINGLES``.

    >>> len(shingle_hashes("a b c d e f".split(), size=5))
    2
    >>> len(shingle_hashes(["short"], size=5))
    1
    >>> len(shingle_hashes([], size=5))
    0
    """
    if not tokens:
        return np.zeros(0, dtype=np.uint32)
    if len(_TOKEN_HASHES) > _MAX_CACHED_TOKENS:
        _TOKEN_HASHES.clear()
    words = np.fromiter(map(_TOKEN_HASHES.__getitem__, tokens), dtype=np.uint64, count=len(tokens))
    span = min(size, len(words))
    combined = np.zeros(len(words) - span + 1, dtype=np.uint64)
    for offset in range(span):
        # Position-dependent mixing so that "a b" and "b a" differ; uint64 wraps, which is intended.
        combined = combined * _SHINGLE_MULTIPLIER + words[offset: offset + len(combined)]
    # Repeated shingles stay: they cannot change a minimum, and removing them costs a sort.
    folded = ((combined ^ (combined >> np.uint64(32))) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    if sample > 1:
        # Fixed-rate sampling by hash value keeps the same shingles of two copies, so it preserves their
        # Jaccard similarity in expectation at a quarter of the hashing cost; short texts keep them all.
        kept = folded[_fmix32(folded ^ np.uint32(0x5BD1E995)) % np.uint32(sample) == 0]
        if len(kept) >= MIN_SAMPLED_SHINGLES:
            return kept
    return folded


_PERMUTATIONS = MinHash(num_perm=MINHASH_PERMUTATIONS, seed=MINHASH_SEED, scheme="affine32").permutations
_EMPTY_HASH = np.uint32(0xFFFFFFFF)


def minhash_signatures(shingle_sets: Sequence[np.ndarray], *, chunk: int = 1 << 18) -> np.ndarray:
    """MinHash signatures (one row per set) equal to datasketch's affine32 ``MinHash.update_batch``.

    The work is vectorized over all sets at once; a set with no shingles gets the "empty" signature.

    >>> sets = [np.array([1, 2, 3], dtype=np.uint32), np.array([], dtype=np.uint32)]
    >>> signatures = minhash_signatures(sets)
    >>> reference = MinHash(num_perm=MINHASH_PERMUTATIONS, seed=MINHASH_SEED, hashfunc=int)
    >>> reference.update_batch([1, 2, 3])
    >>> bool((signatures[0] == reference.hashvalues).all()), int(signatures[1].min()) == 2**32 - 1
    (True, True)
    """
    a, b = _PERMUTATIONS
    out = np.full((len(shingle_sets), len(a)), _EMPTY_HASH, dtype=np.uint32)
    lengths = np.fromiter((len(s) for s in shingle_sets), dtype=np.int64, count=len(shingle_sets))
    if not lengths.sum():
        return out
    values = _fmix32(np.concatenate([np.asarray(s, dtype=np.uint32) for s in shingle_sets]))
    owners = np.repeat(np.arange(len(shingle_sets)), lengths)
    a, b = a[:, None], b[:, None]
    with np.errstate(over="ignore"):
        for start in range(0, len(values), chunk):
            who = owners[start: start + chunk]
            part = values[None, start: start + chunk] * a  # one row per permutation: contiguous reductions
            part += b
            firsts = np.flatnonzero(np.r_[True, who[1:] != who[:-1]])
            minima = np.minimum.reduceat(part, firsts, axis=1)
            out[who[firsts]] = np.minimum(out[who[firsts]], minima.T)
    return out


def jaccard_estimate(first: np.ndarray, second: np.ndarray) -> float:
    """Share of equal MinHash slots: the estimate of the Jaccard similarity of the two sets.

    >>> jaccard_estimate(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 0]))
    0.5
    """
    return float(np.mean(first == second))


def word_weight(word: str, zipf: Mapping[str, float]) -> float:
    """How much a word says about a story: rare words much, common ones nothing (numbers: nothing).

    >>> table = {"the": 7.7, "ceasefire": 3.6}
    >>> word_weight("the", table), round(word_weight("ceasefire", table), 2), word_weight("erdogan", table)
    (0.0, 1.9, 4.0)
    """
    return _rarity(zipf)[word]


def term_slot(term: str) -> int:
    """Feature slot of a term in the hashed term space.

    >>> 0 <= term_slot("erdogan") < 2 ** FEATURE_BITS
    True
    """
    return _TOKEN_HASHES[term] & _SLOT_MASK


class _Rarity(dict):
    """Word -> story weight (0 for words that carry none), computed once per distinct word and table."""

    def __init__(self, zipf: Mapping[str, float]) -> None:
        super().__init__()
        self.zipf = zipf

    def __missing__(self, word: str) -> float:
        weight = 0.0
        if len(word) >= MIN_WORD_CHARS and not word.isdigit() and _HAS_LETTER.search(word):
            weight = max(0.0, ZIPF_CEILING - self.zipf.get(word, UNKNOWN_ZIPF))
        self[word] = weight
        return weight


_RARITY: dict[int, _Rarity] = {}  # id(zipf table) -> its weights; the _Rarity keeps the table alive


def _rarity(zipf: Mapping[str, float]) -> _Rarity:
    found = _RARITY.get(id(zipf))
    if found is None or found.zipf is not zipf:
        if len(_RARITY) > 64:
            _RARITY.clear()
        found = _RARITY[id(zipf)] = _Rarity(zipf)
    elif len(found) > _MAX_CACHED_TOKENS:
        found.clear()
    return found


def story_vector(tokens: Iterable[str], *, entities: Iterable[tuple[str, int]] = (),
                 zipf: Mapping[str, float]) -> tuple[list[str], np.ndarray]:
    """The ``STORY_TERMS`` strongest terms of an article and their L2-normalized weights, strongest first:
    (1 + log term frequency) x rarity, plus the entities' canonical names."""
    counts = Counter(tokens)
    rarity = _rarity(zipf)
    words = list(counts)
    weights = np.fromiter(map(rarity.__getitem__, words), dtype=np.float64, count=len(words))
    keep = np.flatnonzero(weights > 0)
    terms = [words[i] for i in keep.tolist()]
    frequency = np.fromiter((counts[t] for t in terms), dtype=np.float64, count=len(terms))
    values = (1.0 + np.log(frequency)) * weights[keep]
    named = [(name, mentions) for name, mentions in entities if mentions > 0]
    if named:
        terms += ["entity:" + name.casefold() for name, _ in named]
        values = np.concatenate([values, [ENTITY_WEIGHT * (1.0 + math.log(m)) for _, m in named]])
    if len(terms) > STORY_TERMS:
        top = np.argpartition(-values, STORY_TERMS - 1)[:STORY_TERMS]
    else:
        top = np.arange(len(terms))
    top = top[np.lexsort((np.array([terms[i] for i in top], dtype=object), -values[top]))] if len(top) else top
    chosen = values[top]
    norm = float(np.sqrt((chosen * chosen).sum())) or 1.0
    return [terms[i] for i in top.tolist()], chosen / norm


def story_terms(tokens: Iterable[str], *, entities: Iterable[tuple[str, int]] = (),
                zipf: Mapping[str, float]) -> dict[str, float]:
    """:func:`story_vector` as a dict of term -> weight.

    >>> terms = story_terms("the truce the truce erdogan said".split(), zipf={"the": 7.7, "said": 6.5, "truce": 3.5})
    >>> sorted(terms), round(sum(w * w for w in terms.values()), 6)
    (['erdogan', 'truce'], 1.0)
    """
    terms, weights = story_vector(tokens, entities=entities, zipf=zipf)
    return dict(zip(terms, weights.tolist()))


def _line_pairs(text: str, site: str | None) -> list[tuple[str, int]]:
    """Each non-empty line with its key: case and spacing removed, hashed with the site."""
    prefix = (site or "").encode("utf-8") + b"\x00"
    pairs = []
    for line, folded in zip(text.split("\n"), text.casefold().split("\n")):
        key = " ".join(folded.split())
        if key:
            digest = hashlib.blake2b(prefix + key.encode("utf-8"), digest_size=8).digest()
            pairs.append((line, int.from_bytes(digest, "little")))
    return pairs


def line_keys(text: str, *, site: str | None) -> list[int]:
    """64-bit keys of a body's lines within a site: the same line on two pages of one site is boilerplate.

    >>> line_keys("Read more!\\n\\nread  more!", site="a.com")[0] == line_keys("READ MORE!", site="a.com")[0]
    True
    >>> line_keys("Read more", site="a.com") == line_keys("Read more", site="b.com")
    False
    """
    return [key for _, key in _line_pairs(text, site)]


def drop_lines(text: str, *, site: str | None, shared: Iterable[int]) -> str:
    """The body without the lines whose key (see :func:`line_keys`) is in ``shared``.

    >>> drop_lines("Menu\\nThe story.\\nMenu", site=None, shared=line_keys("menu", site=None))
    'The story.'
    """
    shared = set(shared)
    return "\n".join(line for line, key in _line_pairs(text, site) if key not in shared)


@dataclass(frozen=True)
class StoryDoc:
    """What story assignment needs of an article (the flow builds it from an articles-table row)."""

    doc_id: str
    body: str  # body_normalized
    day: date  # publication date, else the ingestion date
    site: str | None = None
    title: str | None = None
    language: str | None = None
    entities: tuple[tuple[str, int], ...] = ()  # (canonical name, mentions)
    source_uri: str = ""
    url: str | None = None


@dataclass(frozen=True)
class Assignment:
    """The outcome for one article: its story, and what it copies if it is a duplicate."""

    doc_id: str
    story_id: str
    near_duplicate_of: str | None = None
    exact_duplicate_of: str | None = None
    similarity: float = 0.0  # to the article it was attached by (1.0 for duplicates, 0.0 for a new story)


def new_story_id(doc_id: str) -> str:
    """A story is named after the article that started it.

    >>> new_story_id("2cf24dba5fb0a30e26e83b2ac5b9e29e")
    's-2cf24dba5fb0a30e26e83b2a'
    """
    return "s-" + doc_id[:24]


ZipfTables = Callable[[str | None], Mapping[str, float]]


@dataclass
class _Block:
    """Stored articles added together: their term vectors as one sparse matrix, plus per-row facts."""

    matrix: sparse.csr_matrix
    days: np.ndarray  # int32 proleptic ordinals
    rows: np.ndarray  # positions in the index's per-article lists


@dataclass
class StoryIndex:
    """Every stored article's story, MinHash signature and story terms; exact-duplicate ledger; site lines.

    Mutable on purpose (it is an index, not a record): :meth:`assign` reads and extends it.
    """

    doc_ids: list[str] = field(default_factory=list)
    story_ids: list[str] = field(default_factory=list)
    near_duplicate_of: list[str | None] = field(default_factory=list)
    days: list[int] = field(default_factory=list)
    sites: list[str | None] = field(default_factory=list)
    titles: list[str | None] = field(default_factory=list)
    signatures: list[np.ndarray] = field(default_factory=list)
    term_slots: list[np.ndarray] = field(default_factory=list)
    term_weights: list[np.ndarray] = field(default_factory=list)
    body_keys: dict[str, str] = field(default_factory=dict)  # body key -> doc_id of the first article
    ledger: list[dict] = field(default_factory=list)  # exact duplicates: the extra sources
    site_lines: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))  # sorted
    _position: dict[str, int] = field(default_factory=dict)
    _blocks: list[_Block] = field(default_factory=list)
    _lsh: MinHashLSH | None = None

    def __post_init__(self) -> None:
        self._position = {doc_id: i for i, doc_id in enumerate(self.doc_ids)}
        if self.doc_ids:
            self._blocks = [self._block(range(len(self.doc_ids)))]

    def __len__(self) -> int:
        return len(self.doc_ids)

    def story_of(self, doc_id: str) -> str | None:
        position = self._position.get(doc_id)
        return None if position is None else self.story_ids[position]

    # -- assignment ---------------------------------------------------------------------------------
    def assign(self, docs: Sequence[StoryDoc], *, zipf: ZipfTables) -> list[Assignment]:
        """Story, near- and exact-duplicate status of each article in ``docs``; adds them to the index.

        Articles are taken in publication order (input order among equals), each joining the story of
        the most similar earlier article, stored or in this batch, when that similarity reaches
        ``STORY_SIMILARITY``; a near duplicate joins its original's story; an exact duplicate is not
        added (the ledger records it) and gets its original's story.
        """
        outcome: dict[int, Assignment] = {}
        fresh: list[int] = []
        batch_keys: dict[str, str] = {}
        for i, doc in enumerate(docs):
            key = body_key(doc.body)
            original = self.body_keys.get(key) or batch_keys.get(key)
            if original is not None:
                outcome[i] = Assignment(doc.doc_id, "", exact_duplicate_of=original, similarity=1.0)
            else:
                batch_keys[key] = doc.doc_id
                fresh.append(i)
        if fresh:
            self._assign_fresh([docs[i] for i in fresh], fresh, outcome, batch_keys, zipf)
        results = []
        for i, doc in enumerate(docs):
            found = outcome[i]
            if found.exact_duplicate_of is not None:
                story = self.story_of(found.exact_duplicate_of) or ""
                found = replace(found, story_id=story)
                self.ledger.append({"doc_id": doc.doc_id, "duplicate_of": found.exact_duplicate_of,
                                    "story_id": story, "site": doc.site, "url": doc.url,
                                    "source_uri": doc.source_uri, "day": doc.day.toordinal(), "title": doc.title})
            results.append(found)
        return results

    def _assign_fresh(self, docs: list[StoryDoc], positions: list[int], outcome: dict[int, Assignment],
                      batch_keys: dict[str, str], zipf: ZipfTables) -> None:
        tokens = [word_tokens(doc.body) for doc in docs]
        signatures = minhash_signatures([shingle_hashes(t) for t in tokens])
        vectors = self._story_vectors(docs, tokens, zipf)
        days = np.array([doc.day.toordinal() for doc in docs], dtype=np.int32)
        query = _matrix(vectors)
        stored = self._window(int(days.min()) - STORY_WINDOW_DAYS, int(days.max()) + STORY_WINDOW_DAYS)
        against_stored = _at_least(query @ stored.matrix.T, STORY_SIMILARITY) if stored is not None else None
        within = _at_least(query @ query.T, STORY_SIMILARITY)
        lsh = self._lsh_index()
        base = len(self.doc_ids)
        placed: dict[int, int] = {}  # batch index -> index position, once placed
        for i in sorted(range(len(docs)), key=lambda i: (days[i], i)):
            doc = docs[i]
            near, score = self._near_duplicate(signatures[i], lsh) if len(tokens[i]) else (None, 0.0)
            if near is not None:
                original = self._position[near]
                root = self.near_duplicate_of[original] or near
                story = self.story_ids[original]
            else:
                root = None
                story, score = self._best_story(i, doc, int(days[i]), against_stored, stored, within, placed)
            story = story or new_story_id(doc.doc_id)
            placed[i] = len(self.doc_ids)
            self._append(doc, story, root, signatures[i], vectors[i])
            if len(tokens[i]):
                lsh.insert(doc.doc_id, _minhash(signatures[i]), check_duplication=False)
            outcome[positions[i]] = Assignment(doc.doc_id, story, near_duplicate_of=root, similarity=round(score, 4))
        self.body_keys.update(batch_keys)
        self._blocks.append(self._block(range(base, len(self.doc_ids))))

    def _near_duplicate(self, signature: np.ndarray, lsh: MinHashLSH) -> tuple[str | None, float]:
        best, best_score = None, 0.0
        for candidate in lsh.query(_minhash(signature)):
            score = jaccard_estimate(signature, self.signatures[self._position[candidate]])
            if score >= NEAR_DUPLICATE_JACCARD and (score > best_score or (score == best_score and candidate < best)):
                best, best_score = candidate, score
        return best, best_score

    def _best_story(self, i: int, doc: StoryDoc, day: int, against_stored: sparse.csr_matrix | None,
                    stored: _Block | None, within: sparse.csr_matrix, placed: dict[int, int]) -> tuple[str | None, float]:
        """The story of the most similar earlier article within the window, if similar enough."""
        candidates: list[tuple[float, int]] = []
        if against_stored is not None:
            start, end = against_stored.indptr[i], against_stored.indptr[i + 1]
            candidates += zip(against_stored.data[start:end].tolist(), stored.rows[against_stored.indices[start:end]].tolist())
        start, end = within.indptr[i], within.indptr[i + 1]
        for column, score in zip(within.indices[start:end].tolist(), within.data[start:end].tolist()):
            if column in placed:
                candidates.append((score, placed[column]))
        best_story, best_score = None, 0.0
        for score, position in candidates:
            if score < STORY_SIMILARITY or score <= best_score or abs(self.days[position] - day) > STORY_WINDOW_DAYS:
                continue
            best_story, best_score = self.story_ids[position], score
        return best_story, best_score

    def _story_vectors(self, docs: list[StoryDoc], tokens: list[list[str]],
                       zipf: ZipfTables) -> list[tuple[np.ndarray, np.ndarray]]:
        """Story terms of each article, leaving out lines its site has published on another page."""
        keys = [line_keys(doc.body, site=doc.site) for doc in docs]
        seen_in_batch = Counter(key for doc_keys in keys for key in set(doc_keys))
        batch_shared = {key for key, count in seen_in_batch.items() if count > 1}
        all_keys = np.fromiter((key for doc_keys in keys for key in doc_keys), dtype=np.uint64)
        stored_shared = set(all_keys[_sorted_contains(self.site_lines, all_keys)].tolist())
        shared = batch_shared | stored_shared
        vectors = []
        for doc, doc_keys, doc_tokens in zip(docs, keys, tokens):
            if shared.intersection(doc_keys):
                doc_tokens = word_tokens(drop_lines(doc.body, site=doc.site, shared=shared))
            terms, weights = story_vector(doc_tokens, entities=doc.entities, zipf=zipf(doc.language))
            slots = np.fromiter(map(_TOKEN_HASHES.__getitem__, terms), dtype=np.int64, count=len(terms))
            vectors.append(((slots & _SLOT_MASK).astype(np.int32), weights.astype(np.float32)))
        fresh = np.unique(all_keys)
        fresh = fresh[~_sorted_contains(self.site_lines, fresh)]
        if len(fresh):  # a merge of two sorted arrays: no re-sort of the whole history per batch
            self.site_lines = np.insert(self.site_lines, np.searchsorted(self.site_lines, fresh), fresh)
        return vectors

    # -- storage ------------------------------------------------------------------------------------
    def _append(self, doc: StoryDoc, story: str, root: str | None, signature: np.ndarray,
                vector: tuple[np.ndarray, np.ndarray]) -> None:
        self._position[doc.doc_id] = len(self.doc_ids)
        self.doc_ids.append(doc.doc_id)
        self.story_ids.append(story)
        self.near_duplicate_of.append(root)
        self.days.append(doc.day.toordinal())
        self.sites.append(doc.site)
        self.titles.append(doc.title)
        self.signatures.append(signature)
        self.term_slots.append(vector[0])
        self.term_weights.append(vector[1])

    def _block(self, positions: range) -> _Block:
        rows = np.arange(positions.start, positions.stop, dtype=np.int64)
        matrix = _matrix([(self.term_slots[p], self.term_weights[p]) for p in rows])
        return _Block(matrix, np.array([self.days[p] for p in rows], dtype=np.int32), rows)

    def _window(self, first_day: int, last_day: int) -> _Block | None:
        """Stored articles published between the two days, as one block."""
        parts = []
        for block in self._blocks:
            keep = (block.days >= first_day) & (block.days <= last_day)
            if keep.any():
                parts.append(_Block(block.matrix[keep], block.days[keep], block.rows[keep]))
        if not parts:
            return None
        if len(self._blocks) > 16:  # many small batches: merge so slicing stays cheap
            self._blocks = [self._block(range(len(self.doc_ids)))]
        return _Block(sparse.vstack([p.matrix for p in parts], format="csr"),
                      np.concatenate([p.days for p in parts]), np.concatenate([p.rows for p in parts]))

    def _lsh_index(self) -> MinHashLSH:
        if self._lsh is None:
            self._lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=MINHASH_PERMUTATIONS)
            with self._lsh.insertion_session() as session:
                for doc_id, signature in zip(self.doc_ids, self.signatures):
                    if int(signature.min()) != int(_EMPTY_HASH):
                        session.insert(doc_id, _minhash(signature), check_duplication=False)
        return self._lsh

    def to_columns(self) -> dict[str, dict[str, list]]:
        """The index as plain columns (articles, ledger, site lines) for the flow to store."""
        articles = {
            "doc_id": list(self.doc_ids), "story_id": list(self.story_ids),
            "near_duplicate_of": list(self.near_duplicate_of),
            "day": [date.fromordinal(d) for d in self.days], "site": list(self.sites), "title": list(self.titles),
            "body_key": [None] * len(self.doc_ids),
            "signature": [s.astype("<u4").tobytes() for s in self.signatures],
            "term_slots": [s.tolist() for s in self.term_slots],
            "term_weights": [w.tolist() for w in self.term_weights],
        }
        for key, doc_id in self.body_keys.items():
            articles["body_key"][self._position[doc_id]] = key
        ledger = {name: [entry[name] for entry in self.ledger]
                  for name in ("doc_id", "duplicate_of", "story_id", "site", "url", "source_uri", "day", "title")}
        ledger["day"] = [date.fromordinal(d) for d in ledger["day"]]
        return {"articles": articles, "ledger": ledger, "site_lines": {"key": self.site_lines.tolist()}}

    @classmethod
    def from_columns(cls, columns: Mapping[str, Mapping[str, Sequence]]) -> "StoryIndex":
        """The inverse of :meth:`to_columns`."""
        a = columns["articles"]
        index = cls(
            doc_ids=list(a["doc_id"]), story_ids=list(a["story_id"]), near_duplicate_of=list(a["near_duplicate_of"]),
            days=[d.toordinal() for d in a["day"]], sites=list(a["site"]), titles=list(a["title"]),
            signatures=[np.frombuffer(s, dtype="<u4").astype(np.uint32) for s in a["signature"]],
            term_slots=[np.asarray(s, dtype=np.int32) for s in a["term_slots"]],
            term_weights=[np.asarray(w, dtype=np.float32) for w in a["term_weights"]],
            body_keys={key: doc_id for key, doc_id in zip(a["body_key"], a["doc_id"]) if key},
            site_lines=np.asarray(columns["site_lines"]["key"], dtype=np.uint64),
        )
        ledger = columns.get("ledger") or {}
        names = list(ledger)
        for values in zip(*(ledger[n] for n in names)):
            entry = dict(zip(names, values))
            entry["day"] = entry["day"].toordinal()
            index.ledger.append(entry)
        return index


def _matrix(vectors: Sequence[tuple[np.ndarray, np.ndarray]]) -> sparse.csr_matrix:
    lengths = [len(slots) for slots, _ in vectors]
    indptr = np.zeros(len(vectors) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    indices = np.concatenate([s for s, _ in vectors]) if vectors else np.zeros(0, dtype=np.int32)
    data = np.concatenate([w for _, w in vectors]) if vectors else np.zeros(0, dtype=np.float32)
    matrix = sparse.csr_matrix((data, indices, indptr), shape=(len(vectors), 1 << FEATURE_BITS))
    matrix.sum_duplicates()  # two terms hashed to one slot: add them rather than fail
    return matrix


def _sorted_contains(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """Which needles occur in the sorted haystack (binary search, no sort of the haystack)."""
    if not len(haystack):
        return np.zeros(len(needles), dtype=bool)
    where = np.minimum(np.searchsorted(haystack, needles), len(haystack) - 1)
    return haystack[where] == needles


def _at_least(product: sparse.spmatrix, threshold: float) -> sparse.csr_matrix:
    """The entries of a similarity product that reach the threshold, as CSR."""
    product = product.tocsr()
    product.data[product.data < threshold] = 0
    product.eliminate_zeros()
    return product


def _minhash(signature: np.ndarray) -> MinHash:
    return MinHash(seed=MINHASH_SEED, hashvalues=signature, permutations=_PERMUTATIONS, scheme="affine32")
