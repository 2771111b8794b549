"""Story clustering and duplicate control through the index and the flow's store: the sample story, near and
exact copies, persistence (transforms/stories, flows/stories.py)."""
from __future__ import annotations

import csv
import json
import random
import shutil
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flows.stories import (assign_stories, load_index, save_index, story_doc, story_rows, write_stories_table,
                           zipf_table)
from flows.store import Store, article_row
from transforms import stories
from transforms.stories import index as story_index
from transforms.pipeline import StepInputs, clean_document
from transforms.records import RawDocument

ROOT = Path(__file__).resolve().parents[2]
SEED_ARTICLES = sorted((ROOT / "seeds" / "articles").glob("*.txt"))
GOLDENS = ROOT / "tests" / "goldens" / "stories"
BENCH_TEXT = ROOT.parent / "shared" / "bench" / "text"
INGESTED = datetime(2025, 2, 28, 6, 0, tzinfo=timezone.utc)
OUTLETS = ("kyivpost.com", "pravda.com.ua", "euromaidanpress.com", "unian.info", "hotnews.ro")


@pytest.fixture(scope="module")
def refs():
    from flows.seeds import load_references

    return load_references()


def rows_for(raws: list[tuple[bytes, str]], refs) -> list[dict]:
    """Articles-table rows, built the way the flow builds them, for (raw bytes, site) pairs."""
    rows = []
    for number, (raw, site) in enumerate(raws):
        doc = RawDocument(source_uri=f"mem://{site}/{number}.txt", raw=raw, format_hint="text", site=site)
        article = clean_document(doc, StepInputs(refs))
        assert not article.quarantined, article.quarantine_reasons
        rows.append(article_row(article, ingested_at=INGESTED, run_id="test"))
    return rows


@pytest.fixture(scope="module")
def sample_rows(refs):
    return rows_for([(path.read_bytes(), site) for path, site in zip(SEED_ARTICLES, OUTLETS)], refs)


def test_five_sample_articles_are_one_story(tmp_path, sample_rows):
    batch = assign_stories(Store.open(str(tmp_path)), sample_rows)
    assert not batch.dropped
    assert len({row["story_id"] for row in batch.rows}) == 1
    assert all(row["near_duplicate_of"] is None for row in batch.rows)  # own words, not copies


def test_sample_story_gathers_articles_across_two_runs(tmp_path, sample_rows):
    first = assign_stories(Store.open(str(tmp_path)), sample_rows[:2])
    second = assign_stories(Store.open(str(tmp_path)), sample_rows[2:])  # a new process: index read from disk
    assert len({row["story_id"] for row in first.rows + second.rows}) == 1
    assert len(load_index(Store.open(str(tmp_path)))) == 5


def test_copy_with_other_chrome_is_a_near_duplicate_of_the_original(tmp_path, refs, sample_rows):
    original = SEED_ARTICLES[3].read_text(encoding="utf-8")
    chrome = (GOLDENS / "other_chrome.txt").read_text(encoding="utf-8").split("----\n")
    copy = rows_for([((chrome[0] + original + chrome[1]).encode("utf-8"), "mirror.example")], refs)
    store = Store.open(str(tmp_path))
    stored = assign_stories(store, sample_rows)
    batch = assign_stories(store, copy)
    assert batch.rows[0]["near_duplicate_of"] == sample_rows[3]["doc_id"]
    assert batch.rows[0]["story_id"] == stored.rows[3]["story_id"]


def test_exact_duplicates_are_dropped_and_recorded(tmp_path, refs, sample_rows):
    again = rows_for([(SEED_ARTICLES[0].read_bytes() + b"\n\n", "syndicator.example")], refs)
    store = Store.open(str(tmp_path))
    assign_stories(store, sample_rows[:1])
    batch = assign_stories(store, again + again)  # a re-scrape, twice in one batch
    assert batch.rows == []
    assert [row["duplicate_of"] for row in batch.dropped] == [sample_rows[0]["doc_id"]] * 2
    index = load_index(store)
    assert len(index) == 1 and len(index.ledger) == 2


