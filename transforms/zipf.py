"""Word-frequency tables as compact arrays (:class:`HashedZipf`), the form the flow caches and passes in."""
from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import numpy as np


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
        apostrophes become plain ones, as the story words are folded."""
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
