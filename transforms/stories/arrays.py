"""Array helpers of the story index: 64-bit mixing and sorted-array lookups, all numpy, no Python loop per row."""
from __future__ import annotations

import numpy as np

U64 = np.uint64
GOLDEN = U64(0x9E3779B97F4A7C15)


def mix64(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer over uint64 arrays (wrapping multiplication is intended)."""
    values = values ^ (values >> U64(30))
    values = values * U64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> U64(27))
    values = values * U64(0x94D049BB133111EB)
    return values ^ (values >> U64(31))


def fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, as datasketch's affine32 scheme applies it before permuting."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def segment_starts(owners: np.ndarray) -> np.ndarray:
    """Index of the first element of each run of equal values in ``owners``.

    >>> segment_starts(np.array([4, 4, 7, 9, 9])).tolist()
    [0, 2, 3]
    """
    return np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]]) if len(owners) else np.zeros(0, dtype=np.int64)


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indexes ``starts[k]:starts[k] + lengths[k]`` of every k, concatenated.

    >>> ranges(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist()
    [5, 6, 9, 10, 11]
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    ends = np.cumsum(lengths)
    return np.repeat(np.asarray(starts, dtype=np.int64) - ends + lengths, lengths) + np.arange(ends[-1] if len(ends) else 0)


def sorted_contains(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """Which needles occur in the sorted haystack (binary search, no sort of the haystack).

    >>> sorted_contains(np.array([2, 5, 9]), np.array([5, 6, 9, 1])).tolist()
    [True, False, True, False]
    """
    if not len(haystack):
        return np.zeros(len(needles), dtype=bool)
    where = np.minimum(np.searchsorted(haystack, needles), len(haystack) - 1)
    return haystack[where] == needles


def sorted_merge(table: np.ndarray, where: np.ndarray, keys: np.ndarray, values: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Insert (key, value) pairs into a table sorted by key; among equal keys, old pairs first, then new
    ones in their given order (a merge of two sorted arrays: no re-sort of the whole table).

    >>> table, where = sorted_merge(np.array([1, 5]), np.array([10, 50]), np.array([5, 3]), np.array([51, 30]))
    >>> table.tolist(), where.tolist()
    ([1, 3, 5, 5], [10, 30, 50, 51])
    """
    order = np.argsort(keys, kind="stable")
    at = np.searchsorted(table, keys[order], "right")
    return np.insert(table, at, keys[order]), np.insert(where, at, values[order])