def test_stories_table(tmp_path, refs, sample_rows):
    store = Store.open(str(tmp_path))
    assign_stories(store, sample_rows)
    assign_stories(store, rows_for([(SEED_ARTICLES[0].read_bytes() + b" ", "syndicator.example")], refs))
    table = pq.read_table(write_stories_table(store)).to_pylist()
    assert len(table) == 1
    story = table[0]
    assert story["n_articles"] == 5 and story["n_exact_duplicates"] == 1
    assert story["n_sites"] == 6  # the five outlets and the syndicator
    assert story["first_seen"] <= story["last_seen"]
    assert story["title"]


def test_pages_of_one_site_about_different_things_stay_apart(tmp_path, refs):
    """Same-site pages labelled 'different' in the bench pairs, fed as one site."""
    with (GOLDENS / "bench_pairs.csv").open(newline="", encoding="utf-8") as handle:
        pairs = [row for row in csv.DictReader(handle) if row["note"] == "same site, different pages"]
    if not BENCH_TEXT.is_dir():
        pytest.skip("../shared/bench is not beside the repository")
    store = Store.open(str(tmp_path))
    checked = 0
    for row in pairs:
        raws = [((BENCH_TEXT / f"{name}.txt").read_bytes(), "one-site.example") for name in (row["a"], row["b"])]
        articles = rows_for(raws, refs)
        if stories.body_key(articles[0]["body_normalized"]) == stories.body_key(articles[1]["body_normalized"]):
            continue  # the cleaner left only the site's chrome in both: an exact duplicate by definition
        batch = assign_stories(store, articles)
        assert batch.rows[0]["story_id"] != batch.rows[1]["story_id"], row
        checked += 1
    assert checked >= len(pairs) - 2


def test_index_survives_a_crash_between_files(tmp_path, sample_rows):
    store = Store.open(str(tmp_path))
    assign_stories(store, sample_rows[:2])
    folder = Path(store.path("state", "stories"))
    generation = (folder / "CURRENT").read_text()
    # A crash after writing a new generation's files but before switching CURRENT leaves junk behind.
    (folder / "articles-crashed.parquet").write_bytes(b"not parquet")
    (folder / ".CURRENT-crashed.tmp").write_text("crashed")
    index = load_index(store)
    assert len(index) == 2 and (folder / "CURRENT").read_text() == generation
    save_index(store, index)
    assert not (folder / "articles-crashed.parquet").exists()


def test_index_round_trips_through_columns(sample_rows):
    index = stories.StoryIndex()
    index.assign([story_doc(row) for row in sample_rows], zipf=zipf_table)
    again = stories.StoryIndex.from_columns(index.to_columns())
    assert again.to_columns() == index.to_columns()


def test_story_window_keeps_distant_dates_apart(sample_rows):
    index = stories.StoryIndex()
    late = story_doc({**sample_rows[1], "published": date(2025, 6, 1)})
    found = index.assign([story_doc(sample_rows[0]), late], zipf=zipf_table)
    assert found[0].story_id != found[1].story_id


def test_an_article_indexed_by_a_run_that_did_not_write_it_gets_the_same_answer(tmp_path):
    """A run killed after saving the index but before writing its batch must not lose the batch next time."""
    from flows.stories import assign_stories
    from flows.store import Store

    store = Store.open(str(tmp_path))
    rows = [{"doc_id": "d1", "body_normalized": "Turkey is open to sending peacekeepers to Ukraine " * 5,
             "published": None, "site": "a", "title": "T", "entities": [], "source_uri": "a.txt"}]
    first = assign_stories(store, [dict(row) for row in rows])
    again = assign_stories(store, [dict(row) for row in rows])
    assert not again.dropped and again.rows[0]["story_id"] == first.rows[0]["story_id"]


