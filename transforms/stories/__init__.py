"""Story clustering and duplicate control: exact body keys, MinHash near-duplicates, story similarity.

Three questions per article, cheapest first:

* exact duplicate: the same body (case, whitespace and punctuation aside) already stored;
* near duplicate: MinHash with banded LSH over word shingles finds a stored article with nearly the
  same text (a syndicated copy or a re-scrape with other chrome);
* story: a weighted bag of informative words and entities, compared by cosine with the centroids of
  the stories active within a few days; outlets that tell one event in their own words still share its
  rare words (names, places, coinages), which common words and site chrome do not outweigh.

Everything runs over a batch at once: one split per article turns it into tokens, and from there on the
work is numpy and scipy.sparse (token hashes, line and body keys, shingles, MinHash, LSH bands, term
vectors, similarity products); Python loops run per distinct token, per candidate story or per article,
never per token. The flow loads the index from and saves it to ``DIR/state/stories`` through
:meth:`StoryIndex.from_arrays` / :meth:`StoryIndex.to_arrays`.

The modules, from words to the index:

* :mod:`.words` — tokens, their numbers and story terms (slot, weight); :mod:`transforms.zipf` — frequency tables;
* :mod:`.tokens` — a batch as one token stream; body and line keys;
* :mod:`.near` — shingles, MinHash signatures, LSH band table;
* :mod:`.vectors` — story vectors and their sparse products;
* :mod:`.columns` — growable numpy columns, Arrow-like string columns;
* :mod:`.articles`, :mod:`.story_table`, :mod:`.centroids`, :mod:`.copies`, :mod:`.site_lines` — the
  parts of the index: stored articles, stories, story centroids, exact copies, sites' lines;
* :mod:`.index` — :class:`StoryIndex`, which composes them; :mod:`.storage` — its array and column layouts.
"""
from .arrays import segment_starts
from .columns import CodedColumn, TextColumn
from .index import (CANDIDATE_SHARE, SAME_SITE_SIMILARITY, STORY_SIMILARITY, STORY_WINDOW_DAYS, StoryIndex)
from .centroids import CENTROID_TERMS
from .model import UNDATED, Assignment, StoryDoc, ZipfTables, date_of, day_number, new_story_id
from .near import (LSH_BANDS, LSH_ROWS, MINHASH_PERMUTATIONS, MINHASH_SEED, NEAR_DUPLICATE_JACCARD,
                   SHINGLE_SAMPLE, SHINGLE_WORDS, band_keys, jaccard_estimate, minhash_signatures)
from .storage import signature_rows
from .tokens import body_key
from .vectors import ENTITY_WEIGHT, STORY_TERMS, TITLE_REPEAT
from .words import (FEATURE_BITS, STEM_CHARS, UNKNOWN_ZIPF, ZIPF_CEILING, WordCodes, core, fold, term_slot,
                    word_tokens, word_weight)
from transforms.zipf import HashedZipf, word_hash

__all__ = [
    "CANDIDATE_SHARE", "CENTROID_TERMS", "ENTITY_WEIGHT", "FEATURE_BITS", "LSH_BANDS", "LSH_ROWS",
    "MINHASH_PERMUTATIONS", "MINHASH_SEED", "NEAR_DUPLICATE_JACCARD", "SAME_SITE_SIMILARITY", "SHINGLE_SAMPLE",
    "SHINGLE_WORDS", "STEM_CHARS", "STORY_SIMILARITY", "STORY_TERMS", "STORY_WINDOW_DAYS", "TITLE_REPEAT",
    "UNDATED", "UNKNOWN_ZIPF", "ZIPF_CEILING", "Assignment", "CodedColumn", "HashedZipf", "StoryDoc",
    "StoryIndex", "TextColumn", "WordCodes", "ZipfTables", "band_keys", "body_key", "core", "date_of",
    "day_number", "fold", "jaccard_estimate", "minhash_signatures", "new_story_id", "segment_starts",
    "signature_rows", "term_slot", "word_hash", "word_tokens", "word_weight",
]
