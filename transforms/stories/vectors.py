"""Story vectors: each article as a weighted bag of its informative words and entities (sparse, CSR rows),
and the sparse products that compare articles with each other and with story centroids.

Outlets that tell one event in their own words still share its rare words (names, places, coinages),
which common words and site chrome do not outweigh. Word informativeness comes from a general
word-frequency table (Zipf scale, passed in by the caller), so it holds from the first article on and
does not drift between runs the way a corpus IDF would.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import chain

import numpy as np
from scipy import sparse

from .arrays import ranges
from .model import StoryDoc, ZipfTables
from .tokens import Tokens
from .words import FEATURE_BITS, name_rarity, term_slot

STORY_TERMS = 48  # strongest terms kept per article: bounds index size and comparison cost
# Entities (canonical names from the alias table) count as extra terms with this weight per mention,
# scaled by the name's rarity like a word's ("US" next to nothing, "Kristi Noem" in full).
ENTITY_WEIGHT = 2.0
# Title words count as this many extra occurrences. 0: measured on the bench pairs, 1 or 2 lowered
# precision (0.902 -> 0.822 at equal recall): headlines of related stories share the product's name. Not
# only because plain-text titles were often chrome ("Monday 5:30PM"): with the page's own headlines (session
# 7) 1-3 still give 0.826-0.844 at recall 0.905, against 0.927.
TITLE_REPEAT = 0

# Sparse vectors as CSR rows: offsets (row i is ``offsets[i]:offsets[i + 1]``), int32 slots, float weights.
Vectors = tuple[np.ndarray, np.ndarray, np.ndarray]


def story_vectors(tokens: Tokens, docs: Sequence[StoryDoc], kept_lines: np.ndarray, zipf: ZipfTables) -> Vectors:
    """Each article's ``STORY_TERMS`` strongest terms (slots, L2-normalized weights, strongest first):
    (1 + log term frequency) x rarity over its kept lines, plus its entities. As CSR rows: offsets
    (article i's terms are ``offsets[i]:offsets[i + 1]``), int32 slots, float32 weights."""
    doc, slot, weight = _word_terms(tokens, docs, kept_lines, zipf)
    rows, cols, values = _summed_terms(doc, slot, weight, len(docs))
    rows, cols, values = _with_entities(docs, rows, cols, values, zipf)
    return _strongest(rows, cols, values, len(docs))


def _word_terms(tokens: Tokens, docs: Sequence[StoryDoc], kept_lines: np.ndarray, zipf: ZipfTables
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per word of the kept lines (and title repeats): its article, slot (-1: no term) and weight, under
    its article's language."""
    keep = kept_lines[tokens.line_of] if len(tokens.ids) else np.zeros(0, dtype=bool)
    titles = [(doc_.title or "").split() if TITLE_REPEAT else [] for doc_ in docs]
    lengths = np.fromiter(map(len, titles), dtype=np.int64, count=len(titles))
    codes = np.fromiter(map(tokens.codes.vocabulary.__getitem__, chain.from_iterable(titles)), dtype=np.int64,
                        count=int(lengths.sum()))
    owners = np.repeat(np.arange(len(docs)), lengths)[codes >= 0]
    words = codes[codes >= 0] >> 32
    ids = np.r_[tokens.ids[keep], np.repeat(words, TITLE_REPEAT)]
    doc = np.r_[tokens.doc[keep], np.repeat(owners, TITLE_REPEAT)]
    languages = [doc_.language for doc_ in docs]
    distinct = list(dict.fromkeys(languages))
    slot = np.full(len(ids), -1, dtype=np.int64)
    weight = np.zeros(len(ids), dtype=np.float64)
    for language in distinct:
        if len(distinct) == 1:
            arrays = tokens.codes.term_arrays(zipf(language), ids)
            slot, weight = arrays.slots[ids], arrays.weights[ids]
        else:
            mine = np.array([lang == language for lang in languages], dtype=bool)[doc]
            arrays = tokens.codes.term_arrays(zipf(language), ids[mine])
            slot[mine], weight[mine] = arrays.slots[ids[mine]], arrays.weights[ids[mine]]
    return doc, slot, weight


def _summed_terms(doc: np.ndarray, slot: np.ndarray, weight: np.ndarray, count: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (article, slot): (1 + log term frequency) x the mean weight, as rows, columns, values."""
    useful = slot >= 0
    rows, cols, weight = doc[useful], slot[useful], weight[useful]
    # Summed weight (real part) and term frequency (imaginary part) per (article, slot) in one pass:
    # half the time of two matrices, and the same sums (the same sort of the same coordinates).
    both = sparse.csr_matrix((weight + 1j, (rows, cols)), shape=(count, 1 << FEATURE_BITS))
    both.sum_duplicates()
    counts, sums = both.data.imag, both.data.real
    values = (1.0 + np.log(counts)) * (sums / counts)
    rows = np.repeat(np.arange(count), np.diff(both.indptr))
    return rows, both.indices.astype(np.int64), values


def _with_entities(docs: Sequence[StoryDoc], rows: np.ndarray, cols: np.ndarray, values: np.ndarray,
                   zipf: ZipfTables) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The word terms plus each article's entities (``entity:`` terms), summed where slots meet."""
    extra = [(i, term_slot("entity:" + name.casefold()),
              ENTITY_WEIGHT * (1.0 + math.log(mentions)) * name_rarity(name, zipf(doc_.language)))
             for i, doc_ in enumerate(docs) for name, mentions in doc_.entities if mentions > 0]
    if not extra:
        return rows, cols, values
    more = np.array(extra, dtype=np.float64)
    merged = sparse.csr_matrix((np.r_[values, more[:, 2]], (np.r_[rows, more[:, 0].astype(np.int64)],
                                                            np.r_[cols, more[:, 1].astype(np.int64)])),
                               shape=(len(docs), 1 << FEATURE_BITS))
    merged.sum_duplicates()
    rows = np.repeat(np.arange(len(docs)), np.diff(merged.indptr))
    return rows, merged.indices.astype(np.int64), merged.data


def _strongest(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, count: int) -> Vectors:
    """Each row's ``STORY_TERMS`` strongest terms, strongest first, L2-normalized, as CSR rows."""
    order = np.lexsort((-values, rows))  # stable: equal weights stay in slot order
    rows, cols, values = rows[order], cols[order], values[order]
    starts = np.searchsorted(rows, np.arange(count + 1))
    top = np.arange(len(rows)) - starts[rows] < STORY_TERMS
    rows, cols, values = rows[top], cols[top], values[top]
    norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=count))
    values = values / np.where(norms > 0, norms, 1.0)[rows]
    return np.searchsorted(rows, np.arange(count + 1)), cols.astype(np.int32), values.astype(np.float32)


def csr_rows(vectors: Vectors, rows: np.ndarray) -> Vectors:
    """The CSR vectors numbered ``rows``, in that order, as CSR vectors of their own.

    >>> vectors = (np.array([0, 2, 3]), np.array([5, 9, 7]), np.array([0.6, 0.8, 1.0]))
    >>> [part.tolist() for part in csr_rows(vectors, np.array([1, 0]))]
    [[0, 1, 3], [7, 5, 9], [1.0, 0.6, 0.8]]
    """
    offsets, slots, weights = vectors
    lengths = offsets[rows + 1] - offsets[rows]
    where = ranges(offsets[rows], lengths)
    return np.r_[0, np.cumsum(lengths)], slots[where], weights[where]


def matrices(query: Vectors, other: Vectors) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """Sparse rows of the ``query`` CSR vectors (offsets from 0, slots, weights) and of ``other`` ones, over a
    compact column space: the slots the query uses. Products with the query (``query @ other.T``,
    ``query @ query.T``) ignore every other slot, so ``other`` keeps only its entries in those columns: the
    products are the same, and neither a sort of all of ``other``'s slots nor the unused entries are paid for.

    >>> query = (np.array([0, 2]), np.array([5, 9]), np.array([0.6, 0.8]))
    >>> other = (np.array([0, 2, 3]), np.array([9, 7, 5]), np.array([1.0, 1.0, 1.0]))
    >>> q, o = matrices(query, other)
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


def at_least(product: sparse.spmatrix, threshold: float) -> sparse.csr_matrix:
    """The entries of a similarity product that reach the threshold, as CSR."""
    product = product.tocsr()
    product.data[product.data < threshold] = 0
    product.eliminate_zeros()
    return product