def test_story_fields_are_filled_in_the_rows_given(tmp_path, refs):
    """The validate task builds each row once; clustering fills its story fields, it does not copy it."""
    rows = rows_for([(SEED_ARTICLES[0].read_bytes(), "river-news.example")], refs)
    batch = assign_stories(Store.open(str(tmp_path)), rows)
    assert batch.rows[0] is rows[0] and rows[0]["story_id"] and "near_duplicate_of" in rows[0]


def synthetic_docs(count: int, seed: int = 3) -> list[stories.StoryDoc]:
    """Events told by 1-12 outlets, each with the event's names (pseudo-words) and names of its own (so
    that big stories outgrow the centroid bound), some undated, some copied."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ru", "te", "za", "vo", "ne", "shi", "bar", "tol", "dem", "qui", "xan"]

    def name() -> str:
        return "".join(rng.choice(syllables) for _ in range(4)).capitalize()

    docs: list[stories.StoryDoc] = []
    event = 0
    while len(docs) < count:
        names = [name() for _ in range(30)]
        day = date(2026, 1, 1) + timedelta(days=rng.randrange(20))
        for outlet in range(rng.randint(1, 12)):
            words = names + [name() for _ in range(25)] + ["the", "said", "and", "people"] * 5
            rng.shuffle(words)
            body = "\n".join(" ".join(words[i: i + 12]) for i in range(0, len(words), 12))
            doc = stories.StoryDoc(doc_id=f"d{event:04d}-{outlet}", body=body, site=f"s{rng.randrange(5)}",
                                   day=None if rng.random() < 0.1 else day, title=body[:30] if outlet else None,
                                   language="en", entities=(("Kalomi", 2),) if rng.random() < 0.2 else ())
            docs.append(doc)
            roll = rng.random()
            if roll < 0.1:  # a copy with a line of chrome
                docs.append(replace(doc, doc_id=doc.doc_id + "n", body=body + "\nSubscribe to our newsletter today"))
            elif roll < 0.15:  # a re-scrape
                docs.append(replace(doc, doc_id=doc.doc_id + "x", site="mirror"))
        event += 1
    return docs[:count]


def test_a_saved_and_loaded_index_assigns_as_the_one_that_stayed_in_memory(tmp_path):
    """Loading rebuilds story centroids (pruned ones included) with numpy: it must equal adding one by one."""
    docs = synthetic_docs(600)
    kept = stories.StoryIndex()
    kept.assign(docs[:400], zipf=zipf_table)
    store = Store.open(str(tmp_path))
    save_index(store, kept)
    loaded = load_index(store)
    assert loaded.to_columns() == kept.to_columns()
    assert loaded.assign(docs[400:], zipf=zipf_table) == kept.assign(docs[400:], zipf=zipf_table)
    assert loaded.to_columns() == kept.to_columns()


def test_skipping_candidates_by_the_groups_product_changes_no_decision(monkeypatch):
    """_place skips a candidate whose centroid is unchanged since the group's float32 product when the
    product puts it clearly below the bar or the best so far; with no skipping every answer is the same.
    The events share topics, so many candidates sit near the bar: with well-apart events (synthetic_docs) a
    wrong shortcut (a changed centroid skipped, or a slack of the wrong sign) passes; here it fails."""
    rng = random.Random(11)
    syllables = ["ka", "lo", "mi", "ru", "te", "za", "vo", "ne", "shi", "bar", "tol", "dem", "qui", "xan"]
    topics = [["".join(rng.choice(syllables) for _ in range(4)).capitalize() for _ in range(60)] for _ in range(8)]
    docs = []
    for event in range(400):  # events drawn from 8 topics, told in part: similarities all along the scale
        topic = topics[rng.randrange(len(topics))]
        own = rng.sample(topic, 25)
        day = date(2026, 1, 1) + timedelta(days=rng.randrange(6))
        for outlet in range(rng.randint(1, 4)):
            words = rng.sample(own, rng.randint(6, 25)) + rng.sample(topic, rng.randint(3, 20))
            rng.shuffle(words)
            docs.append(stories.StoryDoc(doc_id=f"g{event:03d}-{outlet}", body=" ".join(words), site=f"s{outlet}",
                                         day=day, language="en"))

    def run() -> list[stories.Assignment]:
        index = stories.StoryIndex()
        return [found for start in range(0, len(docs), 300)
                for found in index.assign(docs[start: start + 300], zipf=zipf_table)]

    fast = run()
    monkeypatch.setattr(story_index, "_PRODUCT_SLACK", float("inf"))  # never skip: every similarity recomputed
    assert run() == fast


def test_an_index_written_as_plain_columns_loads(tmp_path):
    """The layout older code wrote (a table from Python lists): the schema is the same, so it loads."""
    from flows.stories import ARTICLES_INDEX_SCHEMA, LEDGER_SCHEMA, LINES_SCHEMA

    index = stories.StoryIndex()
    index.assign(synthetic_docs(200), zipf=zipf_table)
    columns = index.to_columns()
    folder = tmp_path / "state" / "stories"
    folder.mkdir(parents=True)
    for name, table in (("articles", pa.Table.from_pydict(columns["articles"], schema=ARTICLES_INDEX_SCHEMA)),
                        ("ledger", pa.Table.from_pydict(columns["ledger"], schema=LEDGER_SCHEMA)),
                        ("lines", pa.Table.from_pydict(columns["site_lines"], schema=LINES_SCHEMA))):
        pq.write_table(table, folder / f"{name}-old.parquet")
    (folder / "CURRENT").write_text("old")
    assert load_index(Store.open(str(tmp_path))).to_columns() == columns


def test_stories_table_rows_match_the_articles(tmp_path):
    index = stories.StoryIndex()
    found = index.assign(synthetic_docs(300), zipf=zipf_table)
    rows = {row["story_id"]: row for row in story_rows(index)}
    assert sum(row["n_articles"] for row in rows.values()) == len(index)
    near = [f for f in found if f.near_duplicate_of]
    assert near and sum(row["n_near_duplicates"] for row in rows.values()) == len(near)
    for story, row in rows.items():
        members = [f for f in found if f.story_id == story and f.exact_duplicate_of is None]
        assert row["n_articles"] == len(members)


def test_an_index_saved_before_the_package_split_loads_and_assigns_as_it_did(tmp_path):
    """An output made by older code keeps working: tests/goldens/stories/index_before_split holds the Parquet
    index that the code before transforms/stories became a package (commit e72699f) saved for
    synthetic_docs(600)[:400], and the assignments that code then gave the next 200 articles."""
    golden = GOLDENS / "index_before_split"
    shutil.copytree(golden / "state", tmp_path / "state")
    expected = json.loads((golden / "assignments.json").read_text(encoding="utf-8"))
    index = load_index(Store.open(str(tmp_path)))
    assert (len(index), index.story_count, len(index.ledger)) == (
        expected["articles"], expected["stories"], expected["ledger"])
    found = index.assign(synthetic_docs(600)[400:], zipf=zipf_table)
    assert [[f.doc_id, f.story_id, f.near_duplicate_of, f.exact_duplicate_of, f.similarity] for f in found] \
        == expected["next"]


def test_the_story_similarity_is_the_index_s_parameter(sample_rows):
    """The five sample articles tell one story at the default bar; at a bar no two outlets reach, five."""
    docs = [story_doc(row) for row in sample_rows]
    assert stories.StoryIndex().story_similarity == stories.STORY_SIMILARITY
    assert stories.StoryIndex().assign(docs, zipf=zipf_table)[-1].similarity >= stories.STORY_SIMILARITY
    strict = stories.StoryIndex(story_similarity=0.99)
    assert len({found.story_id for found in strict.assign(docs, zipf=zipf_table)}) == 5
