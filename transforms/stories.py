"""Story clustering and duplicate control: exact body keys, MinHash near-duplicates, story similarity.

Three questions per article, cheapest first:

* exact duplicate: the same body (case, whitespace and punctuation aside) already stored;
* near duplicate: MinHash with banded LSH over word shingles finds a stored article with nearly the
  same text (a syndicated copy or a re-scrape with other chrome);
* story: a weighted bag of informative words and entities, compared by cosine with the centroids of
  the stories active within a few days; outlets that tell one event in their own words still share its
  rare words (names, places, coinages), which common words and site chrome do not outweigh.

Everything runs over a batch at once: one regex pass per article turns it into tokens, and from there
on the work is numpy and scipy.sparse (token hashes, line and body keys, shingles, MinHash, LSH bands,
term vectors, similarity products); Python loops run per distinct token, per candidate story or per
article, never per token. Word informativeness comes from a general word-frequency table (Zipf scale,
passed in by the caller), so it holds from the first article on and does not drift between runs the way
a corpus IDF would. :class:`StoryIndex` is an in-memory index that the flow loads from and saves to
``DIR/state/stories`` through :meth:`StoryIndex.from_arrays` / :meth:`StoryIndex.to_arrays`
(:meth:`StoryIndex.to_columns` gives the same content as plain Python values).
"""
from __future__ import annotations

import hashlib
import math
import operator
import re
import string
import sys
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import chain, repeat

import numpy as np
from datasketch import MinHash
from scipy import sparse

# -- near duplicates --------------------------------------------------------------------------------
SHINGLE_WORDS = 5  # five-word shingles: long enough that two articles on one event rarely share many
MINHASH_PERMUTATIONS = 64  # estimate error about 0.06 at J=0.5
MINHASH_SEED = 1
SHINGLE_SAMPLE = 4  # MinHash over one shingle in four (by hash value) on longer texts
MIN_SAMPLED_SHINGLES = 40  # below this many sampled shingles a text keeps all of them
# Estimated Jaccard of the shingle sets from which an article counts as a copy of a stored one. A copy
# with different chrome cleans to nearly the same body (J > 0.8 on the samples); two outlets writing
# the same event from one wire story with their own edits land between 0.2 and 0.5.
NEAR_DUPLICATE_JACCARD = 0.6
# LSH bands of LSH_ROWS signature slots: a pair becomes a candidate when one band is equal, which at
# 21 bands of 3 happens with probability 0.99 at J=0.6 and 0.15 at J=0.2; candidates are then checked
# against NEAR_DUPLICATE_JACCARD with the whole signature.
LSH_ROWS = 3
LSH_BANDS = MINHASH_PERMUTATIONS // LSH_ROWS

# -- stories ----------------------------------------------------------------------------------------
# Bodies split on whitespace (a C loop, five times faster than a word regex); a line break becomes a
# token of its own so that one pass also yields the lines. Punctuation is then trimmed once per distinct
# token: the core of "(Reuters)," is "Reuters", of "Zelensky’s" is "Zelensky" (possessive dropped).
_BREAK = "\ue000"  # private-use character: never in text, not whitespace
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'"})
_EDGES = string.punctuation + "".join(map(chr, range(0x2010, 0x2050))) + "«»¿¡·©®™°§¶"
MIN_WORD_CHARS = 3
_CAMEL_HUMPS = re.compile(r"[a-z][A-Z]")
# Zipf frequency (log10 of occurrences per billion words) above which a word carries no story signal:
# "said", "year", "people" sit at 6+, "ceasefire" at 3.6, most surnames below 3.
ZIPF_CEILING = 5.5
# Words missing from the frequency table (names, coinages, typos) weigh as if they had this Zipf value.
UNKNOWN_ZIPF = 1.5
# Words fold to their first STEM_CHARS letters, so "hibernation", "hibernating" and "hibernate" (or
# "astronaut"/"astronauts") count as one term: outlets inflect the same event differently.
STEM_CHARS = 6
STORY_TERMS = 48  # strongest terms kept per article: bounds index size and comparison cost
CENTROID_TERMS = 96  # strongest terms kept per story centroid
# Entities (canonical names from the alias table) count as extra terms with this weight per mention,
# scaled by the name's rarity like a word's ("US" next to nothing, "Kristi Noem" in full).
ENTITY_WEIGHT = 2.0
# Title words count as this many extra occurrences. 0: measured on the bench pairs, 1 or 2 lowered
# precision (0.902 -> 0.822 at equal recall): headlines of related stories share the product's name. Not
# only because plain-text titles were often chrome ("Monday 5:30PM"): with the page's own headlines (session
# 7) 1-3 still give 0.826-0.844 at recall 0.905, against 0.927.
TITLE_REPEAT = 0
FEATURE_BITS = 22  # terms hash into 2**22 slots; collisions among an article's 48 terms are negligible
# Cosine similarity between an article and a story's centroid from which the article joins the story
# (measured on labelled bench pairs, see scripts/eval_stories.py).
STORY_SIMILARITY = 0.30
# An article joins a story that already holds an article of its own site only from this similarity:
# one site's pages that share a lot of vocabulary (a show's page and its reviews page, two product
# pages) are mostly about different things, while a site's follow-up on its own story is rarer.
SAME_SITE_SIMILARITY = 0.5
# A story is a candidate for an article when the article reaches this share of STORY_SIMILARITY with
# the story's centroid at the start of the batch or with one of its articles added in the same batch.
CANDIDATE_SHARE = 0.5
# Articles further than this from a story's first and last days do not join it: a story that goes on
# longer gathers new articles through its latest ones.
STORY_WINDOW_DAYS = 3
# The day of an article with no publication date: it may join any story, and a story made only of
# undated articles accepts articles of any day (plain-text scrapes often carry no date at all).
UNDATED = 0

_SLOT_MASK = (1 << FEATURE_BITS) - 1
# Float32 products of unit-length vectors (at most CENTROID_TERMS terms in common) differ from the exact
# float64 similarity by at most about 1e-5 (96 terms x float32 rounding): far less than this.
_PRODUCT_SLACK = 1e-3
_U64 = np.uint64
_GOLDEN = _U64(0x9E3779B97F4A7C15)
_MAX_CACHED_TOKENS = 2_000_000
_TOKENIZE_BODIES = 64  # bodies split into words at once


