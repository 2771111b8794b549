"""Near duplicates: MinHash over word shingles, with banded LSH to find candidate pairs.

A syndicated copy or a re-scrape with other chrome cleans to nearly the same body; MinHash estimates the
Jaccard similarity of two bodies' shingle sets, and LSH bands find the pairs worth comparing without
comparing every pair.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .arrays import GOLDEN, U64, fmix32, mix64, segment_starts, sorted_merge
from .tokens import Tokens

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
# Per band and article, at most this many stored articles (and this many batch neighbours) with the same
# key are candidates: a key shared by many (boilerplate) adds little.
_BAND_NEIGHBOURS = 8

EMPTY_HASH = np.uint32(0xFFFFFFFF)  # every slot of the signature of a text without words



@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutations for MINHASH_SEED; imported on first use, not with the module: datasketch
    brings scipy.integrate and scipy.optimize (0.7 s), which a run with nothing new to cluster never needs."""
    from datasketch import MinHash

    return MinHash(num_perm=MINHASH_PERMUTATIONS, seed=MINHASH_SEED, scheme="affine32").permutations


# A near duplicate's target: a stored position (int), or ("batch", i) for an earlier article of the batch.
Target = int | tuple[str, int]


def minhash_signatures(values: np.ndarray, owners: np.ndarray, count: int, *, chunk: int = 1 << 13) -> np.ndarray:
    """MinHash signatures of ``count`` sets given as shingle hashes and their (ascending) set numbers,
    equal to datasketch's affine32 ``MinHash.update_batch``; a set with no shingles gets the empty signature.

    >>> from datasketch import MinHash
    >>> signatures = minhash_signatures(np.array([1, 2, 3], dtype=np.uint32), np.array([0, 0, 0]), 2)
    >>> reference = MinHash(num_perm=MINHASH_PERMUTATIONS, seed=MINHASH_SEED, hashfunc=int)
    >>> reference.update_batch([1, 2, 3])
    >>> bool((signatures[0] == reference.hashvalues).all()), int(signatures[1].min()) == 2**32 - 1
    (True, True)
    """
    a, b = _permutations()
    out = np.full((count, len(a)), EMPTY_HASH, dtype=np.uint32)
    if not len(values):
        return out
    values = fmix32(np.asarray(values, dtype=np.uint32))
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
        keys = mix64(keys * GOLDEN + bands[:, :, row])
    return keys


def _shingles(tokens: Tokens) -> tuple[np.ndarray, np.ndarray]:
    """Hash of every ``SHINGLE_WORDS``-word shingle of each body, and its body number (ascending); a body
    with fewer words than a shingle is its one shingle."""
    n, span = len(tokens.ids), SHINGLE_WORDS
    combined = np.zeros(max(n - span + 1, 0), dtype=np.uint64)
    for offset in range(span):
        combined = combined * GOLDEN + tokens.hashes[offset: offset + len(combined)]
    owner = tokens.doc[: len(combined)]
    valid = owner == tokens.doc[span - 1:]
    combined, owner = combined[valid], owner[valid]
    short = np.flatnonzero((tokens.doc_words > 0) & (tokens.doc_words < span))
    if len(short):
        extra = np.zeros(len(short), dtype=np.uint64)
        for i, d in enumerate(short.tolist()):
            for value in tokens.hashes[tokens.doc_first[d]: tokens.doc_first[d] + tokens.doc_words[d]].tolist():
                extra[i] = extra[i] * GOLDEN + U64(value)
        order = np.argsort(np.r_[owner, short], kind="stable")
        combined, owner = np.r_[combined, extra][order], np.r_[owner, short][order]
    return combined, owner


def shingle_signatures(tokens: Tokens) -> np.ndarray:
    """MinHash signature of each body's word shingles (one in ``SHINGLE_SAMPLE``, by hash, if enough)."""
    combined, owner = _shingles(tokens)
    folded = ((combined ^ (combined >> U64(32))) & U64(0xFFFFFFFF)).astype(np.uint32)
    if SHINGLE_SAMPLE > 1:
        # Fixed-rate sampling by hash value keeps the same shingles of two copies, so it preserves
        # their Jaccard similarity in expectation at a fraction of the hashing cost.
        sampled = fmix32(folded ^ np.uint32(0x5BD1E995)) % np.uint32(SHINGLE_SAMPLE) == 0
        enough = np.bincount(owner[sampled], minlength=tokens.count) >= MIN_SAMPLED_SHINGLES
        keep = sampled | ~enough[owner]
        folded, owner = folded[keep], owner[keep]
    return minhash_signatures(folded, owner, tokens.count)


