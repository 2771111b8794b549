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
``DIR/state/stories`` through :meth:`StoryIndex.to_columns` / :meth:`StoryIndex.from_columns`.
"""
from __future__ import annotations

import hashlib
import math
import operator
import re
import string
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
# precision (0.902 -> 0.822 at equal recall): page titles extracted from plain text are often chrome
# ("Monday 5:30PM") and headlines of related stories share the product's name.
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
_U64 = np.uint64
_GOLDEN = _U64(0x9E3779B97F4A7C15)
_MAX_CACHED_TOKENS = 2_000_000


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


_VOCABULARY = _Vocabulary()


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
        needed = np.unique(ids)
        needed = needed[self.slots[needed] == self._UNSET].tolist()
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


_TERM_ARRAYS: dict[int, _TermArrays] = {}  # id(zipf table) -> arrays; each keeps its table alive


def _term_arrays(zipf: Mapping[str, float], ids: np.ndarray) -> _TermArrays:
    found = _TERM_ARRAYS.get(id(zipf))
    if found is None or found.zipf is not zipf or found.vocabulary is not _VOCABULARY:
        if len(_TERM_ARRAYS) > 64:
            _TERM_ARRAYS.clear()
        found = _TERM_ARRAYS[id(zipf)] = _TermArrays(zipf, _VOCABULARY)
    return found.covering(ids)


_PERMUTATIONS = MinHash(num_perm=MINHASH_PERMUTATIONS, seed=MINHASH_SEED, scheme="affine32").permutations
_EMPTY_HASH = np.uint32(0xFFFFFFFF)


def minhash_signatures(values: np.ndarray, owners: np.ndarray, count: int, *, chunk: int = 1 << 18) -> np.ndarray:
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


def _segment_starts(owners: np.ndarray) -> np.ndarray:
    """Index of the first element of each run of equal values in ``owners``."""
    return np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]]) if len(owners) else np.zeros(0, dtype=np.int64)


class _Tokens:
    """A batch of bodies as one token stream: per token its document, line and folded-token hash."""

    def __init__(self, bodies: Sequence[str]) -> None:
        global _VOCABULARY
        if len(_VOCABULARY) > _MAX_CACHED_TOKENS:  # word numbers live for one batch: safe to start over
            _VOCABULARY = _Vocabulary()
        lists = [body.replace("\n", f" {_BREAK} ").split() for body in bodies]
        self.count = len(lists)
        lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        codes = np.fromiter(map(_VOCABULARY.__getitem__, chain.from_iterable(lists)), dtype=np.int64,
                            count=int(lengths.sum()))
        doc = np.repeat(np.arange(len(lists), dtype=np.int64), lengths)
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
        self.line_first = _segment_starts(line)
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
        position = np.arange(len(self.ids)) - self.doc_first[self.doc]
        mixed = _mix64(self.hashes ^ _mix64(position.astype(np.uint64) + _GOLDEN))
        sums = np.zeros(self.count, dtype=np.uint64)
        has = self.doc_words > 0
        if has.any():
            sums[has] = np.add.reduceat(mixed, self.doc_first[has])
        keys = _mix64(sums + self.doc_words.astype(np.uint64) * _GOLDEN)
        return [f"{key:016x}" for key in keys.tolist()]

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
                      zipf: ZipfTables) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each article's ``STORY_TERMS`` strongest terms (slots, L2-normalized weights, strongest first):
        (1 + log term frequency) x rarity over its kept lines, plus its entities."""
        keep = kept_lines[self.line_of] if len(self.ids) else np.zeros(0, dtype=bool)
        titles = [(doc_.title or "").split() if TITLE_REPEAT else [] for doc_ in docs]
        lengths = np.fromiter(map(len, titles), dtype=np.int64, count=len(titles))
        codes = np.fromiter(map(_VOCABULARY.__getitem__, chain.from_iterable(titles)), dtype=np.int64,
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
                arrays = _term_arrays(zipf(language), ids)
                slot, weight = arrays.slots[ids], arrays.weights[ids]
            else:
                mine = np.array([lang == language for lang in languages], dtype=bool)[doc]
                arrays = _term_arrays(zipf(language), ids[mine])
                slot[mine], weight[mine] = arrays.slots[ids[mine]], arrays.weights[ids[mine]]
        useful = slot >= 0
        rows, cols, weight = doc[useful], slot[useful], weight[useful]
        shape = (len(docs), 1 << FEATURE_BITS)
        # Term frequency and summed weight per (article, slot); same coordinates, so the same pattern.
        counts = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
        sums = sparse.csr_matrix((weight, (rows, cols)), shape=shape)
        counts.sum_duplicates()
        sums.sum_duplicates()
        values = (1.0 + np.log(counts.data)) * (sums.data / counts.data)
        rows = np.repeat(np.arange(len(docs)), np.diff(counts.indptr))
        cols = counts.indices.astype(np.int64)
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
        bounds = np.searchsorted(rows, np.arange(len(docs) + 1))
        return [(cols[s:e].astype(np.int32), values[s:e].astype(np.float32))
                for s, e in zip(bounds[:-1].tolist(), bounds[1:].tolist())]


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


def _matrix(vectors: Sequence[tuple[np.ndarray, np.ndarray]]) -> sparse.csr_matrix:
    lengths = [len(slots) for slots, _ in vectors]
    indptr = np.zeros(len(vectors) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    indices = np.concatenate([s for s, _ in vectors]) if vectors else np.zeros(0, dtype=np.int32)
    data = np.concatenate([w for _, w in vectors]) if vectors else np.zeros(0, dtype=np.float32)
    matrix = sparse.csr_matrix((data, indices, indptr), shape=(len(vectors), 1 << FEATURE_BITS))
    matrix.sum_duplicates()
    return matrix


def _matrices(*groups: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[sparse.csr_matrix]:
    """Sparse rows of several groups of vectors over one compact column space (the slots they use):
    products and transposes then cost nothing per unused slot of the 2**FEATURE_BITS."""
    parts = [np.concatenate([s for s, _ in group]) if group else np.zeros(0, dtype=np.int32) for group in groups]
    used, columns = np.unique(np.concatenate(parts), return_inverse=True)
    out, start = [], 0
    for group, part in zip(groups, parts):
        lengths = np.fromiter((len(s) for s, _ in group), dtype=np.int64, count=len(group))
        indptr = np.r_[0, np.cumsum(lengths)]
        data = np.concatenate([w for _, w in group]) if group else np.zeros(0, dtype=np.float32)
        matrix = sparse.csr_matrix((data, columns[start: start + len(part)], indptr), shape=(len(group), max(len(used), 1)))
        matrix.sum_duplicates()
        out.append(matrix)
        start += len(part)
    return out


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


@dataclass
class _Story:
    """A story's days and centroid: the sum of its articles' term vectors (near duplicates left out)."""

    first: int
    last: int
    terms: dict[int, float] = field(default_factory=dict)
    norm: float = 0.0
    number: int = -1  # position in the index's story arrays
    sites: set = field(default_factory=set)
    _arrays: tuple[np.ndarray, np.ndarray] | None = None

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The centroid as (slots, unit-length weights), cached until the next :meth:`add`."""
        if self._arrays is None:
            slots = np.fromiter(self.terms.keys(), dtype=np.int32, count=len(self.terms))
            weights = np.fromiter(self.terms.values(), dtype=np.float32, count=len(self.terms))
            self._arrays = (slots, weights / (self.norm or 1.0))
        return self._arrays

    def add(self, slots: list[int], weights: list[float]) -> None:
        terms = self.terms
        for slot, weight in zip(slots, weights):
            terms[slot] = terms.get(slot, 0.0) + weight
        if len(terms) > 2 * CENTROID_TERMS:  # keep the strongest: bounds memory and comparison cost
            kept = sorted(terms.items(), key=lambda item: (-item[1], item[0]))[:CENTROID_TERMS]
            self.terms = terms = dict(kept)
        self.norm = math.hypot(*terms.values())
        self._arrays = None

    def similarity(self, slots: list[int], weights: list[float]) -> float:
        if not self.norm:
            return 0.0
        return sum(map(operator.mul, map(self.terms.get, slots, repeat(0.0, len(slots))), weights)) / self.norm


@dataclass
class StoryIndex:
    """Every stored article's story, MinHash signature and story terms; story centroids; exact-duplicate
    ledger; site lines.

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
    _stories: dict[str, _Story] = field(default_factory=dict)
    _story_names: list[str] = field(default_factory=list)
    _story_days: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))  # first, last
    _bands: list[tuple[np.ndarray, np.ndarray]] | None = None  # per band: sorted keys, index positions

    def __post_init__(self) -> None:
        self._position = {doc_id: i for i, doc_id in enumerate(self.doc_ids)}
        for position, story in enumerate(self.story_ids):
            self._grow(story, position)

    def __len__(self) -> int:
        return len(self.doc_ids)

    def story_of(self, doc_id: str) -> str | None:
        position = self._position.get(doc_id)
        return None if position is None else self.story_ids[position]

    def _grow(self, story: str, position: int) -> None:
        day = self.days[position]
        found = self._stories.get(story)
        if found is None:
            found = self._stories[story] = _Story(day, day)
            found.number = len(self._story_names)
            self._story_names.append(story)
            if found.number >= len(self._story_days):  # grow by doubling: appends stay cheap
                self._story_days = np.resize(self._story_days, (max(64, 2 * len(self._story_days)), 2))
        if day != UNDATED:
            if found.first == UNDATED:
                found.first = found.last = day
            found.first, found.last = min(found.first, day), max(found.last, day)
        self._story_days[found.number] = (found.first, found.last)
        if self.sites[position]:
            found.sites.add(self.sites[position])
        if self.near_duplicate_of[position] is None:
            found.add(self.term_slots[position].tolist(), self.term_weights[position].tolist())

    # -- assignment ---------------------------------------------------------------------------------
    def assign(self, docs: Sequence[StoryDoc], *, zipf: ZipfTables) -> list[Assignment]:
        """Story, near- and exact-duplicate status of each article in ``docs``; adds them to the index.

        Articles are taken in publication order (input order among equals). A near duplicate joins its
        original's story; any other article joins the story, active within ``STORY_WINDOW_DAYS``, whose
        centroid it is most similar to when that similarity reaches ``STORY_SIMILARITY``, else starts one.
        An exact duplicate is not added (the ledger records it) and gets its original's story.
        """
        tokens = _Tokens([doc.body for doc in docs])
        keys = tokens.body_keys()
        outcome: dict[int, Assignment] = {}
        fresh: list[int] = []
        batch_keys: dict[str, str] = {}
        for i, (doc, key) in enumerate(zip(docs, keys)):
            known = self._position.get(doc.doc_id)
            if known is not None:  # indexed by a run that stopped before writing it: same answer again
                outcome[i] = Assignment(doc.doc_id, self.story_ids[known],
                                        near_duplicate_of=self.near_duplicate_of[known])
                continue
            original = self.body_keys.get(key) or batch_keys.get(key)
            if original is not None:
                outcome[i] = Assignment(doc.doc_id, "", exact_duplicate_of=original, similarity=1.0)
            else:
                batch_keys[key] = doc.doc_id
                fresh.append(i)
        if fresh:
            self._assign_fresh(docs, tokens, fresh, outcome, zipf)
            self.body_keys.update(batch_keys)
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
        pairs = np.unique(np.stack([keys[mine], tokens.line_doc[mine].astype(np.uint64)]), axis=1)
        distinct, counts = np.unique(pairs[0], return_counts=True)
        shared = distinct[counts > 1]
        repeated = np.isin(keys, shared) | _sorted_contains(self.site_lines, keys)
        new = distinct[~_sorted_contains(self.site_lines, distinct)]
        if len(new):  # a merge of two sorted arrays: no re-sort of the whole history per batch
            self.site_lines = np.insert(self.site_lines, np.searchsorted(self.site_lines, new), new)
        return ~repeated

    def _assign_fresh(self, docs: Sequence[StoryDoc], tokens: _Tokens, fresh_list: list[int],
                      outcome: dict[int, Assignment], zipf: ZipfTables) -> None:
        fresh = np.zeros(len(docs), dtype=bool)
        fresh[fresh_list] = True
        signatures = tokens.signatures()
        vectors = tokens.story_vectors(docs, self._kept_lines(docs, tokens, fresh), zipf)
        days = np.array([_ordinal(doc.day) for doc in docs], dtype=np.int64)
        order = sorted(fresh_list, key=lambda i: (days[i], i))
        rank = np.full(len(docs), -1, dtype=np.int64)
        rank[order] = np.arange(len(order))
        near = self._near_duplicates(signatures, rank, tokens.doc_words > 0)
        base = len(self.doc_ids)
        placed: dict[int, int] = {}  # batch index -> index position, once placed
        group: list[int] = []
        for i in order:  # days close enough to share one window of active stories
            if group and days[i] - days[group[0]] > STORY_WINDOW_DAYS:
                self._place(docs, group, days, vectors, signatures, near, placed, outcome)
                group = []
            group.append(i)
        self._place(docs, group, days, vectors, signatures, near, placed, outcome)
        self._index_bands(base)

    def _place(self, docs: Sequence[StoryDoc], group: list[int], days: np.ndarray, vectors: list,
               signatures: np.ndarray, near: list, placed: dict[int, int], outcome: dict[int, Assignment]) -> None:
        """Assign a story to each article of ``group`` (in order), whose days span one window."""
        low = CANDIDATE_SHARE * STORY_SIMILARITY
        first_day, last_day = int(days[group[0]]), int(days[group[-1]])
        count = len(self._story_names)
        spans = self._story_days[:count]
        if first_day == UNDATED:  # the group of undated articles: every story is a candidate
            active = np.arange(count)
        else:
            active = np.flatnonzero(((spans[:, 1] >= first_day - STORY_WINDOW_DAYS)
                                     & (spans[:, 0] <= last_day + STORY_WINDOW_DAYS)) | (spans[:, 0] == UNDATED))
        centroids = [self._stories[self._story_names[n]].arrays() for n in active.tolist()]
        query, centroids = _matrices([vectors[i] for i in group], centroids)
        against_stored = _at_least(query @ centroids.T, low) if len(active) else None
        within = _at_least(query @ query.T, low)
        for row, i in enumerate(group):
            doc = docs[i]
            slots, weights = vectors[i][0].tolist(), vectors[i][1].tolist()
            if near[i] is not None:
                target, score = near[i]
                original = placed[target[1]] if isinstance(target, tuple) else target
                root = self.near_duplicate_of[original] or self.doc_ids[original]
                story = self.story_ids[original]
            else:
                root = None
                candidates = set()
                if against_stored is not None:
                    s, e = against_stored.indptr[row], against_stored.indptr[row + 1]
                    candidates.update(self._story_names[n] for n in active[against_stored.indices[s:e]].tolist())
                s, e = within.indptr[row], within.indptr[row + 1]
                candidates.update(self.story_ids[placed[group[j]]] for j in within.indices[s:e].tolist()
                                  if group[j] in placed)
                story, score = None, 0.0
                day = int(days[i])
                for candidate in sorted(candidates):
                    found = self._stories[candidate]
                    dated = day != UNDATED and found.first != UNDATED
                    if dated and (day < found.first - STORY_WINDOW_DAYS or day > found.last + STORY_WINDOW_DAYS):
                        continue
                    similarity = found.similarity(slots, weights)
                    needed = SAME_SITE_SIMILARITY if doc.site in found.sites else STORY_SIMILARITY
                    if similarity >= needed and similarity > score:
                        story, score = candidate, similarity
                story = story or new_story_id(doc.doc_id)
            placed[i] = len(self.doc_ids)
            self._append(doc, story, root, signatures[i], vectors[i])
            outcome[i] = Assignment(doc.doc_id, story, near_duplicate_of=root, similarity=round(score, 4))

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
                theirs = np.stack([self.signatures[p] for p in other.tolist()])
            scores = (signatures[who] == theirs).mean(axis=1)
            for i, o, score in zip(who.tolist(), other.tolist(), scores.tolist()):
                if score >= NEAR_DUPLICATE_JACCARD:
                    target = ("batch", o) if in_batch else o
                    current = best[i]
                    if current is None or score > current[1] or (score == current[1] and str(target) < str(current[0])):
                        best[i] = (target, score)
        return best

    def _band_index(self) -> list[tuple[np.ndarray, np.ndarray]] | None:
        if self._bands is None:
            self._bands = []
            self._index_bands(0)
        return self._bands if self.doc_ids else None

    def _index_bands(self, start: int) -> None:
        """Add the LSH band keys of the articles from ``start`` on to the sorted band tables."""
        if self._bands is None:
            return
        signatures = self.signatures[start:]
        if not signatures:
            if not self._bands:
                self._bands = [(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64))] * LSH_BANDS
            return
        stack = np.stack(signatures)
        usable = stack.min(axis=1) != _EMPTY_HASH
        keys = band_keys(stack[usable])
        positions = np.flatnonzero(usable) + start
        tables = self._bands or [(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64))] * LSH_BANDS
        merged = []
        for band, (table, where) in enumerate(tables):
            new = keys[:, band]
            order = np.argsort(new, kind="stable")
            at = np.searchsorted(table, new[order], "right")
            merged.append((np.insert(table, at, new[order]), np.insert(where, at, positions[order])))
        self._bands = merged

    # -- storage ------------------------------------------------------------------------------------
    def _append(self, doc: StoryDoc, story: str, root: str | None, signature: np.ndarray,
                vector: tuple[np.ndarray, np.ndarray]) -> None:
        self._position[doc.doc_id] = len(self.doc_ids)
        self.doc_ids.append(doc.doc_id)
        self.story_ids.append(story)
        self.near_duplicate_of.append(root)
        self.days.append(_ordinal(doc.day))
        self.sites.append(doc.site)
        self.titles.append(doc.title)
        self.signatures.append(signature)
        self.term_slots.append(vector[0])
        self.term_weights.append(vector[1])
        self._grow(story, len(self.doc_ids) - 1)

    def to_columns(self) -> dict[str, dict[str, list]]:
        """The index as plain columns (articles, ledger, site lines) for the flow to store."""
        articles = {
            "doc_id": list(self.doc_ids), "story_id": list(self.story_ids),
            "near_duplicate_of": list(self.near_duplicate_of),
            "day": [date_of(d) for d in self.days], "site": list(self.sites), "title": list(self.titles),
            "body_key": [None] * len(self.doc_ids),
            "signature": [s.astype("<u4").tobytes() for s in self.signatures],
            "term_slots": [s.tolist() for s in self.term_slots],
            "term_weights": [w.tolist() for w in self.term_weights],
        }
        for key, doc_id in self.body_keys.items():
            articles["body_key"][self._position[doc_id]] = key
        ledger = {name: [entry[name] for entry in self.ledger]
                  for name in ("doc_id", "duplicate_of", "story_id", "site", "url", "source_uri", "day", "title")}
        ledger["day"] = [date_of(d) for d in ledger["day"]]
        return {"articles": articles, "ledger": ledger, "site_lines": {"key": self.site_lines.tolist()}}

    @classmethod
    def from_columns(cls, columns: Mapping[str, Mapping[str, Sequence]]) -> "StoryIndex":
        """The inverse of :meth:`to_columns`."""
        a = columns["articles"]
        index = cls(
            doc_ids=list(a["doc_id"]), story_ids=list(a["story_id"]), near_duplicate_of=list(a["near_duplicate_of"]),
            days=[_ordinal(d) for d in a["day"]], sites=list(a["site"]), titles=list(a["title"]),
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
            entry["day"] = _ordinal(entry["day"])
            index.ledger.append(entry)
        return index


def _ordinal(day: date | None) -> int:
    return UNDATED if day is None else day.toordinal()


def date_of(ordinal: int) -> date | None:
    """The date an index day number stands for; None for UNDATED."""
    return None if ordinal == UNDATED else date.fromordinal(ordinal)
