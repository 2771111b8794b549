"""A site's boilerplate lines: a line that one site publishes on two pages says nothing of a story."""
from __future__ import annotations

import numpy as np

from .arrays import sorted_contains


class SiteLines:
    """The line keys (line within its site, see :meth:`Tokens.line_keys`) seen on a stored page, sorted."""

    def __init__(self, keys: np.ndarray | None = None) -> None:
        self.keys = np.zeros(0, dtype=np.uint64) if keys is None else np.array(keys, dtype=np.uint64)

    def kept(self, keys: np.ndarray, line_doc: np.ndarray, fresh: np.ndarray) -> np.ndarray:
        """Which lines (``keys``, each on page ``line_doc``) count for story terms: not published by the
        same site on another (fresh or stored) page. Records the ``fresh`` pages' lines as the site's."""
        mine = fresh[line_doc] if len(keys) else np.zeros(0, dtype=bool)
        line_keys, line_docs = keys[mine], line_doc[mine]
        order = np.lexsort((line_docs, line_keys))  # distinct (key, page) pairs: a sort, not unique(axis=1)
        line_keys, line_docs = line_keys[order], line_docs[order]
        first = np.r_[True, (line_keys[1:] != line_keys[:-1]) | (line_docs[1:] != line_docs[:-1])]
        distinct, counts = np.unique(line_keys[first], return_counts=True)
        shared = distinct[counts > 1]
        repeated = np.isin(keys, shared) | sorted_contains(self.keys, keys)
        new = distinct[~sorted_contains(self.keys, distinct)]
        if len(new):  # a merge of two sorted arrays: no re-sort of the whole history per batch
            self.keys = np.insert(self.keys, np.searchsorted(self.keys, new), new)
        return ~repeated