class BandTable:
    """The LSH band keys of the stored articles: per band, the keys sorted, with the articles' positions.
    Built on first use from the stored signatures (a loaded index that assigns nothing never pays for it)."""

    def __init__(self) -> None:
        self.tables: list[tuple[np.ndarray, np.ndarray]] | None = None  # per band: sorted keys, positions

    @property
    def nbytes(self) -> int:
        return sum(b.nbytes for band in self.tables or () for b in band)

    def add(self, stored: np.ndarray, start: int) -> None:
        """Add the band keys of the stored signatures from position ``start`` on (none until built)."""
        if self.tables is None:
            return
        tables = self.tables or [(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int32))] * LSH_BANDS
        stack = stored[start:]
        if not len(stack):
            self.tables = tables
            return
        usable = stack.min(axis=1) != EMPTY_HASH
        keys = band_keys(stack[usable])
        positions = (np.flatnonzero(usable) + start).astype(np.int32)
        self.tables = [sorted_merge(table, where, keys[:, band], positions)
                       for band, (table, where) in enumerate(tables)]

    def _built(self, stored: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]] | None:
        if self.tables is None:
            self.tables = []
            self.add(stored, 0)
        return self.tables if len(stored) else None

    def near_duplicates(self, signatures: np.ndarray, rank: np.ndarray, has_words: np.ndarray,
                        stored: np.ndarray) -> list[tuple[Target, float] | None]:
        """For each article of a batch to be stored (``rank`` >= 0: its processing order), the stored
        position or earlier batch article it copies, with the estimated Jaccard similarity, or None.
        ``stored`` holds the stored articles' signatures."""
        pairs = self._candidate_pairs(band_keys(signatures), np.flatnonzero((rank >= 0) & has_words), stored)
        best: list[tuple[Target, float] | None] = [None] * len(signatures)
        for who, other, in_batch in pairs:
            if not len(who):
                continue
            if in_batch:  # the later article (in processing order) copies the earlier one
                later = rank[who] > rank[other]
                who, other = np.where(later, who, other), np.where(later, other, who)
                theirs = signatures[other]
            else:
                theirs = stored[other]
            scores = (signatures[who] == theirs).mean(axis=1)
            close = scores >= NEAR_DUPLICATE_JACCARD
            for i, o, score in zip(who[close].tolist(), other[close].tolist(), scores[close].tolist()):
                target = ("batch", o) if in_batch else o
                current = best[i]
                if current is None or score > current[1] or (score == current[1] and str(target) < str(current[0])):
                    best[i] = (target, score)
        return best

    def _candidate_pairs(self, bands: np.ndarray, rows: np.ndarray, stored: np.ndarray
                         ) -> list[tuple[np.ndarray, np.ndarray, bool]]:
        """(batch article, other, other is in the batch) arrays of the pairs that share a band key."""
        pairs: list[tuple[np.ndarray, np.ndarray, bool]] = []
        tables = self._built(stored)
        for band in range(LSH_BANDS):
            keys = bands[rows, band]
            if tables is not None and len(tables[band][0]):
                table, positions = tables[band]
                left, right = np.searchsorted(table, keys, "left"), np.searchsorted(table, keys, "right")
                right = np.minimum(right, left + _BAND_NEIGHBOURS)
                counts = right - left
                who = np.repeat(rows, counts)
                at = np.repeat(left - np.r_[0, np.cumsum(counts)[:-1]], counts) + np.arange(counts.sum())
                pairs.append((who, positions[at], False))
            order = rows[np.argsort(keys, kind="stable")]
            sorted_keys = bands[order, band]
            for shift in range(1, _BAND_NEIGHBOURS + 1):
                same = np.flatnonzero(sorted_keys[shift:] == sorted_keys[:-shift])
                if len(same):
                    pairs.append((order[same + shift], order[same], True))
        return pairs