def _mix64(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer over uint64 arrays (wrapping multiplication is intended)."""
    values = values ^ (values >> _U64(30))
    values = values * _U64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> _U64(27))
    values = values * _U64(0x94D049BB133111EB)
    return values ^ (values >> _U64(31))


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, as datasketch's affine32 scheme applies it before permuting."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def fold(token: str) -> str:
    """The form of a token that keys and frequency tables use: case-folded, typographic apostrophes plain.

    >>> fold("Zelensky’s")
    "zelensky's"
    """
    return token.casefold().translate(_APOSTROPHES)


def core(token: str) -> str:
    """A whitespace-separated token without the punctuation around it or a possessive "'s".

    >>> core("(Reuters),"), core("Zelensky’s"), core("doesn't"), core("U.S."), core("—")
    ('Reuters', 'Zelensky', "doesn't", 'U.S', '')
    """
    word = token.translate(_APOSTROPHES).strip(_EDGES)
    return word[:-2] if word[-2:] in ("'s", "'S") else word


def word_tokens(text: str) -> list[str]:
    """Folded word tokens; contractions stay whole (as the frequency table spells them), possessives go.

    >>> word_tokens("Erdogan met Zelensky’s team; it doesn't matter, Feb. 18.")
    ['erdogan', 'met', 'zelensky', 'team', 'it', "doesn't", 'matter', 'feb', '18']
    """
    return [fold(word) for word in map(core, text.split()) if word]


_LINE_BREAK, _NO_WORD = -2, -1


class _Vocabulary(dict):
    """Token as written -> its word's number << 32 | a stable 32-bit hash (CRC-32) of the folded word;
    ``_NO_WORD`` for bare punctuation, ``_LINE_BREAK`` for the line-break token. Computed once per
    distinct token, so a batch costs one dictionary lookup per token; words keep their case (the story
    weight looks at it), the hash does not (keys and shingles ignore case)."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []  # by number
        self.numbers: dict[str, int] = {}

    def __missing__(self, token: str) -> int:
        word = core(token)
        if token == _BREAK:
            value = _LINE_BREAK
        elif not word:
            value = _NO_WORD
        else:
            number = self.numbers.get(word)
            if number is None:
                number = self.numbers[word] = len(self.words)
                self.words.append(word)
            value = (number << 32) | zlib.crc32(fold(word).encode("utf-8"))
        self[token] = value
        return value




def term_slot(term: str) -> int:
    """Feature slot of a folded word (by its first ``STEM_CHARS`` letters) or an ``entity:`` term.

    >>> term_slot("hibernation") == term_slot("hibernating"), 0 <= term_slot("erdogan") < 2 ** FEATURE_BITS
    (True, True)
    """
    key = term if term.startswith("entity:") else term[:STEM_CHARS]
    return zlib.crc32(key.encode("utf-8")) & _SLOT_MASK


def _term(word: str, zipf: Mapping[str, float]) -> tuple[int, float]:
    """(slot, weight) of a word as written; slot -1 when the weight is 0."""
    return _term_of(word, fold(word), zipf.get(fold(word)))


def _term_of(word: str, folded: str, zipf_value: float | None) -> tuple[int, float]:
    if len(folded) < MIN_WORD_CHARS or not folded.isalpha():  # numbers, ids, contractions
        return -1, 0.0
    if zipf_value is None and (word.islower() or len(_CAMEL_HUMPS.findall(word)) > 1):
        return -1, 0.0  # unknown and never capitalized, or camel humps: a handle, an id, a typo
    weight = max(0.0, ZIPF_CEILING - (UNKNOWN_ZIPF if zipf_value is None else zipf_value))
    return (term_slot(folded), weight) if weight > 0 else (-1, 0.0)


def word_hash(word: str) -> int:
    """A stable 64-bit hash of a word (BLAKE2b): the key of :class:`HashedZipf`.

    >>> word_hash("ceasefire") == word_hash("ceasefire"), word_hash("a") != word_hash("b")
    (True, True)
    """
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


class HashedZipf:
    """A word-frequency table as two arrays, sorted 64-bit word hashes and their Zipf values in
    hundredths: a few megabytes that load from a file in milliseconds (a dict of the same 300,000 to
    650,000 words takes 0.1-0.4 s to build per language), looked up a batch of words at a time.
    A hash collision could give an unknown word a known word's value: at 2**64 slots, negligible.

    >>> table = HashedZipf.from_bins([[], ["the"], ["ceasefire", "don’t"]], top=7.71)
    >>> table.get("the"), table.get("don't"), table.get("erdogan"), len(table)
    (7.7, 7.69, None, 3)
    >>> table.lookup(["ceasefire", "nope"]).tolist()
    [7.69, nan]
    """

    def __init__(self, hashes: np.ndarray, centizipf: np.ndarray) -> None:
        self.hashes = np.asarray(hashes, dtype=np.uint64)
        self.centizipf = np.asarray(centizipf, dtype=np.uint16)

    @classmethod
    def from_bins(cls, bins: Sequence[Sequence[str]], *, top: float = 9.0) -> "HashedZipf":
        """From wordfreq's cBpack layout: bin ``i`` holds the words at Zipf ``top - i / 100``. A word
        listed twice keeps its last value (as ``wordfreq.get_frequency_dict`` does); typographic
        apostrophes become plain ones, as :func:`fold` spells words."""
        words = [word.replace("’", "'") for words in bins for word in words]
        values = np.repeat(round(top * 100) - np.arange(len(bins)), [len(words) for words in bins])
        hashes = np.fromiter(map(word_hash, words), dtype=np.uint64, count=len(words))
        distinct, last = np.unique(hashes[::-1], return_index=True)
        return cls(distinct, values[::-1][last].astype(np.uint16))

    def __len__(self) -> int:
        return len(self.hashes)

    def lookup(self, words: Sequence[str]) -> np.ndarray:
        """Zipf value of each word, NaN where the table lacks it."""
        keys = np.fromiter(map(word_hash, words), dtype=np.uint64, count=len(words))
        if not len(self.hashes):
            return np.full(len(keys), np.nan)
        where = np.minimum(np.searchsorted(self.hashes, keys), len(self.hashes) - 1)
        return np.where(self.hashes[where] == keys, self.centizipf[where] / 100.0, np.nan)

    def get(self, word: str, default: float | None = None) -> float | None:
        found = float(self.lookup([word])[0])
        return default if math.isnan(found) else found

    def __contains__(self, word: str) -> bool:
        return self.get(word) is not None


def word_weight(token: str, zipf: Mapping[str, float]) -> float:
    """How much a word as written says about a story: rare words much, common ones and numbers nothing;
    a word missing from the table that is never capitalized (a handle, an id, a typo) nothing either.

    >>> table = {"the": 7.7, "ceasefire": 3.6}
    >>> word_weight("the", table), round(word_weight("Ceasefire,", table), 2), word_weight("Erdogan", table)
    (0.0, 1.9, 4.0)
    >>> word_weight("erdogan", table), word_weight("XpxUjuYIAC", table), word_weight("b2b", table)
    (0.0, 0.0, 0.0)
    """
    return _term(core(token), zipf)[1]


class _TermArrays:
    """Slot and weight of the vocabulary's words under one frequency table, computed on demand for the
    words that articles in the table's language use (a batch in eight languages looks up each word
    once, in its article's language, not eight times)."""

    _UNSET = -2

    def __init__(self, zipf: Mapping[str, float], vocabulary: _Vocabulary) -> None:
        self.zipf, self.vocabulary = zipf, vocabulary
        self.slots = np.zeros(0, dtype=np.int64)
        self.weights = np.zeros(0, dtype=np.float64)

    def covering(self, ids: np.ndarray) -> "_TermArrays":
        """Make sure the words numbered ``ids`` have their slot and weight."""
        words = self.vocabulary.words
        if len(self.slots) < len(words):
            grow = len(words) - len(self.slots)
            self.slots = np.r_[self.slots, np.full(grow, self._UNSET, dtype=np.int64)]
            self.weights = np.r_[self.weights, np.zeros(grow, dtype=np.float64)]
        needed = np.unique(ids[self.slots[ids] == self._UNSET]).tolist()  # unique() of the new ones only
        if needed:
            written = [words[i] for i in needed]
            folded = [fold(word) for word in written]
            lookup = getattr(self.zipf, "lookup", None)
            if lookup is not None:
                values = [None if math.isnan(v) else v for v in lookup(folded).tolist()]
            else:
                values = [self.zipf.get(word) for word in folded]
            found = list(map(_term_of, written, folded, values))
            self.slots[needed] = [slot for slot, _ in found]
            self.weights[needed] = [weight for _, weight in found]
        return self


class WordCodes:
    """What tokenizing has learned so far, kept from batch to batch by its owner (a :class:`StoryIndex`):
    the number of each word seen, and per frequency table the slot and weight of those words.

    A cache, not state of the result: a fresh one gives the same assignments, only slower.
    """

    def __init__(self) -> None:
        self.vocabulary = _Vocabulary()
        self._term_arrays: dict[int, _TermArrays] = {}  # id(zipf table) -> arrays; each keeps its table alive

    def for_batch(self) -> _Vocabulary:
        """The vocabulary for the next batch; started afresh once it is large (word numbers live for one batch)."""
        if len(self.vocabulary) > _MAX_CACHED_TOKENS:
            self.vocabulary = _Vocabulary()
            self._term_arrays.clear()
        return self.vocabulary

    def term_arrays(self, zipf: Mapping[str, float], ids: np.ndarray) -> _TermArrays:
        """Slots and weights under ``zipf`` covering the words numbered ``ids``."""
        found = self._term_arrays.get(id(zipf))
        if found is None or found.zipf is not zipf or found.vocabulary is not self.vocabulary:
            if len(self._term_arrays) > 64:
                self._term_arrays.clear()
            found = self._term_arrays[id(zipf)] = _TermArrays(zipf, self.vocabulary)
        return found.covering(ids)


_PERMUTATIONS = MinHash(num_perm=MINHASH_PERMUTATIONS, seed=MINHASH_SEED, scheme="affine32").permutations
_EMPTY_HASH = np.uint32(0xFFFFFFFF)


def minhash_signatures(values: np.ndarray, owners: np.ndarray, count: int, *, chunk: int = 1 << 13) -> np.ndarray:
    """MinHash signatures of ``count`` sets given as shingle hashes and their (ascending) set numbers,
    equal to datasketch's affine32 ``MinHash.update_batch``; a set with no shingles gets the empty signature.

    >>> signatures = minhash_signatures(np.array([1, 2, 3], dtype=np.uint32), np.array([0, 0, 0]), 2)
    >>> reference = MinHash(num_perm=MINHASH_PERMUTATIONS, seed=MINHASH_SEED, hashfunc=int)
    >>> reference.update_batch([1, 2, 3])
    >>> bool((signatures[0] == reference.hashvalues).all()), int(signatures[1].min()) == 2**32 - 1
    (True, True)
    """
    a, b = _PERMUTATIONS
    out = np.full((count, len(a)), _EMPTY_HASH, dtype=np.uint32)
    if not len(values):
        return out
    values = _fmix32(np.asarray(values, dtype=np.uint32))
    a, b = a[:, None].astype(np.uint32), b[:, None].astype(np.uint32)
    with np.errstate(over="ignore"):
        for start in range(0, len(values), chunk):
            who = owners[start: start + chunk]
            # One row per permutation: contiguous reductions. 8,192 shingles x 64 permutations (2 MB) stay
            # in cache: 2.6 times faster than 262,144 at a time (64 MB).
            part = values[None, start: start + chunk] * a
            part += b
            firsts = segment_starts(who)
            minima = np.minimum.reduceat(part, firsts, axis=1)
            out[who[firsts]] = np.minimum(out[who[firsts]], minima.T)
    return out


def jaccard_estimate(first: np.ndarray, second: np.ndarray) -> float:
    """Share of equal MinHash slots: the estimate of the Jaccard similarity of the two sets.

    >>> jaccard_estimate(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 0]))
    0.5
    """
    return float(np.mean(first == second))


def band_keys(signatures: np.ndarray) -> np.ndarray:
    """One 64-bit key per LSH band (``LSH_ROWS`` slots each) of each signature: shape (n, LSH_BANDS)."""
    bands = signatures[:, : LSH_BANDS * LSH_ROWS].astype(np.uint64).reshape(len(signatures), LSH_BANDS, LSH_ROWS)
    keys = np.zeros(bands.shape[:2], dtype=np.uint64)
    for row in range(LSH_ROWS):
        keys = _mix64(keys * _GOLDEN + bands[:, :, row])
    return keys


@dataclass(frozen=True)
class StoryDoc:
    """What story assignment needs of an article (the flow builds it from an articles-table row)."""

    doc_id: str
    body: str  # body_normalized
    day: date | None  # publication date; None when unknown (see UNDATED)
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
    similarity: float = 0.0  # to the story it joined (1.0 for duplicates, 0.0 for a new story)


def new_story_id(doc_id: str) -> str:
    """A story is named after the article that started it.

    >>> new_story_id("2cf24dba5fb0a30e26e83b2ac5b9e29e")
    's-2cf24dba5fb0a30e26e83b2a'
    """
    return "s-" + doc_id[:24]


ZipfTables = Callable[[str | None], Mapping[str, float]]


def segment_starts(owners: np.ndarray) -> np.ndarray:
    """Index of the first element of each run of equal values in ``owners``."""
    return np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]]) if len(owners) else np.zeros(0, dtype=np.int64)


