"""A batch of bodies as one token stream (:class:`Tokens`), and the keys read off it: per body (exact
copies) and per line (a site's boilerplate).

Everything runs over a batch at once: one split per article turns it into tokens, and from there on the
work is numpy; Python loops run per distinct token or per article, never per token.
"""
from __future__ import annotations

import zlib
from collections.abc import Sequence
from itertools import chain

import numpy as np

from .arrays import GOLDEN, U64, mix64, segment_starts
from .words import BREAK, LINE_BREAK, WordCodes

_TOKENIZE_BODIES = 64  # bodies split into words at once


class Tokens:
    """A batch of bodies as one token stream: per token its document, line and folded-token hash."""

    def __init__(self, bodies: Sequence[str], codes: WordCodes | None = None) -> None:
        self.codes = codes or WordCodes()
        vocabulary = self.codes.for_batch()
        self.count = len(bodies)
        # A few bodies at a time: a commit's bodies as word lists were about 100 MB of short-lived strings.
        lengths_parts, code_parts = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        for start in range(0, len(bodies), _TOKENIZE_BODIES):
            lists = [body.replace("\n", f" {BREAK} ").split() for body in bodies[start:start + _TOKENIZE_BODIES]]
            lengths_parts.append(np.fromiter(map(len, lists), dtype=np.int64, count=len(lists)))
            code_parts.append(np.fromiter(map(vocabulary.__getitem__, chain.from_iterable(lists)), dtype=np.int64,
                                          count=int(lengths_parts[-1].sum())))
        lengths, codes = np.concatenate(lengths_parts), np.concatenate(code_parts)
        del lengths_parts, code_parts
        doc = np.repeat(np.arange(self.count, dtype=np.int64), lengths)
        breaks = codes == LINE_BREAK
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
        mixed = mix64(self.hashes + (position.astype(np.uint64) + U64(1)) * GOLDEN)
        lines = np.add.reduceat(mixed, self.line_first)
        site_keys = np.fromiter((zlib.crc32((site or "").encode("utf-8")) for site in sites), dtype=np.uint64,
                                count=len(sites))
        return mix64(lines ^ mix64(site_keys[self.line_doc] + GOLDEN))

    def body_keys(self) -> list[str]:
        """Key of each body for exact-duplicate detection: its folded words in order, 64 bits as hex."""
        return [f"{key:016x}" for key in self.body_key_values().tolist()]

    def body_key_values(self) -> np.ndarray:
        """:meth:`body_keys` as uint64."""
        position = np.arange(len(self.ids)) - self.doc_first[self.doc]
        mixed = mix64(self.hashes ^ mix64(position.astype(np.uint64) + GOLDEN))
        sums = np.zeros(self.count, dtype=np.uint64)
        has = self.doc_words > 0
        if has.any():
            sums[has] = np.add.reduceat(mixed, self.doc_first[has])
        return mix64(sums + self.doc_words.astype(np.uint64) * GOLDEN)


def body_key(text: str) -> str:
    """Key of a normalized body for exact-duplicate detection: case, spacing and punctuation do not count.

    >>> body_key("Turkey  may send\\ntroops.") == body_key("turkey may send troops")
    True
    >>> body_key("troops may send Turkey") == body_key("Turkey may send troops")
    False
    """
    return Tokens([text]).body_keys()[0]
