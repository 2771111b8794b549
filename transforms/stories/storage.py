"""The story index as arrays laid out as Arrow lays out its columns (the flow stores them as Parquet under
``DIR/state/stories``), or as plain Python columns, and back."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .articles import NO_ROOT, ArticleColumns
from .centroids import CentroidStore
from .columns import CodedColumn, Column, Strings, TextColumn
from .copies import ExactCopies
from .model import date_of, day_number
from .near import MINHASH_PERMUTATIONS
from .story_table import StoryTable


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


def to_arrays(articles: ArticleColumns, stories: StoryTable, copies: ExactCopies, site_lines: np.ndarray, *,
              copy: bool = True) -> dict:
    """See :meth:`StoryIndex.to_arrays`."""
    own = np.copy if copy else np.asarray
    columns = {
        "doc_id": articles.doc_ids.column(),
        "story_id": CodedColumn(own(articles.story.view), stories.names.tolist()),
        "near_duplicate_of": articles.near_column(),
        "day": own(articles.days.view),
        "site": CodedColumn(own(articles.site.view), list(articles.site_names)),
        "title": articles.titles.column(),
        "body_key": copies.key_column(len(articles)),
        "signature": own(articles.signatures.view),
        "term_offsets": own(articles.term_offsets.view),
        "term_slots": own(articles.term_slots.view),
        "term_weights": own(articles.term_weights.view),
    }
    return {"articles": columns, "ledger": copies.ledger_columns(), "site_lines": own(site_lines)}


def columns_of(arrays: Mapping[str, object]) -> dict[str, dict[str, list]]:
    """:func:`to_arrays`'s result as plain columns (articles, ledger, site lines) of Python values."""
    a = arrays["articles"]
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
    return {"articles": articles, "ledger": arrays["ledger"], "site_lines": {"key": arrays["site_lines"].tolist()}}


def arrays_of(columns: Mapping[str, Mapping[str, Sequence]]) -> dict:
    """The inverse of :func:`columns_of`."""
    a = columns["articles"]
    terms = [np.asarray(s, dtype=np.int32) for s in a["term_slots"]]
    offsets = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in terms], out=offsets[1:])
    articles = {
        "doc_id": TextColumn.of(a["doc_id"]), "story_id": CodedColumn.of(a["story_id"]),
        "near_duplicate_of": CodedColumn.of(a["near_duplicate_of"]),
        "day": np.array([day_number(d) for d in a["day"]], dtype=np.int32),
        "site": CodedColumn.of(a["site"]), "title": TextColumn.of(a["title"]),
        "body_key": TextColumn.of(a["body_key"]), "signature": TextColumn.of(a["signature"]),
        "term_offsets": offsets,
        "term_slots": np.concatenate(terms) if terms else np.zeros(0, dtype=np.int32),
        "term_weights": (np.concatenate([np.asarray(w, dtype=np.float32) for w in a["term_weights"]])
                         if terms else np.zeros(0, dtype=np.float32)),
    }
    return {"articles": articles, "ledger": columns.get("ledger") or {},
            "site_lines": np.asarray(columns["site_lines"]["key"], dtype=np.uint64)}


def load(arrays: Mapping[str, object], articles: ArticleColumns, stories: StoryTable, centroids: CentroidStore,
         copies: ExactCopies) -> None:
    """Fill empty parts of an index from :func:`to_arrays`'s layout (see :meth:`StoryIndex.from_arrays`)."""
    a = arrays["articles"]
    _load_articles(a, articles)
    named_site = np.array([bool(name) for name in articles.site_names] + [False], dtype=bool)
    story = stories.load(a["story_id"], articles.days.view, articles.site.view, named_site)
    articles.story = Column(np.int32, values=story)
    centroids.load(story, len(stories))
    copies.load(a["body_key"], arrays.get("ledger") or {})


def _load_articles(a: Mapping[str, object], articles: ArticleColumns) -> None:
    """Every per-article column but the story, and the doc_id lookup."""
    doc_ids: TextColumn = a["doc_id"]
    n = len(doc_ids)
    articles.doc_ids = Strings(doc_ids)
    articles.titles = Strings(a["title"])
    articles.days = Column(np.int32, values=a["day"])
    sites: CodedColumn = a["site"]
    articles.site_names = list(sites.names)
    articles.site_numbers = {name: number for number, name in enumerate(sites.names)}
    articles.site = Column(np.int32, values=sites.codes)
    articles.signatures = Column(np.uint32, values=signature_rows(a["signature"], n))
    articles.term_offsets = Column(np.int64, values=np.asarray(a["term_offsets"]) - a["term_offsets"][0])
    articles.term_slots = Column(np.int32, values=a["term_slots"][a["term_offsets"][0]: a["term_offsets"][-1]])
    articles.term_weights = Column(np.float32, values=a["term_weights"][a["term_offsets"][0]: a["term_offsets"][-1]])
    articles.index_doc_ids(0, doc_ids.tolist())
    # Originals: positions of stored doc_ids (the later one, as a dict would keep), else foreign.
    roots: CodedColumn = a["near_duplicate_of"]
    root_positions = articles.positions_of(roots.names)
    foreign = np.flatnonzero(root_positions < 0)
    root_positions[foreign] = -2 - np.arange(len(foreign))
    articles.foreign_roots = [roots.names[k] for k in foreign.tolist()]
    codes = np.asarray(roots.codes)
    articles.near = Column(np.int32, values=np.where(codes >= 0, root_positions[np.maximum(codes, 0)], NO_ROOT)
                           if len(root_positions) else np.full(n, NO_ROOT))