class _Tokens:
    """A batch of bodies as one token stream: per token its document, line and folded-token hash."""

    def __init__(self, bodies: Sequence[str], codes: WordCodes | None = None) -> None:
        self.codes = codes or WordCodes()
        vocabulary = self.codes.for_batch()
        self.count = len(bodies)
        # A few bodies at a time: a commit's bodies as word lists were about 100 MB of short-lived strings.
        lengths_parts, code_parts = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        for start in range(0, len(bodies), _TOKENIZE_BODIES):
            lists = [body.replace("\n", f" {_BREAK} ").split() for body in bodies[start:start + _TOKENIZE_BODIES]]
            lengths_parts.append(np.fromiter(map(len, lists), dtype=np.int64, count=len(lists)))
            code_parts.append(np.fromiter(map(vocabulary.__getitem__, chain.from_iterable(lists)), dtype=np.int64,
                                          count=int(lengths_parts[-1].sum())))
        lengths, codes = np.concatenate(lengths_parts), np.concatenate(code_parts)
        del lengths_parts, code_parts
        doc = np.repeat(np.arange(self.count, dtype=np.int64), lengths)
        breaks = codes == _LINE_BREAK
        starts = np.zeros(len(codes), dtype=bool)
        offsets = np.r_[0, np.cumsum(lengths)[:-1]]
        starts[offsets[offsets < len(codes)]] = True
        line = np.cumsum(breaks | starts)
        words = codes >= 0
        codes, self.doc, line = codes[words], doc[words], line[words]
        self.ids = codes >> 32  # word numbers in the vocabulary
        self.hashes = (codes & 0xFFFFFFFF).astype(np.uint64)
        self.doc_words = np.bincount(self.doc, minlength=self.count)
        self.doc_first = np.r_[0, np.cumsum(self.doc_words)[:-1]]
        # Lines: runs of tokens between breaks; a line's key hashes its folded words in order.
        self.line_first = segment_starts(line)
        self.line_of = np.cumsum(np.r_[False, line[1:] != line[:-1]]) if len(line) else line
        self.line_doc = self.doc[self.line_first]

    def line_keys(self, sites: Sequence[str | None]) -> np.ndarray:
        """64-bit key of each line within its site: the same line on two pages of one site is boilerplate."""
        if not len(self.ids):
            return np.zeros(0, dtype=np.uint64)
        position = np.arange(len(self.ids)) - self.line_first[self.line_of]
        mixed = _mix64(self.hashes + (position.astype(np.uint64) + _U64(1)) * _GOLDEN)
        lines = np.add.reduceat(mixed, self.line_first)
        site_keys = np.fromiter((zlib.crc32((site or "").encode("utf-8")) for site in sites), dtype=np.uint64,
                                count=len(sites))
        return _mix64(lines ^ _mix64(site_keys[self.line_doc] + _GOLDEN))

    def body_keys(self) -> list[str]:
        """Key of each body for exact-duplicate detection: its folded words in order, 64 bits as hex."""
        return [f"{key:016x}" for key in self.body_key_values().tolist()]

    def body_key_values(self) -> np.ndarray:
        """:meth:`body_keys` as uint64."""
        position = np.arange(len(self.ids)) - self.doc_first[self.doc]
        mixed = _mix64(self.hashes ^ _mix64(position.astype(np.uint64) + _GOLDEN))
        sums = np.zeros(self.count, dtype=np.uint64)
        has = self.doc_words > 0
        if has.any():
            sums[has] = np.add.reduceat(mixed, self.doc_first[has])
        return _mix64(sums + self.doc_words.astype(np.uint64) * _GOLDEN)

    def signatures(self) -> np.ndarray:
        """MinHash signature of each body's word shingles (one in ``SHINGLE_SAMPLE``, by hash, if enough)."""
        n, span = len(self.ids), SHINGLE_WORDS
        combined = np.zeros(max(n - span + 1, 0), dtype=np.uint64)
        for offset in range(span):
            combined = combined * _GOLDEN + self.hashes[offset: offset + len(combined)]
        owner = self.doc[: len(combined)]
        valid = owner == self.doc[span - 1:]
        combined, owner = combined[valid], owner[valid]
        short = np.flatnonzero((self.doc_words > 0) & (self.doc_words < span))
        if len(short):  # fewer words than a shingle: the whole text is the one shingle
            extra = np.zeros(len(short), dtype=np.uint64)
            for i, d in enumerate(short.tolist()):
                for value in self.hashes[self.doc_first[d]: self.doc_first[d] + self.doc_words[d]].tolist():
                    extra[i] = extra[i] * _GOLDEN + _U64(value)
            order = np.argsort(np.r_[owner, short], kind="stable")
            combined, owner = np.r_[combined, extra][order], np.r_[owner, short][order]
        folded = ((combined ^ (combined >> _U64(32))) & _U64(0xFFFFFFFF)).astype(np.uint32)
        if SHINGLE_SAMPLE > 1:
            # Fixed-rate sampling by hash value keeps the same shingles of two copies, so it preserves
            # their Jaccard similarity in expectation at a fraction of the hashing cost.
            sampled = _fmix32(folded ^ np.uint32(0x5BD1E995)) % np.uint32(SHINGLE_SAMPLE) == 0
            enough = np.bincount(owner[sampled], minlength=self.count) >= MIN_SAMPLED_SHINGLES
            keep = sampled | ~enough[owner]
            folded, owner = folded[keep], owner[keep]
        return minhash_signatures(folded, owner, self.count)

    def story_vectors(self, docs: Sequence[StoryDoc], kept_lines: np.ndarray,
                      zipf: ZipfTables) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each article's ``STORY_TERMS`` strongest terms (slots, L2-normalized weights, strongest first):
        (1 + log term frequency) x rarity over its kept lines, plus its entities. As CSR rows: offsets
        (article i's terms are ``offsets[i]:offsets[i + 1]``), int32 slots, float32 weights."""
        keep = kept_lines[self.line_of] if len(self.ids) else np.zeros(0, dtype=bool)
        titles = [(doc_.title or "").split() if TITLE_REPEAT else [] for doc_ in docs]
        lengths = np.fromiter(map(len, titles), dtype=np.int64, count=len(titles))
        codes = np.fromiter(map(self.codes.vocabulary.__getitem__, chain.from_iterable(titles)), dtype=np.int64,
                            count=int(lengths.sum()))
        owners = np.repeat(np.arange(len(docs)), lengths)[codes >= 0]
        words = codes[codes >= 0] >> 32
        ids = np.r_[self.ids[keep], np.repeat(words, TITLE_REPEAT)]
        doc = np.r_[self.doc[keep], np.repeat(owners, TITLE_REPEAT)]
        languages = [doc_.language for doc_ in docs]
        distinct = list(dict.fromkeys(languages))
        slot = np.full(len(ids), -1, dtype=np.int64)
        weight = np.zeros(len(ids), dtype=np.float64)
        for language in distinct:
            if len(distinct) == 1:
                arrays = self.codes.term_arrays(zipf(language), ids)
                slot, weight = arrays.slots[ids], arrays.weights[ids]
            else:
                mine = np.array([lang == language for lang in languages], dtype=bool)[doc]
                arrays = self.codes.term_arrays(zipf(language), ids[mine])
                slot[mine], weight[mine] = arrays.slots[ids[mine]], arrays.weights[ids[mine]]
        useful = slot >= 0
        rows, cols, weight = doc[useful], slot[useful], weight[useful]
        shape = (len(docs), 1 << FEATURE_BITS)
        # Summed weight (real part) and term frequency (imaginary part) per (article, slot) in one pass:
        # half the time of two matrices, and the same sums (the same sort of the same coordinates).
        both = sparse.csr_matrix((weight + 1j, (rows, cols)), shape=shape)
        both.sum_duplicates()
        counts, sums = both.data.imag, both.data.real
        values = (1.0 + np.log(counts)) * (sums / counts)
        rows = np.repeat(np.arange(len(docs)), np.diff(both.indptr))
        cols = both.indices.astype(np.int64)
        extra = [(i, term_slot("entity:" + name.casefold()),
                  ENTITY_WEIGHT * (1.0 + math.log(mentions)) * _name_rarity(name, zipf(doc_.language)))
                 for i, doc_ in enumerate(docs) for name, mentions in doc_.entities if mentions > 0]
        if extra:
            more = np.array(extra, dtype=np.float64)
            merged = sparse.csr_matrix((np.r_[values, more[:, 2]], (np.r_[rows, more[:, 0].astype(np.int64)],
                                                                    np.r_[cols, more[:, 1].astype(np.int64)])),
                                       shape=shape)
            merged.sum_duplicates()
            rows = np.repeat(np.arange(len(docs)), np.diff(merged.indptr))
            cols, values = merged.indices.astype(np.int64), merged.data
        order = np.lexsort((-values, rows))  # stable: equal weights stay in slot order
        rows, cols, values = rows[order], cols[order], values[order]
        starts = np.searchsorted(rows, np.arange(len(docs) + 1))
        top = np.arange(len(rows)) - starts[rows] < STORY_TERMS
        rows, cols, values = rows[top], cols[top], values[top]
        norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=len(docs)))
        values = values / np.where(norms > 0, norms, 1.0)[rows]
        return np.searchsorted(rows, np.arange(len(docs) + 1)), cols.astype(np.int32), values.astype(np.float32)


def _name_rarity(name: str, zipf: Mapping[str, float]) -> float:
    """1 for a name the frequency table lacks, less the more common it is as a word.

    >>> _name_rarity("US", {"us": 7.2}), _name_rarity("Kristi Noem", {"us": 7.2})
    (0.0, 1.0)
    """
    found = zipf.get(fold(name))
    return 1.0 if found is None else max(0.0, ZIPF_CEILING - found) / (ZIPF_CEILING - UNKNOWN_ZIPF)


