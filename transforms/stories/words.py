"""Words and their story terms: how a token is trimmed and folded, the number each distinct token gets,
and the feature slot and weight (rarity) of a word under a frequency table.

Bodies split on whitespace (a C loop, five times faster than a word regex); a line break becomes a
token of its own so that one pass also yields the lines. Punctuation is then trimmed once per distinct
token: the core of "(Reuters)," is "Reuters", of "Zelensky’s" is "Zelensky" (possessive dropped).
"""
from __future__ import annotations

import math
import re
import string
import zlib
from collections.abc import Mapping

import numpy as np

BREAK = "\ue000"  # private-use character: never in text, not whitespace; stands for a line break
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
FEATURE_BITS = 22  # terms hash into 2**22 slots; collisions among an article's 48 terms are negligible
_SLOT_MASK = (1 << FEATURE_BITS) - 1
MAX_CACHED_TOKENS = 2_000_000  # distinct tokens kept from batch to batch before the vocabulary starts afresh

LINE_BREAK, NO_WORD = -2, -1  # the codes of the line-break token and of bare punctuation


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


class Vocabulary(dict):
    """Token as written -> its word's number << 32 | a stable 32-bit hash (CRC-32) of the folded word;
    ``NO_WORD`` for bare punctuation, ``LINE_BREAK`` for the line-break token. Computed once per
    distinct token, so a batch costs one dictionary lookup per token; words keep their case (the story
    weight looks at it), the hash does not (keys and shingles ignore case).

    >>> vocabulary = Vocabulary()
    >>> vocabulary["Kyiv,"] >> 32, vocabulary["kyiv"] >> 32, vocabulary["—"], vocabulary[BREAK], vocabulary.words
    (0, 1, -1, -2, ['Kyiv', 'kyiv'])
    >>> vocabulary["Kyiv,"] & 0xFFFFFFFF == vocabulary["kyiv"] & 0xFFFFFFFF
    True
    """

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []  # by number
        self.numbers: dict[str, int] = {}

    def __missing__(self, token: str) -> int:
        word = core(token)
        if token == BREAK:
            value = LINE_BREAK
        elif not word:
            value = NO_WORD
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


def term_of(word: str, folded: str, zipf_value: float | None) -> tuple[int, float]:
    """(slot, weight) of a word as written, given its folded form and its Zipf value; slot -1 when the
    weight is 0.

    >>> term_of("the", "the", 7.7), term_of("Erdogan", "erdogan", None)[1], term_of("b2b", "b2b", None)
    ((-1, 0.0), 4.0, (-1, 0.0))
    """
    if len(folded) < MIN_WORD_CHARS or not folded.isalpha():  # numbers, ids, contractions
        return -1, 0.0
    if zipf_value is None and (word.islower() or len(_CAMEL_HUMPS.findall(word)) > 1):
        return -1, 0.0  # unknown and never capitalized, or camel humps: a handle, an id, a typo
    weight = max(0.0, ZIPF_CEILING - (UNKNOWN_ZIPF if zipf_value is None else zipf_value))
    return (term_slot(folded), weight) if weight > 0 else (-1, 0.0)


def word_weight(token: str, zipf: Mapping[str, float]) -> float:
    """How much a word as written says about a story: rare words much, common ones and numbers nothing;
    a word missing from the table that is never capitalized (a handle, an id, a typo) nothing either.

    >>> table = {"the": 7.7, "ceasefire": 3.6}
    >>> word_weight("the", table), round(word_weight("Ceasefire,", table), 2), word_weight("Erdogan", table)
    (0.0, 1.9, 4.0)
    >>> word_weight("erdogan", table), word_weight("XpxUjuYIAC", table), word_weight("b2b", table)
    (0.0, 0.0, 0.0)
    """
    word = core(token)
    return term_of(word, fold(word), zipf.get(fold(word)))[1]


def name_rarity(name: str, zipf: Mapping[str, float]) -> float:
    """1 for a name the frequency table lacks, less the more common it is as a word.

    >>> name_rarity("US", {"us": 7.2}), name_rarity("Kristi Noem", {"us": 7.2})
    (0.0, 1.0)
    """
    found = zipf.get(fold(name))
    return 1.0 if found is None else max(0.0, ZIPF_CEILING - found) / (ZIPF_CEILING - UNKNOWN_ZIPF)


class TermArrays:
    """Slot and weight of the vocabulary's words under one frequency table, computed on demand for the
    words that articles in the table's language use (a batch in eight languages looks up each word
    once, in its article's language, not eight times)."""

    _UNSET = -2

    def __init__(self, zipf: Mapping[str, float], vocabulary: Vocabulary) -> None:
        self.zipf, self.vocabulary = zipf, vocabulary
        self.slots = np.zeros(0, dtype=np.int64)
        self.weights = np.zeros(0, dtype=np.float64)

    def covering(self, ids: np.ndarray) -> "TermArrays":
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
            lookup = getattr(self.zipf, "lookup", None)  # a HashedZipf looks a batch up at once
            if lookup is not None:
                values = [None if math.isnan(v) else v for v in lookup(folded).tolist()]
            else:
                values = [self.zipf.get(word) for word in folded]
            found = list(map(term_of, written, folded, values))
            self.slots[needed] = [slot for slot, _ in found]
            self.weights[needed] = [weight for _, weight in found]
        return self


class WordCodes:
    """What tokenizing has learned so far, kept from batch to batch by its owner (a story index):
    the number of each word seen, and per frequency table the slot and weight of those words.

    A cache, not state of the result: a fresh one gives the same assignments, only slower.
    """

    def __init__(self) -> None:
        self.vocabulary = Vocabulary()
        self._term_arrays: dict[int, TermArrays] = {}  # id(zipf table) -> arrays; each keeps its table alive

    def for_batch(self) -> Vocabulary:
        """The vocabulary for the next batch; started afresh once it is large (word numbers live for one batch)."""
        if len(self.vocabulary) > MAX_CACHED_TOKENS:
            self.vocabulary = Vocabulary()
            self._term_arrays.clear()
        return self.vocabulary

    def term_arrays(self, zipf: Mapping[str, float], ids: np.ndarray) -> TermArrays:
        """Slots and weights under ``zipf`` covering the words numbered ``ids``."""
        found = self._term_arrays.get(id(zipf))
        if found is None or found.zipf is not zipf or found.vocabulary is not self.vocabulary:
            if len(self._term_arrays) > 64:
                self._term_arrays.clear()
            found = self._term_arrays[id(zipf)] = TermArrays(zipf, self.vocabulary)
        return found.covering(ids)
