"""The parts of the story index, each on its own: tokens and keys, near-duplicate bands, site lines, exact
copies, the story table, centroids, column storage (transforms/stories/)."""
from __future__ import annotations

import random
from datetime import date

import numpy as np

from flows.stories import zipf_table
from transforms import stories
from transforms.stories.articles import ArticleColumns
from transforms.stories.centroids import CENTROID_TERMS, CentroidStore
from transforms.stories.columns import CodedColumn, Strings, TextColumn
from transforms.stories.copies import ExactCopies
from transforms.stories.near import BandTable, shingle_signatures
from transforms.stories.site_lines import SiteLines
from transforms.stories.story_table import StoryTable
from transforms.stories.tokens import Tokens

WORDS = ("Kalomi Rutezav Shibardem Quixan Voneta Lotemiru Zavoshi Baroltem Demquiru Xanloka Miruteza Netavosh "
         "harbour ceasefire minister delegation parliament reservoir").split()


def prose(seed: int, words: int = 120) -> str:
    rng = random.Random(seed)
    picked = [rng.choice(WORDS) for _ in range(words)]
    return "\n".join(" ".join(picked[i: i + 12]) for i in range(0, words, 12))


def test_tokens_key_bodies_by_their_words_and_lines_by_site():
    tokens = Tokens(["One line.\nShared footer line", "ONE, line\nShared footer line", "Shared footer line"])
    keys = tokens.body_keys()
    assert keys[0] == keys[1] != keys[2]
    lines = tokens.line_keys(["a", "a", "b"])
    assert lines.tolist()[1] == lines.tolist()[3] != lines.tolist()[4]  # the footer: same site, other site


def test_band_table_finds_a_stored_copy_and_a_copy_within_the_batch():
    bodies = [prose(1), prose(2), prose(1) + "\nSubscribe to our newsletter today"]
    signatures = shingle_signatures(Tokens(bodies))
    table = BandTable()
    rank = np.array([0, 1, -1])  # the first two are stored first
    first = table.near_duplicates(signatures, rank, np.ones(3, dtype=bool), signatures[:0])
    assert first == [None, None, None]
    table.add(signatures[:2], 0)
    found = table.near_duplicates(signatures, np.array([-1, -1, 0]), np.ones(3, dtype=bool), signatures[:2])
    assert found[2][0] == 0 and found[2][1] >= stories.NEAR_DUPLICATE_JACCARD
    within = BandTable().near_duplicates(signatures, np.array([0, 1, 2]), np.ones(3, dtype=bool), signatures[:0])
    assert within[2][0] == ("batch", 0) and within[0] is None and within[1] is None


def test_band_table_is_built_only_when_first_used():
    table = BandTable()
    table.add(np.zeros((3, stories.MINHASH_PERMUTATIONS), dtype=np.uint32), 0)
    assert table.tables is None and table.nbytes == 0


def test_site_lines_keep_a_line_only_until_the_site_repeats_it():
    tokens = Tokens(["Story one words\nSite footer", "Story two words\nSite footer", "Story three\nSite footer"])
    lines = SiteLines()
    kept = lines.kept(tokens.line_keys(["a", "a", "b"]), tokens.line_doc, np.ones(3, dtype=bool))
    assert kept.tolist() == [True, False, True, False, True, True]  # the footer twice on a, once on b
    again = Tokens(["Site footer"])
    assert lines.kept(again.line_keys(["b"]), again.line_doc, np.ones(1, dtype=bool)).tolist() == [False]


def test_exact_copies_remember_the_first_position_and_round_trip():
    copies = ExactCopies()
    copies.add(np.array([7, 3], dtype=np.uint64), 0)
    copies.add(np.array([5], dtype=np.uint64), 2)
    assert copies.positions_of(np.array([3, 4, 5, 7], dtype=np.uint64)).tolist() == [1, -1, 2, 0]
    doc = stories.StoryDoc("d9", "body", date(2025, 3, 1), site="s", source_uri="u")
    copies.record(doc, "d0", "s-d0")
    again = ExactCopies()
    again.load(copies.key_column(3), copies.ledger_columns())
    assert again.positions_of(np.array([3, 5, 7], dtype=np.uint64)).tolist() == [1, 2, 0]
    assert again.ledger == copies.ledger and copies.ledger[0]["day"] == date(2025, 3, 1).toordinal()