def body_key(text: str) -> str:
    """Key of a normalized body for exact-duplicate detection: case, spacing and punctuation do not count.

    >>> body_key("Turkey  may send\\ntroops.") == body_key("turkey may send troops")
    True
    >>> body_key("troops may send Turkey") == body_key("Turkey may send troops")
    False
    """
    return _Tokens([text]).body_keys()[0]


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indexes ``starts[k]:starts[k] + lengths[k]`` of every k, concatenated.

    >>> _ranges(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist()
    [5, 6, 9, 10, 11]
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    ends = np.cumsum(lengths)
    return np.repeat(np.asarray(starts, dtype=np.int64) - ends + lengths, lengths) + np.arange(ends[-1] if len(ends) else 0)


def _matrices(query: tuple[np.ndarray, np.ndarray, np.ndarray], other: tuple[np.ndarray, np.ndarray, np.ndarray]
              ) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """Sparse rows of the ``query`` CSR vectors (offsets from 0, slots, weights) and of ``other`` ones, over a
    compact column space: the slots the query uses. Products with the query (``query @ other.T``,
    ``query @ query.T``) ignore every other slot, so ``other`` keeps only its entries in those columns: the
    products are the same, and neither a sort of all of ``other``'s slots nor the unused entries are paid for.

    >>> query = (np.array([0, 2]), np.array([5, 9]), np.array([0.6, 0.8]))
    >>> other = (np.array([0, 2, 3]), np.array([9, 7, 5]), np.array([1.0, 1.0, 1.0]))
    >>> q, o = _matrices(query, other)
    >>> (q @ o.T).toarray().round(2).tolist(), o.shape
    ([[0.8, 0.6]], (2, 2))
    """
    offsets, slots, weights = query
    used, columns = np.unique(slots, return_inverse=True)
    width = max(len(used), 1)
    matrix = sparse.csr_matrix((weights, columns.ravel(), offsets), shape=(len(offsets) - 1, width))
    matrix.sum_duplicates()
    offsets, slots, weights = other
    at = np.minimum(np.searchsorted(used, slots), width - 1)
    kept = used[at] == slots if len(used) else np.zeros(len(slots), dtype=bool)
    rows = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))[kept]
    kept_offsets = np.r_[0, np.cumsum(np.bincount(rows, minlength=len(offsets) - 1))]
    others = sparse.csr_matrix((weights[kept], at[kept], kept_offsets), shape=(len(offsets) - 1, width))
    others.sum_duplicates()
    return matrix, others


def _rows(vectors: tuple[np.ndarray, np.ndarray, np.ndarray], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The CSR vectors numbered ``rows``, in that order, as CSR vectors of their own."""
    offsets, slots, weights = vectors
    lengths = offsets[rows + 1] - offsets[rows]
    where = _ranges(offsets[rows], lengths)
    return np.r_[0, np.cumsum(lengths)], slots[where], weights[where]


def _sorted_contains(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """Which needles occur in the sorted haystack (binary search, no sort of the haystack)."""
    if not len(haystack):
        return np.zeros(len(needles), dtype=bool)
    where = np.minimum(np.searchsorted(haystack, needles), len(haystack) - 1)
    return haystack[where] == needles


def _sorted_merge(table: np.ndarray, where: np.ndarray, keys: np.ndarray, values: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Insert (key, value) pairs into a table sorted by key; among equal keys, old pairs first, then new
    ones in their given order (a merge of two sorted arrays: no re-sort of the whole table)."""
    order = np.argsort(keys, kind="stable")
    at = np.searchsorted(table, keys[order], "right")
    return np.insert(table, at, keys[order]), np.insert(where, at, values[order])


def _at_least(product: sparse.spmatrix, threshold: float) -> sparse.csr_matrix:
    """The entries of a similarity product that reach the threshold, as CSR."""
    product = product.tocsr()
    product.data[product.data < threshold] = 0
    product.eliminate_zeros()
    return product


class _Column:
    """A numpy array grown by a quarter (at least 1024 rows) when full: appends cost amortized O(1), no
    Python object per row, and at most a fifth of it is slack. ``data[:size]`` holds the rows."""

    def __init__(self, dtype: type, width: int = 0, values: np.ndarray | None = None) -> None:
        if values is None:
            self.data = np.empty((0, width) if width else (0,), dtype=dtype)
        else:  # adopted as is when it can be written in place, else copied (a view of a read-only buffer)
            self.data = np.asarray(values, dtype=dtype)
            if not (self.data.flags.writeable and self.data.flags.c_contiguous):
                self.data = self.data.copy()
        self.size = len(self.data)

    def reserve(self, extra: int) -> None:
        needed = self.size + extra
        if needed > len(self.data):
            grown = np.empty((max(needed, len(self.data) + len(self.data) // 4 + 1024),) + self.data.shape[1:],
                             dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown

    def extend(self, values: np.ndarray) -> None:
        self.reserve(len(values))
        self.data[self.size: self.size + len(values)] = values
        self.size += len(values)

    def append(self, value: object) -> None:
        self.reserve(1)
        self.data[self.size] = value
        self.size += 1

    @property
    def view(self) -> np.ndarray:
        return self.data[: self.size]


@dataclass(frozen=True)
class TextColumn:
    """Strings (or bytes) laid out as Arrow does: row i is ``data[offsets[i]:offsets[i + 1]]`` (UTF-8),
    null where ``valid`` is False (None: no nulls). A list of str objects costs about 50 bytes more per row.

    >>> column = TextColumn.of(["ab", None, "é"])
    >>> column.offsets.tolist(), column.data, column.tolist()
    ([0, 2, 2, 4], b'ab\\xc3\\xa9', ['ab', None, 'é'])
    """

    offsets: np.ndarray  # int64, rows + 1
    data: bytes
    valid: np.ndarray | None = None  # bool per row

    @classmethod
    def of(cls, values: Sequence[str | bytes | None]) -> "TextColumn":
        encoded = [b"" if v is None else v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in values]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
        valid = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
        return cls(offsets, b"".join(encoded), None if valid.all() else valid)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def tolist(self) -> list[str | None]:
        return _decode(self.data, self.offsets, self.valid)


def _decode(data: bytes | bytearray, offsets: np.ndarray, valid: np.ndarray | None) -> list[str | None]:
    """The strings of a :class:`TextColumn` layout."""
    bounds = offsets.tolist()
    if isinstance(data, memoryview):
        data = data.tobytes()
    if data.isascii():  # one decode; byte offsets are character offsets
        text = data.decode("ascii")
        values = [text[s:e] for s, e in zip(bounds[:-1], bounds[1:])]
    else:
        view = memoryview(data)
        values = [str(view[s:e], "utf-8") for s, e in zip(bounds[:-1], bounds[1:])]
    if valid is not None:
        values = [v if ok else None for v, ok in zip(values, valid.tolist())]
    return values


@dataclass(frozen=True)
class CodedColumn:
    """Strings with few distinct values (stories, sites) as numbers into ``names``; -1 for null."""

    codes: np.ndarray  # int32
    names: list[str]

    @classmethod
    def of(cls, values: Sequence[str | None]) -> "CodedColumn":
        numbers: dict[str, int] = {}
        codes = np.fromiter((-1 if v is None else numbers.setdefault(v, len(numbers)) for v in values),
                            dtype=np.int32, count=len(values))
        return cls(codes, list(numbers))

    def tolist(self) -> list[str | None]:
        names = self.names + [None]  # code -1 picks the last
        return [names[c] for c in self.codes.tolist()]


class _Strings:
    """An append-only :class:`TextColumn`: one byte buffer, offsets and validity that grow in place."""

    def __init__(self, column: TextColumn | None = None) -> None:
        column = column or TextColumn(np.zeros(1, dtype=np.int64), b"")
        self.data = bytearray(column.data[int(column.offsets[0]): int(column.offsets[-1])])
        self.offsets = _Column(np.int64, values=column.offsets - column.offsets[0])
        self.valid = _Column(bool, values=np.ones(len(column), dtype=bool) if column.valid is None else column.valid)

    def __len__(self) -> int:
        return self.valid.size

    def append(self, value: str) -> None:
        encoded = value.encode("utf-8")
        self.data += encoded
        self.offsets.append(self.offsets.data[self.offsets.size - 1] + len(encoded))
        self.valid.append(True)

    def __getitem__(self, row: int) -> str | None:
        if not self.valid.data[row]:
            return None
        return self.data[self.offsets.data[row]: self.offsets.data[row + 1]].decode("utf-8")

    def extend(self, values: Sequence[str | None]) -> None:
        column = TextColumn.of(values)
        self.offsets.extend(column.offsets[1:] + self.offsets.data[self.offsets.size - 1])
        self.data += column.data
        self.valid.extend(np.ones(len(values), dtype=bool) if column.valid is None else column.valid)

    def column(self) -> TextColumn:
        valid = self.valid.view
        return TextColumn(self.offsets.view.copy(), bytes(self.data), None if valid.all() else valid.copy())

    def tolist(self) -> list[str | None]:
        valid = self.valid.view
        return _decode(self.data, self.offsets.view, None if valid.all() else valid)


# Story centroids kept as dicts between batches (the stories of the last days are the likely candidates
# of the next batch); beyond this many, all go back to the pool alone. About 8 KB each.
_HOT_STORIES = 2048
_NO_ROOT = -1  # near_duplicate_of of an original; a position (>= 0) names the stored original it copies
_NO_ORIGINAL, _ORIGINALS = -1, -2  # a story's one original: none yet, or several


class StoryIndex:
    """Every stored article's story, MinHash signature and story terms; story centroids; exact-duplicate
    ledger; site lines.

    Columnar, so that an article costs bytes rather than Python objects: per article one row of a 2-D
    uint32 signature array, its terms in one int32 and one float32 array (CSR offsets), numbers for its
    story, site and original, its doc_id and title in one UTF-8 buffer each. Story centroids live in one
    pool of (slot, weight) runs; the stories an assignment touches become dicts while it runs.

    Mutable on purpose (it is an index, not a record): :meth:`assign` reads and extends it.
    """

    def __init__(self) -> None:
        self._word_codes = WordCodes()  # a cache across batches (word numbers, term slots and weights)
        self._doc_ids = _Strings()
        self._titles = _Strings()
        self._story = _Column(np.int32)  # story number per article
        self._near = _Column(np.int32)  # _NO_ROOT, the original's position, or -2 - k for _foreign_roots[k]
        self._days = _Column(np.int32)
        self._site = _Column(np.int32)  # site number, -1 for none
        self._signatures = _Column(np.uint32, MINHASH_PERMUTATIONS)
        self._term_offsets = _Column(np.int64, values=np.zeros(1, dtype=np.int64))
        self._term_slots = _Column(np.int32)
        self._term_weights = _Column(np.float32)
        self._foreign_roots: list[str] = []  # originals named by a loaded index but not stored in it
        self._site_names: list[str | None] = []
        self._site_numbers: dict[str | None, int] = {}
        # Lookups: 64-bit keys sorted, with positions. doc_id keys are Python's str hash (this process only).
        self._doc_keys = np.zeros(0, dtype=np.uint64)
        self._doc_positions = np.zeros(0, dtype=np.int32)
        self._body_keys = np.zeros(0, dtype=np.uint64)  # body key -> position of the first article
        self._body_positions = np.zeros(0, dtype=np.int32)
        # Stories: names, first and last day, sites, centroid (a run of the pool, its norm).
        self._story_names = _Strings()
        self._story_keys = np.zeros(0, dtype=np.uint64)  # sorted str hashes of the names, with numbers
        self._story_key_numbers = np.zeros(0, dtype=np.int32)
        self._new_stories: dict[str, int] = {}  # stories named since the last _index_story_names()
        self._story_days = _Column(np.int64, 2)
        self._story_sites = np.zeros(0, dtype=np.uint64)  # sorted story << 32 | site
        self._new_story_sites: set[int] = set()
        # A centroid is a run of the pool (start >= 0), or, for a story of one original, that article's own
        # terms (start = -1 - its position): most stories have one original, and then the centroid is its
        # terms exactly, so it is not stored twice.
        self._centroid_start = _Column(np.int64)
        self._centroid_length = _Column(np.int64)
        self._single = _Column(np.int32)  # the story's one original; _NO_ORIGINAL, or _ORIGINALS for several
        self._centroid_norm = _Column(np.float64)
        self._pool_slots = _Column(np.int32)
        self._pool_weights = _Column(np.float64)  # float64: centroid sums as Python floats add them
        self._pool_garbage = 0
        self._hot: dict[int, dict[int, float]] = {}  # story -> its centroid as a dict (a cache of the pool)
        self._dirty: set[int] = set()  # stories whose dict differs from the pool
        self.ledger: list[dict] = []  # exact duplicates: the extra sources
        self.site_lines = np.zeros(0, dtype=np.uint64)  # sorted
        self._bands: list[tuple[np.ndarray, np.ndarray]] | None = None  # per band: sorted keys, positions

    def __len__(self) -> int:
        return self._story.size

    # -- reading --------------------------------------------------------------------------------------
    def position(self, doc_id: str) -> int | None:
        """Where the article ``doc_id`` is stored (the later one, were it stored twice), or None."""
        found = int(self._positions_of([doc_id])[0])
        return None if found < 0 else found

    def story_of(self, doc_id: str) -> str | None:
        position = self.position(doc_id)
        return None if position is None else self._story_names[self._story.data[position]]

    def terms(self, position: int) -> tuple[np.ndarray, np.ndarray]:
        """The story terms of the article at ``position``: slots, weights."""
        s, e = self._term_offsets.data[position], self._term_offsets.data[position + 1]
        return self._term_slots.data[s:e], self._term_weights.data[s:e]

    @property
    def story_count(self) -> int:
        return len(self._story_names)

    @property
    def nbytes(self) -> int:
        """Bytes the index holds: its arrays (the rows in use: the growth slack at their end is never
        written, so it takes address space, not memory), band tables, names and ledger."""
        total = sum(b.nbytes for band in self._bands or () for b in band)
        for value in vars(self).values():
            if isinstance(value, _Column):
                total += value.view.nbytes
            elif isinstance(value, np.ndarray):
                total += value.nbytes
            elif isinstance(value, _Strings):
                total += len(value.data) + value.offsets.view.nbytes + value.valid.view.nbytes
            elif isinstance(value, (list, dict, set)):  # dict keys are the names the lists hold
                total += sys.getsizeof(value) + sum(map(sys.getsizeof, value if isinstance(value, list) else ()))
        total += sum(sys.getsizeof(v) for entry in self.ledger for v in entry.values())
        return total

    # Per-article lists, built on demand for tests and scripts (the flow reads to_arrays()).
    @property
    def doc_ids(self) -> list[str]:
        return self._doc_ids.tolist()

    @property
    def story_ids(self) -> list[str]:
        names = self._story_names.tolist()
        return [names[n] for n in self._story.view.tolist()]

    @property
    def near_duplicate_of(self) -> list[str | None]:
        return self._near_column().tolist()

    @property
    def days(self) -> list[int]:
        return self._days.view.tolist()

    @property
    def sites(self) -> list[str | None]:
        names = self._site_names + [None]
        return [names[n] for n in self._site.view.tolist()]

    @property
    def titles(self) -> list[str | None]:
        return self._titles.tolist()

    @property
    def signatures(self) -> np.ndarray:
        return self._signatures.view

    def _doc_id(self, position: int) -> str:
        return self._doc_ids[position]

    def _root_name(self, code: int) -> str | None:
        if code == _NO_ROOT:
            return None
        return self._doc_id(code) if code >= 0 else self._foreign_roots[-2 - code]

    def _near_column(self) -> CodedColumn:
        near = self._near.view
        roots = np.unique(near[near >= 0])
        names = self._doc_ids.tolist() if len(roots) > len(self) // 8 else None
        root_names = [names[p] if names is not None else self._doc_id(p) for p in roots.tolist()]
        codes = np.full(len(near), -1, dtype=np.int32)
        codes[near >= 0] = np.searchsorted(roots, near[near >= 0])
        foreign = near <= -2
        codes[foreign] = len(roots) + (-2 - near[foreign])
        return CodedColumn(codes, root_names + self._foreign_roots)

    def _positions_of(self, doc_ids: Sequence[str]) -> np.ndarray:
        """Stored position of each doc_id (the later one, were it stored twice), -1 where none."""
        out = np.full(len(doc_ids), -1, dtype=np.int64)
        if not len(self._doc_keys) or not len(doc_ids):
            return out
        keys = np.fromiter(map(hash, doc_ids), dtype=np.int64, count=len(doc_ids)).view(np.uint64)
        left = np.searchsorted(self._doc_keys, keys, "left")
        right = np.searchsorted(self._doc_keys, keys, "right")
        for i in np.flatnonzero(right > left).tolist():
            for at in range(int(right[i]) - 1, int(left[i]) - 1, -1):  # equal keys: positions ascending
                position = int(self._doc_positions[at])
                if self._doc_id(position) == doc_ids[i]:
                    out[i] = position
                    break
        return out

    def _index_doc_ids(self, start: int, doc_ids: Sequence[str]) -> None:
        """Add the doc_ids of the articles from ``start`` on to the lookup."""
        keys = np.fromiter(map(hash, doc_ids), dtype=np.int64, count=len(doc_ids)).view(np.uint64)
        positions = np.arange(start, start + len(doc_ids), dtype=np.int32)
        self._doc_keys, self._doc_positions = _sorted_merge(self._doc_keys, self._doc_positions, keys, positions)

    def _body_positions_of(self, keys: np.ndarray) -> np.ndarray:
        if not len(self._body_keys):
            return np.full(len(keys), -1, dtype=np.int64)
        where = np.minimum(np.searchsorted(self._body_keys, keys, "right") - 1, len(self._body_keys) - 1)
        found = (where >= 0) & (self._body_keys[np.maximum(where, 0)] == keys)
        return np.where(found, self._body_positions[np.maximum(where, 0)], -1)

    def _site_number(self, site: str | None) -> int:
        number = self._site_numbers.get(site)
        if number is None:
            if site is None:
                return -1
            number = self._site_numbers[site] = len(self._site_names)
            self._site_names.append(site)
        return number

    # -- stories --------------------------------------------------------------------------------------
    def _story_number(self, name: str, day: int) -> int:
        number = self._new_stories.get(name)
        if number is None:
            number = self._story_named(name)
        if number is None:
            number = self._new_stories[name] = len(self._story_names)
            self._story_names.append(name)
            self._story_days.append((day, day))
            self._centroid_start.append(0)
            self._centroid_length.append(0)
            self._centroid_norm.append(0.0)
            self._single.append(_NO_ORIGINAL)
            self._hot[number] = {}
        return number

    def _story_named(self, name: str) -> int | None:
        """The number of the story ``name`` among those indexed by _index_story_names(), or None."""
        key = hash(name) & 0xFFFFFFFFFFFFFFFF
        at = int(self._story_keys.searchsorted(key))
        while at < len(self._story_keys) and int(self._story_keys[at]) == key:
            if self._story_names[int(self._story_key_numbers[at])] == name:
                return int(self._story_key_numbers[at])
            at += 1
        return None

    def _index_story_names(self) -> None:
        if self._new_stories:
            keys = np.fromiter(map(hash, self._new_stories), dtype=np.int64, count=len(self._new_stories))
            numbers = np.fromiter(self._new_stories.values(), dtype=np.int32, count=len(self._new_stories))
            self._story_keys, self._story_key_numbers = _sorted_merge(
                self._story_keys, self._story_key_numbers, keys.view(np.uint64), numbers)
            self._new_stories.clear()

    def _grow(self, story: int, day: int, site: int, root: int, slots: list[int], weights: list[float],
              position: int) -> None:
        """Account for the article at ``position``, new in ``story``: its days, its site, and (an original)
        its terms."""
        if day != UNDATED:
            first, last = self._story_days.data[story].tolist()
            if first == UNDATED:
                self._story_days.data[story] = (day, day)
            elif day < first or day > last:
                self._story_days.data[story] = (min(first, day), max(last, day))
        if site >= 0 and self._site_names[site]:
            self._new_story_sites.add(story << 32 | site)
        if root == _NO_ROOT:
            self._single.data[story] = position if self._single.data[story] == _NO_ORIGINAL else _ORIGINALS
            terms = self._terms(story)
            # terms[slot] += weight for each term (an article's slots are distinct), without a Python loop.
            terms.update(zip(slots, map(operator.add, map(terms.get, slots, repeat(0.0, len(slots))), weights)))
            if len(terms) > 2 * CENTROID_TERMS:  # keep the strongest: bounds memory and comparison cost
                terms = self._hot[story] = dict(sorted(terms.items(), key=lambda item: (-item[1], item[0]))[:CENTROID_TERMS])
            self._centroid_norm.data[story] = math.hypot(*terms.values())
            self._dirty.add(story)

    def _has_site(self, story: int, site: int) -> bool:
        key = story << 32 | site
        if key in self._new_story_sites:
            return True
        at = int(self._story_sites.searchsorted(key))
        return at < len(self._story_sites) and int(self._story_sites[at]) == key

    def _terms(self, story: int) -> dict[int, float]:
        """The story's centroid (summed weights by slot) as a dict, kept until the next flush."""
        terms = self._hot.get(story)
        if terms is None:
            s, n = int(self._centroid_start.data[story]), int(self._centroid_length.data[story])
            if s >= 0:
                slots, weights = self._pool_slots.data[s: s + n], self._pool_weights.data[s: s + n]
            else:
                slots, weights = self.terms(-1 - s)
            terms = self._hot[story] = dict(zip(slots.tolist(), weights.tolist()))
        return terms

    def _similarity(self, story: int, slots: list[int], weights: list[float]) -> float:
        norm = float(self._centroid_norm.data[story])
        if not norm:
            return 0.0
        terms = self._terms(story)
        return sum(map(operator.mul, map(terms.get, slots, repeat(0.0, len(slots))), weights)) / norm

    def _flush(self) -> None:
        """Write the changed centroids back to the pool (at its end), merge new story sites."""
        if self._dirty:
            stories = np.array(sorted(self._dirty), dtype=np.int64)
            self._dirty.clear()
            single = self._single.data[stories]
            ones = stories[single >= 0]  # the centroid is the article's terms
            self._centroid_start.data[ones] = -1 - single[single >= 0].astype(np.int64)
            self._centroid_length.data[ones] = [len(self._hot[n]) for n in ones.tolist()]
            stories = stories[single < 0]
            dicts = [self._hot[n] for n in stories.tolist()]
            lengths = np.fromiter(map(len, dicts), dtype=np.int64, count=len(dicts))
            total = int(lengths.sum())
            pooled = self._centroid_start.data[stories] >= 0
            self._pool_garbage += int(self._centroid_length.data[stories][pooled].sum())
            self._centroid_start.data[stories] = self._pool_slots.size + np.cumsum(lengths) - lengths
            self._centroid_length.data[stories] = lengths
            self._pool_slots.extend(np.fromiter(chain.from_iterable(dicts), dtype=np.int32, count=total))
            self._pool_weights.extend(np.fromiter(chain.from_iterable(d.values() for d in dicts), dtype=np.float64,
                                                  count=total))
            if self._pool_garbage > self._pool_slots.size // 2:
                self._compact_pool()
        if self._new_story_sites:
            new = np.fromiter(self._new_story_sites, dtype=np.uint64, count=len(self._new_story_sites))
            new = np.sort(new[~_sorted_contains(self._story_sites, new)])
            self._story_sites = np.insert(self._story_sites, np.searchsorted(self._story_sites, new), new)
            self._new_story_sites.clear()

    def _compact_pool(self) -> None:
        pooled = np.flatnonzero(self._centroid_start.view >= 0)
        lengths = self._centroid_length.data[pooled]
        where = _ranges(self._centroid_start.data[pooled], lengths)
        self._pool_slots = _Column(np.int32, values=self._pool_slots.data[where])
        self._pool_weights = _Column(np.float64, values=self._pool_weights.data[where])
        self._centroid_start.data[pooled] = np.cumsum(lengths) - lengths
        self._pool_garbage = 0

    def _centroids(self, stories: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The centroids of ``stories`` as CSR vectors with unit-length float32 weights."""
        starts, lengths = self._centroid_start.data[stories], self._centroid_length.data[stories]
        offsets = np.r_[0, np.cumsum(lengths)]
        slots = np.empty(offsets[-1], dtype=np.int32)
        weights = np.empty(offsets[-1], dtype=np.float64)
        pooled = starts >= 0
        into = _ranges(offsets[:-1][pooled], lengths[pooled])
        where = _ranges(starts[pooled], lengths[pooled])
        slots[into], weights[into] = self._pool_slots.data[where], self._pool_weights.data[where]
        into = _ranges(offsets[:-1][~pooled], lengths[~pooled])
        where = _ranges(self._term_offsets.data[-1 - starts[~pooled]], lengths[~pooled])
        slots[into], weights[into] = self._term_slots.data[where], self._term_weights.data[where]
        norms = self._centroid_norm.data[stories]
        norms = np.where(norms == 0, 1.0, norms).astype(np.float32)  # float32 / float32, as weights / norm did
        return offsets, slots, weights.astype(np.float32) / np.repeat(norms, lengths)

    # -- assignment ---------------------------------------------------------------------------------
    def assign(self, docs: Sequence[StoryDoc], *, zipf: ZipfTables) -> list[Assignment]:
        """Story, near- and exact-duplicate status of each article in ``docs``; adds them to the index.

        Articles are taken in publication order (input order among equals). A near duplicate joins its
        original's story; any other article joins the story, active within ``STORY_WINDOW_DAYS``, whose
        centroid it is most similar to when that similarity reaches ``STORY_SIMILARITY``, else starts one.
        An exact duplicate is not added (the ledger records it) and gets its original's story.
        """
        tokens = _Tokens([doc.body for doc in docs], self._word_codes)
        keys = tokens.body_key_values()
        known = self._positions_of([doc.doc_id for doc in docs]).tolist()
        stored = self._body_positions_of(keys).tolist()
        outcome: dict[int, Assignment] = {}
        fresh: list[int] = []
        batch_keys: dict[int, str] = {}
        for i, (doc, key) in enumerate(zip(docs, keys.tolist())):
            if known[i] >= 0:  # indexed by a run that stopped before writing it: same answer again
                at = known[i]
                outcome[i] = Assignment(doc.doc_id, self._story_names[self._story.data[at]],
                                        near_duplicate_of=self._root_name(int(self._near.data[at])))
                continue
            original = self._doc_id(stored[i]) if stored[i] >= 0 else batch_keys.get(key)
            if original is not None:
                outcome[i] = Assignment(doc.doc_id, "", exact_duplicate_of=original, similarity=1.0)
            else:
                batch_keys[key] = doc.doc_id
                fresh.append(i)
        if fresh:
            base = len(self)
            order = self._assign_fresh(docs, tokens, fresh, outcome, zipf)
            self._index_doc_ids(base, [docs[i].doc_id for i in order.tolist()])
            new = keys[order]
            self._body_keys, self._body_positions = _sorted_merge(
                self._body_keys, self._body_positions, new, np.arange(base, base + len(new), dtype=np.int32))
        if len(self._hot) > _HOT_STORIES:
            self._hot.clear()
        self._index_story_names()
        results = []
        for i, doc in enumerate(docs):
            found = outcome[i]
            if found.exact_duplicate_of is not None:
                story = self.story_of(found.exact_duplicate_of) or ""
                found = replace(found, story_id=story)
                self.ledger.append({"doc_id": doc.doc_id, "duplicate_of": found.exact_duplicate_of,
                                    "story_id": story, "site": doc.site, "url": doc.url,
                                    "source_uri": doc.source_uri, "day": _ordinal(doc.day), "title": doc.title})
            results.append(found)
        return results

    def _kept_lines(self, docs: Sequence[StoryDoc], tokens: _Tokens, fresh: np.ndarray) -> np.ndarray:
        """Which lines count for story terms: not published by the same site on another (fresh or stored)
        page. Records the fresh pages' lines as the site's."""
        keys = tokens.line_keys([doc.site for doc in docs])
        mine = fresh[tokens.line_doc] if len(keys) else np.zeros(0, dtype=bool)
        line_keys, line_docs = keys[mine], tokens.line_doc[mine]
        order = np.lexsort((line_docs, line_keys))  # distinct (key, page) pairs: a sort, not unique(axis=1)
        line_keys, line_docs = line_keys[order], line_docs[order]
        first = np.r_[True, (line_keys[1:] != line_keys[:-1]) | (line_docs[1:] != line_docs[:-1])]
        distinct, counts = np.unique(line_keys[first], return_counts=True)
        shared = distinct[counts > 1]
        repeated = np.isin(keys, shared) | _sorted_contains(self.site_lines, keys)
        new = distinct[~_sorted_contains(self.site_lines, distinct)]
        if len(new):  # a merge of two sorted arrays: no re-sort of the whole history per batch
            self.site_lines = np.insert(self.site_lines, np.searchsorted(self.site_lines, new), new)
        return ~repeated

    def _assign_fresh(self, docs: Sequence[StoryDoc], tokens: _Tokens, fresh_list: list[int],
                      outcome: dict[int, Assignment], zipf: ZipfTables) -> np.ndarray:
        """Place the fresh articles; returns them in the order they were stored."""
        fresh = np.zeros(len(docs), dtype=bool)
        fresh[fresh_list] = True
        signatures = tokens.signatures()
        vectors = tokens.story_vectors(docs, self._kept_lines(docs, tokens, fresh), zipf)
        days = np.array([_ordinal(doc.day) for doc in docs], dtype=np.int64)
        chosen = np.array(fresh_list, dtype=np.int64)
        order = chosen[np.lexsort((chosen, days[chosen]))]  # by day, then input order
        rank = np.full(len(docs), -1, dtype=np.int64)
        rank[order] = np.arange(len(order))
        near = self._near_duplicates(signatures, rank, tokens.doc_words > 0)
        base = len(self)
        self._append(docs, order, days, signatures, vectors)  # stories and originals follow, in _place
        group: list[int] = []
        for i in order.tolist():  # days close enough to share one window of active stories
            if group and days[i] - days[group[0]] > STORY_WINDOW_DAYS:
                self._place(docs, group, days, vectors, near, base, rank, outcome)
                group = []
            group.append(i)
        self._place(docs, group, days, vectors, near, base, rank, outcome)
        self._index_bands(base)
        return order

    def _place(self, docs: Sequence[StoryDoc], group: list[int], days: np.ndarray,
               vectors: tuple[np.ndarray, np.ndarray, np.ndarray], near: list, base: int, rank: np.ndarray,
               outcome: dict[int, Assignment]) -> None:
        """Assign a story to each article of ``group`` (in order), whose days span one window."""
        low = CANDIDATE_SHARE * STORY_SIMILARITY
        first_day, last_day = int(days[group[0]]), int(days[group[-1]])
        count = len(self._story_names)
        spans = self._story_days.data[:count]
        if first_day == UNDATED:  # the group of undated articles: every story is a candidate
            active = np.arange(count)
        else:
            active = np.flatnonzero(((spans[:, 1] >= first_day - STORY_WINDOW_DAYS)
                                     & (spans[:, 0] <= last_day + STORY_WINDOW_DAYS)) | (spans[:, 0] == UNDATED))
        query, centroids = _matrices(_rows(vectors, np.array(group, dtype=np.int64)), self._centroids(active))
        against_stored = _at_least(query @ centroids.T, low) if len(active) else None
        within = _at_least(query @ query.T, low)
        offsets, all_slots, all_weights = vectors
        names, stories, roots = self._story_names, self._story.data, self._near.data
        group_positions = (base + rank[group]).tolist()
        for row, i in enumerate(group):
            doc = docs[i]
            day = int(days[i])
            site = self._site_number(doc.site)
            site_named = site >= 0 and bool(doc.site)
            s, e = offsets[i], offsets[i + 1]
            slots, weights = all_slots[s:e].tolist(), all_weights[s:e].tolist()
            if near[i] is not None:
                target, score = near[i]
                original = base + int(rank[target[1]]) if isinstance(target, tuple) else target
                root = int(roots[original])
                root = original if root == _NO_ROOT else root
                story = int(stories[original])
            else:
                root = _NO_ROOT
                # candidate story -> its similarity at the start of the group (None: not known)
                candidates: dict[int, float | None] = {}
                if against_stored is not None:
                    s, e = against_stored.indptr[row], against_stored.indptr[row + 1]
                    candidates.update(zip(active[against_stored.indices[s:e]].tolist(),
                                          against_stored.data[s:e].tolist()))
                s, e = within.indptr[row], within.indptr[row + 1]
                for j in within.indices[s:e].tolist():
                    if j < row:
                        candidates.setdefault(int(stories[group_positions[j]]), None)
                story, score = -1, 0.0
                story_days = self._story_days.data
                dirty = self._dirty
                for candidate in sorted(candidates, key=names.__getitem__):
                    # A centroid unchanged since the group's product has the similarity the product gave
                    # (to float32 rounding): one clearly short of the bar or of the best so far is skipped
                    # without its exact (and costlier) recomputation; the decisions are the same.
                    known = candidates[candidate]
                    if known is not None and candidate not in dirty and (
                            known < STORY_SIMILARITY - _PRODUCT_SLACK or known < score - _PRODUCT_SLACK):
                        continue
                    first, last = story_days[candidate].tolist()
                    dated = day != UNDATED and first != UNDATED
                    if dated and (day < first - STORY_WINDOW_DAYS or day > last + STORY_WINDOW_DAYS):
                        continue
                    similarity = self._similarity(candidate, slots, weights)
                    if similarity < STORY_SIMILARITY or similarity <= score:
                        continue  # fails whatever the site (SAME_SITE_SIMILARITY is the higher bar)
                    if similarity >= SAME_SITE_SIMILARITY or not (site_named and self._has_site(candidate, site)):
                        story, score = candidate, similarity
                if story < 0:
                    story = self._story_number(new_story_id(doc.doc_id), day)
            position = group_positions[row]
            stories[position] = story
            roots[position] = root
            self._grow(story, day, site, root, slots, weights, position)
            outcome[i] = Assignment(doc.doc_id, names[story], near_duplicate_of=self._root_name(root),
                                    similarity=round(score, 4))
        self._flush()

    def _near_duplicates(self, signatures: np.ndarray, rank: np.ndarray,
                         has_words: np.ndarray) -> list[tuple | None]:
        """For each fresh article, the stored position (int) or earlier batch article (("batch", i)) it
        copies, with the estimated Jaccard similarity, or None."""
        bands = band_keys(signatures)
        usable = (rank >= 0) & has_words
        pairs: list[tuple[np.ndarray, np.ndarray, bool]] = []  # (batch article, other, other is in batch)
        stored = self._band_index()
        rows = np.flatnonzero(usable)
        for band in range(LSH_BANDS):
            keys = bands[rows, band]
            if stored is not None and len(stored[band][0]):
                table, positions = stored[band]
                left, right = np.searchsorted(table, keys, "left"), np.searchsorted(table, keys, "right")
                right = np.minimum(right, left + 8)  # a key shared by many (boilerplate) adds little
                counts = right - left
                who = np.repeat(rows, counts)
                at = np.repeat(left - np.r_[0, np.cumsum(counts)[:-1]], counts) + np.arange(counts.sum())
                pairs.append((who, positions[at], False))
            order = rows[np.argsort(keys, kind="stable")]
            sorted_keys = bands[order, band]
            for shift in range(1, 9):
                same = np.flatnonzero(sorted_keys[shift:] == sorted_keys[:-shift])
                if len(same):
                    pairs.append((order[same + shift], order[same], True))
        best: list[tuple | None] = [None] * len(signatures)
        for who, other, in_batch in pairs:
            if not len(who):
                continue
            if in_batch:  # the later article (in processing order) copies the earlier one
                later = rank[who] > rank[other]
                who, other = np.where(later, who, other), np.where(later, other, who)
                theirs = signatures[other]
            else:
                theirs = self._signatures.data[other]
            scores = (signatures[who] == theirs).mean(axis=1)
            close = scores >= NEAR_DUPLICATE_JACCARD
            for i, o, score in zip(who[close].tolist(), other[close].tolist(), scores[close].tolist()):
                target = ("batch", o) if in_batch else o
                current = best[i]
                if current is None or score > current[1] or (score == current[1] and str(target) < str(current[0])):
                    best[i] = (target, score)
        return best

    def _band_index(self) -> list[tuple[np.ndarray, np.ndarray]] | None:
        if self._bands is None:
            self._bands = []
            self._index_bands(0)
        return self._bands if len(self) else None

    def _index_bands(self, start: int) -> None:
        """Add the LSH band keys of the articles from ``start`` on to the sorted band tables."""
        if self._bands is None:
            return
        tables = self._bands or [(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int32))] * LSH_BANDS
        stack = self._signatures.data[start: len(self)]
        if not len(stack):
            self._bands = tables
            return
        usable = stack.min(axis=1) != _EMPTY_HASH
        keys = band_keys(stack[usable])
        positions = (np.flatnonzero(usable) + start).astype(np.int32)
        self._bands = [_sorted_merge(table, where, keys[:, band], positions)
                       for band, (table, where) in enumerate(tables)]

    # -- storage ------------------------------------------------------------------------------------
    def _append(self, docs: Sequence[StoryDoc], order: np.ndarray, days: np.ndarray, signatures: np.ndarray,
                vectors: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        """Store the articles ``order`` of ``docs`` at the next positions; their stories and originals
        are set as they are placed."""
        chosen = [docs[i] for i in order.tolist()]
        self._doc_ids.extend([doc.doc_id for doc in chosen])
        self._titles.extend([doc.title for doc in chosen])
        self._days.extend(days[order])
        self._site.extend(np.fromiter((self._site_number(doc.site) for doc in chosen), dtype=np.int32,
                                      count=len(chosen)))
        self._signatures.extend(signatures[order])
        offsets, slots, weights = _rows(vectors, order)
        self._term_offsets.extend(offsets[1:] + self._term_offsets.data[self._term_offsets.size - 1])
        self._term_slots.extend(slots)
        self._term_weights.extend(weights)
        self._near.extend(np.full(len(order), _NO_ROOT, dtype=np.int32))
        self._story.extend(np.full(len(order), -1, dtype=np.int32))

    def to_arrays(self, *, copy: bool = True) -> dict:
        """The index as arrays, laid out as Arrow lays out its columns (the flow stores them as Parquet):
        ``articles`` (doc_id, story_id, near_duplicate_of, day (ordinal, UNDATED for none), site, title,
        body_key, signature (n x 64 uint32), term_offsets, term_slots, term_weights), ``ledger`` (lists)
        and ``site_lines``.

        ``copy=False`` returns the numeric columns as views of the index's own arrays, valid until the
        index next changes: enough for a save that writes them at once (the copies added 36 MB to the peak
        of a save at 200,000 articles).
        """
        own = np.copy if copy else np.asarray
        n = len(self)
        body = np.zeros(n, dtype=np.uint64)
        has_body = np.zeros(n, dtype=bool)
        body[self._body_positions], has_body[self._body_positions] = self._body_keys, True
        hex_keys = body.astype(">u8").tobytes().hex().encode("ascii")
        articles = {
            "doc_id": self._doc_ids.column(),
            "story_id": CodedColumn(own(self._story.view), self._story_names.tolist()),
            "near_duplicate_of": self._near_column(),
            "day": own(self._days.view),
            "site": CodedColumn(own(self._site.view), list(self._site_names)),
            "title": self._titles.column(),
            "body_key": TextColumn(np.arange(0, 16 * n + 1, 16, dtype=np.int64), hex_keys,
                                   None if has_body.all() else has_body),
            "signature": own(self._signatures.view),
            "term_offsets": own(self._term_offsets.view),
            "term_slots": own(self._term_slots.view),
            "term_weights": own(self._term_weights.view),
        }
        ledger = {name: [entry[name] for entry in self.ledger]
                  for name in ("doc_id", "duplicate_of", "story_id", "site", "url", "source_uri", "day", "title")}
        ledger["day"] = [date_of(d) for d in ledger["day"]]
        return {"articles": articles, "ledger": ledger, "site_lines": own(self.site_lines)}

    def to_columns(self) -> dict[str, dict[str, list]]:
        """The index as plain columns (articles, ledger, site lines) of Python values."""
        columns = self.to_arrays()
        a = columns["articles"]
        offsets = a["term_offsets"].tolist()
        slots, weights = a["term_slots"].tolist(), a["term_weights"].tolist()
        articles = {
            "doc_id": a["doc_id"].tolist(), "story_id": a["story_id"].tolist(),
            "near_duplicate_of": a["near_duplicate_of"].tolist(),
            "day": [date_of(d) for d in a["day"].tolist()], "site": a["site"].tolist(), "title": a["title"].tolist(),
            "body_key": a["body_key"].tolist(),
            "signature": [row.tobytes() for row in a["signature"].astype("<u4")],
            "term_slots": [slots[s:e] for s, e in zip(offsets[:-1], offsets[1:])],
            "term_weights": [weights[s:e] for s, e in zip(offsets[:-1], offsets[1:])],
        }
        return {"articles": articles, "ledger": columns["ledger"], "site_lines": {"key": self.site_lines.tolist()}}

    @classmethod
    def from_columns(cls, columns: Mapping[str, Mapping[str, Sequence]]) -> "StoryIndex":
        """The inverse of :meth:`to_columns`."""
        a = columns["articles"]
        terms = [np.asarray(s, dtype=np.int32) for s in a["term_slots"]]
        offsets = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum([len(s) for s in terms], out=offsets[1:])
        articles = {
            "doc_id": TextColumn.of(a["doc_id"]), "story_id": CodedColumn.of(a["story_id"]),
            "near_duplicate_of": CodedColumn.of(a["near_duplicate_of"]),
            "day": np.array([_ordinal(d) for d in a["day"]], dtype=np.int32),
            "site": CodedColumn.of(a["site"]), "title": TextColumn.of(a["title"]),
            "body_key": TextColumn.of(a["body_key"]), "signature": TextColumn.of(a["signature"]),
            "term_offsets": offsets,
            "term_slots": np.concatenate(terms) if terms else np.zeros(0, dtype=np.int32),
            "term_weights": (np.concatenate([np.asarray(w, dtype=np.float32) for w in a["term_weights"]])
                             if terms else np.zeros(0, dtype=np.float32)),
        }
        return cls.from_arrays({"articles": articles, "ledger": columns.get("ledger") or {},
                                "site_lines": np.asarray(columns["site_lines"]["key"], dtype=np.uint64)})

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, object]) -> "StoryIndex":
        """The inverse of :meth:`to_arrays`. ``signature`` may also be a :class:`TextColumn` of 256-byte
        little-endian values. The index takes over writable arrays it is given (no copy): the caller
        should not change them afterwards."""
        a = arrays["articles"]
        index = cls()
        doc_ids: TextColumn = a["doc_id"]
        n = len(doc_ids)
        index._doc_ids = _Strings(doc_ids)
        index._titles = _Strings(a["title"])
        index._days = _Column(np.int32, values=a["day"])
        sites: CodedColumn = a["site"]
        index._site_names = list(sites.names)
        index._site_numbers = {name: number for number, name in enumerate(sites.names)}
        index._site = _Column(np.int32, values=sites.codes)
        index._signatures = _Column(np.uint32, values=signature_rows(a["signature"], n))
        index._term_offsets = _Column(np.int64, values=np.asarray(a["term_offsets"]) - a["term_offsets"][0])
        index._term_slots = _Column(np.int32, values=a["term_slots"][a["term_offsets"][0]: a["term_offsets"][-1]])
        index._term_weights = _Column(np.float32, values=a["term_weights"][a["term_offsets"][0]: a["term_offsets"][-1]])
        names = doc_ids.tolist()
        index._index_doc_ids(0, names)
        # Originals: positions of stored doc_ids (the later one, as a dict would keep), else foreign.
        roots: CodedColumn = a["near_duplicate_of"]
        root_positions = index._positions_of(roots.names)
        foreign = np.flatnonzero(root_positions < 0)
        root_positions[foreign] = -2 - np.arange(len(foreign))
        index._foreign_roots = [roots.names[k] for k in foreign.tolist()]
        codes = np.asarray(roots.codes)
        index._near = _Column(np.int32, values=np.where(codes >= 0, root_positions[np.maximum(codes, 0)], _NO_ROOT)
                              if len(root_positions) else np.full(n, _NO_ROOT))
        # Body keys: 16 hex digits each; the last article with a key keeps it, as a dict would.
        keys: TextColumn = a["body_key"]
        has = np.ones(n, dtype=bool) if keys.valid is None else np.asarray(keys.valid, dtype=bool).copy()
        has &= np.diff(keys.offsets) > 0
        values = _hex_keys(keys, has)
        rows = np.flatnonzero(has)[::-1]
        distinct, first = np.unique(values[rows], return_index=True)
        index._body_keys, index._body_positions = distinct, rows[first].astype(np.int32)
        index._load_stories(a["story_id"])
        ledger = arrays.get("ledger") or {}
        fields = list(ledger)
        for row in zip(*(ledger[f] for f in fields)):
            entry = dict(zip(fields, row))
            entry["day"] = _ordinal(entry["day"])
            index.ledger.append(entry)
        index.site_lines = np.array(arrays["site_lines"], dtype=np.uint64)
        return index

    def _load_stories(self, stories: CodedColumn) -> None:
        """Stories numbered by first appearance, their days, sites and centroids, from the articles (as
        adding the articles one by one would build them)."""
        codes = np.asarray(stories.codes, dtype=np.int64)
        n = len(codes)
        used, first = np.unique(codes, return_index=True)
        order = np.argsort(first, kind="stable")
        renumber = np.zeros(max(len(stories.names), 1), dtype=np.int64)
        renumber[used[order]] = np.arange(len(used))
        story = renumber[codes] if n else codes
        self._story = _Column(np.int32, values=story)
        names = [stories.names[c] for c in used[order].tolist()]
        self._story_names = _Strings(TextColumn.of(names))
        self._new_stories = dict(zip(names, range(len(names))))
        self._index_story_names()
        count = len(self._story_names)
        days = self._days.view.astype(np.int64)
        dated = days != UNDATED
        first_day = np.full(count, np.iinfo(np.int64).max)
        last_day = np.full(count, np.iinfo(np.int64).min)
        np.minimum.at(first_day, story[dated], days[dated])
        np.maximum.at(last_day, story[dated], days[dated])
        undated = first_day == np.iinfo(np.int64).max
        first_day[undated], last_day[undated] = UNDATED, UNDATED
        self._story_days = _Column(np.int64, values=np.stack([first_day, last_day], axis=1).reshape(count, 2))
        site = self._site.view.astype(np.int64)
        truthy = np.array([bool(name) for name in self._site_names] + [False], dtype=bool)[site]
        self._story_sites = np.unique((story[truthy].astype(np.uint64) << _U64(32)) | site[truthy].astype(np.uint64))
        self._load_centroids(story)

    def _load_centroids(self, story: np.ndarray, *, chunk: int = 1 << 18) -> None:
        """Each story's centroid: its originals' terms summed in position order, as adding the articles
        one by one builds it. Stories are summed about ``chunk`` terms at a time, so that the temporaries
        stay small next to the index."""
        count = len(self._story_names)
        originals = np.flatnonzero(self._near.view == _NO_ROOT)
        originals = originals[np.argsort(story[originals], kind="stable")]  # by story, then position
        offsets = self._term_offsets.view
        firsts = segment_starts(story[originals])
        how_many = np.diff(np.r_[firsts, len(originals)])
        single = np.full(count, _NO_ORIGINAL, dtype=np.int32)
        single[story[originals[firsts]]] = np.where(how_many == 1, originals[firsts], _ORIGINALS)
        self._single = _Column(np.int32, values=single)
        ones = originals[firsts[how_many == 1]]
        originals = originals[np.repeat(how_many > 1, how_many)]  # stories of several originals: summed
        lengths = offsets[originals + 1] - offsets[originals]
        owners = story[originals]
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
        start = np.cumsum(length) - length
        start[story[ones]], length[story[ones]] = -1 - ones, offsets[ones + 1] - offsets[ones]
        norm[story[ones]] = [math.hypot(*self.terms(p)[1].tolist()) for p in ones.tolist()]
        self._centroid_length = _Column(np.int64, values=length)
        self._centroid_start = _Column(np.int64, values=start)
        self._centroid_norm = _Column(np.float64, values=norm)
        self._pool_slots = _Column(np.int32, values=np.concatenate(slots) if slots else None)
        self._pool_weights = _Column(np.float64, values=np.concatenate(weights) if weights else None)
        members = np.sort(np.concatenate(replay)) if replay else np.zeros(0, dtype=np.int64)
        for position in members.tolist():  # stories pruned on the way: one article at a time, in order
            terms, values = self.terms(position)
            self._grow(int(story[position]), UNDATED, -1, _NO_ROOT, terms.tolist(), values.tolist(), position)
        self._flush()

    def _sum_terms(self, positions: np.ndarray, owners: np.ndarray, lengths: np.ndarray) -> tuple:
        """Centroids of the stories ``owners`` (sorted) from their originals at ``positions`` (in position
        order within a story): per (story, slot) the weights added left to right, as ``terms[slot] += w``
        does, slots in order of first appearance. Stories whose distinct terms exceed the pruning bound
        come back apart (pruned), to be replayed."""
        where = _ranges(self._term_offsets.data[positions], lengths)
        base = int(owners[0])
        pair = (np.repeat(owners - base, lengths) << 32) | self._term_slots.data[where].astype(np.int64)
        weights = self._term_weights.data[where].astype(np.float64)
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


def signature_rows(signatures: np.ndarray | TextColumn, count: int) -> np.ndarray:
    """(count, MINHASH_PERMUTATIONS) uint32 signatures from an array or from little-endian bytes per row.

    >>> signature_rows(TextColumn.of([bytes(range(256))]), 1)[0, :2].tolist()
    [50462976, 117835012]
    """
    if isinstance(signatures, TextColumn):
        width = 4 * MINHASH_PERMUTATIONS
        lengths = np.diff(signatures.offsets)
        if not (lengths == width).all():
            raise ValueError(f"story index: signatures must be {width} bytes each")
        start = int(signatures.offsets[0])
        buffer = np.frombuffer(signatures.data, dtype="<u4", count=count * MINHASH_PERMUTATIONS, offset=start)
        return buffer.reshape(count, MINHASH_PERMUTATIONS).astype(np.uint32)
    return np.asarray(signatures, dtype=np.uint32).reshape(count, MINHASH_PERMUTATIONS)


def _hex_keys(keys: TextColumn, has: np.ndarray) -> np.ndarray:
    """64-bit body keys from their 16-hex-digit spelling (0 where ``has`` is False)."""
    out = np.zeros(len(keys), dtype=np.uint64)
    if not has.any():
        return out
    offsets = keys.offsets
    if (np.diff(offsets)[has] == 16).all():
        where = _ranges(offsets[:-1][has], np.full(int(has.sum()), 16))
        digits = np.frombuffer(keys.data, dtype=np.uint8)[where].tobytes()
        out[has] = np.frombuffer(bytes.fromhex(digits.decode("ascii")), dtype=">u8")
        return out
    values = keys.tolist()
    out[has] = [int(values[i], 16) for i in np.flatnonzero(has).tolist()]
    return out


def _ordinal(day: date | None) -> int:
    return UNDATED if day is None else day.toordinal()


def date_of(ordinal: int) -> date | None:
    """The date an index day number stands for; None for UNDATED."""
    return None if ordinal == UNDATED else date.fromordinal(ordinal)