def test_story_table_finds_names_before_and_after_indexing_and_tracks_days_and_sites():
    table = StoryTable()
    a, b = table.add("s-a", 10), table.add("s-b", stories.UNDATED)
    assert (table.find("s-a"), table.find("s-b"), table.find("s-c")) == (a, b, None)
    table.index_names()
    assert (table.find("s-a"), table.find("s-b"), table.find("s-c")) == (a, b, None) and not table.new
    table.widen(a, 14)
    table.widen(b, 20)
    table.widen(a, stories.UNDATED)
    assert table.days.view.tolist() == [[10, 14], [20, 20]]
    table.add_site(a, 3)
    assert table.has_site(a, 3) and not table.has_site(b, 3)
    table.flush_sites()
    assert table.has_site(a, 3) and not table.new_sites


def test_story_table_load_numbers_stories_by_first_appearance():
    table = StoryTable()
    story = table.load(CodedColumn.of(["s-y", "s-x", "s-y"]), np.array([5, 0, 7]), np.array([0, 1, -1]),
                       np.array([True, False, False]))
    assert story.tolist() == [0, 1, 0] and table.names.tolist() == ["s-y", "s-x"]
    assert table.days.view.tolist() == [[5, 7], [0, 0]]
    assert table.has_site(0, 0) and not table.has_site(1, 1)  # site 1 has no name: not counted


def test_centroids_loaded_in_bulk_equal_those_built_one_article_at_a_time():
    """Including a story whose terms outgrow the pruning bound (replayed one article at a time)."""
    rng = random.Random(5)
    articles = ArticleColumns()
    built = CentroidStore(articles)
    owners = [0, 1, 0, 0, 1, 2] + [3] * 12
    for story in range(4):
        built.add_story()
    offsets = [0]
    slots_all, weights_all = [], []
    for position, story in enumerate(owners):
        slots = rng.sample(range(50 if story < 3 else 10_000), 30)
        weights = [rng.random() for _ in slots]
        slots_all += slots
        weights_all += np.float32(weights).tolist()
        offsets.append(len(slots_all))
    articles.term_offsets.extend(np.array(offsets[1:]))
    articles.term_slots.extend(np.array(slots_all, dtype=np.int32))
    articles.term_weights.extend(np.array(weights_all, dtype=np.float32))
    articles.near.extend(np.full(len(owners), -1, dtype=np.int32))
    for position, story in enumerate(owners):
        slots, weights = articles.terms(position)
        built.add_original(story, slots.tolist(), weights.tolist(), position)
    built.flush()
    loaded = CentroidStore(articles)
    loaded.load(np.array(owners), 4)
    every = np.arange(4)
    assert len(built.terms(3)) <= 2 * CENTROID_TERMS
    for mine, theirs in zip(built.vectors(every), loaded.vectors(every)):
        assert mine.tolist() == theirs.tolist()
    assert built.norm.view.tolist() == loaded.norm.view.tolist()
    assert built.single.view.tolist() == loaded.single.view.tolist() == [-2, -2, 5, -2]


def test_strings_and_text_columns_round_trip_unicode_and_nulls():
    values = ["Kyiv", None, "Zelensky’s", "", "日本"]
    column = TextColumn.of(values)
    strings = Strings(column)
    strings.extend(["x", None])
    strings.append("é")
    assert strings.tolist() == values + ["x", None, "é"]
    assert Strings(strings.column()).tolist() == strings.tolist()


def test_the_index_loaded_from_its_arrays_assigns_as_the_one_that_stayed_in_memory():
    docs = [stories.StoryDoc(f"d{i}", prose(i % 7, 60 + i), date(2026, 1, 1 + i % 9), site=f"s{i % 3}",
                             language="en") for i in range(60)]
    kept = stories.StoryIndex()
    kept.assign(docs[:40], zipf=zipf_table)
    loaded = stories.StoryIndex.from_arrays(kept.to_arrays())
    assert loaded.to_columns() == kept.to_columns()
    assert loaded.assign(docs[40:], zipf=zipf_table) == kept.assign(docs[40:], zipf=zipf_table)
