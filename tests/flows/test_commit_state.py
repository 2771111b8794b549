"""The commit record and the folded state, without a flow: what a kill at each step leaves, and that the next
load or recovery counts every committed change exactly once."""
from __future__ import annotations

import json
from collections import Counter

import pyarrow as pa
import pytest

from flows.state import SITE_LINES_DIR, SiteLineCounts
from flows.store import COMMITS_DIR, Store, commit_record_path, pending_path, recover
from flows.stories import StorySession, load_index
from tests.transforms.test_stories_index import OUTLETS, SEED_ARTICLES, rows_for


class Killed(Exception):
    pass


def _kill_at(monkeypatch, module, point: str) -> None:
    """Make ``module.crash_point(point)`` raise Killed (what SIGKILL would stop there)."""
    def crash(name, batch=None):
        if name == point:
            raise Killed(name)
    monkeypatch.setattr(module, "crash_point", crash)


def test_a_recorded_commit_is_finished_and_an_unrecorded_one_dropped(tmp_path, monkeypatch):
    import flows.store

    store = Store.open(str(tmp_path))
    table = pa.table({"doc_id": ["a", "b"]})
    final = store.path("articles", "dt=2026-12-07", "part-r-00000.parquet")
    _kill_at(monkeypatch, flows.store, "after-commit-record")
    commit = store.begin("r-00000")
    commit.add(table, final)
    commit.add(b"{}", store.path("state", "x.json"))
    with pytest.raises(Killed):
        commit.publish()
    assert not (tmp_path / "articles" / "dt=2026-12-07" / "part-r-00000.parquet").exists()  # not visible yet
    assert json.loads((tmp_path / "state" / "commits" / "r-00000.json").read_text())["files"][0].startswith("articles/")
    unrecorded = store.begin("r-00001")
    unrecorded.add(table, store.path("articles", "dt=2026-12-07", "part-r-00001.parquet"))

    actions = recover(store)
    assert (tmp_path / "articles" / "dt=2026-12-07" / "part-r-00000.parquet").exists()
    assert (tmp_path / "state" / "x.json").read_bytes() == b"{}"
    assert not (tmp_path / "articles" / "dt=2026-12-07" / "part-r-00001.parquet").exists()
    assert not list(tmp_path.rglob("*.pending")) and not list((tmp_path / "state" / "commits").iterdir())
    assert actions == ["finished commit r-00000", "removed 1 unfinished files of an interrupted run"]
    assert store.table("articles").num_rows == 2
    assert pending_path(final).endswith("/.part-r-00000.parquet.pending")
    assert commit_record_path(store, "x").endswith("/".join(COMMITS_DIR) + "/x.json")


def _commit_stories(session: StorySession, store: Store, rows, commit_id: str) -> None:
    session.assign(rows)
    commit = store.begin(commit_id)
    session.stage(commit)
    commit.publish()
    session.committed(commit)


def test_story_deltas_a_killed_fold_left_never_count_twice(tmp_path, monkeypatch, sample_rows):
    import flows.stories

    store = Store.open(str(tmp_path))
    session = StorySession(store)
    _commit_stories(session, store, sample_rows[:2], "r1-00000")
    assert len(load_index(store)) == 2  # committed as a delta, before any save
    _kill_at(monkeypatch, flows.stories, "after-story-save")
    with pytest.raises(Killed):
        session.finish()  # the new generation is current; the folded delta is still on disk
    monkeypatch.undo()
    assert sorted(load_index(store).doc_ids) == sorted(row["doc_id"] for row in sample_rows[:2])

    session = StorySession(store)  # the next run
    _commit_stories(session, store, sample_rows[2:], "r2-00000")
    session.finish()
    index = load_index(store)
    assert sorted(index.doc_ids) == sorted(row["doc_id"] for row in sample_rows)
    assert not list((tmp_path / "state" / "stories").glob("delta-*"))


def test_site_line_deltas_a_killed_fold_left_never_count_twice(tmp_path, monkeypatch):
    import flows.state

    store = Store.open(str(tmp_path))
    counts = SiteLineCounts.load(store)
    for number in range(2):
        commit = store.begin(f"r1-{number:05d}")
        added = {"a.example": Counter({"": 1, "menu": 1})}
        counts.add("a.example", added["a.example"])
        counts.committed(commit, counts.stage(commit, added))
        commit.publish()
    assert SiteLineCounts.load(store).documents("a.example") == 2
    _kill_at(monkeypatch, flows.state, "mid-site-lines-save")
    with pytest.raises(Killed):
        counts.save(store)
    monkeypatch.undo()
    assert SiteLineCounts.load(store).documents("a.example") == 2

    again = SiteLineCounts.load(store)  # the next run adds one commit and folds
    commit = store.begin("r2-00000")
    again.add("a.example", {"": 1})
    again.committed(commit, again.stage(commit, {"a.example": {"": 1}}))
    commit.publish()
    again.save(store)
    assert SiteLineCounts.load(store).documents("a.example") == 3
    assert [p.name for p in (tmp_path / "/".join(SITE_LINES_DIR)).iterdir()] == ["base.json"]


def test_settle_folds_site_line_deltas_and_leaves_the_base_unread_without_any(tmp_path):
    from flows.state import BASE_FILE, settle

    store = Store.open(str(tmp_path))
    counts = SiteLineCounts.load(store)
    commit = store.begin("r1-00000")
    counts.committed(commit, counts.stage(commit, {"a.example": Counter({"": 1, "menu": 1})}))
    commit.publish()  # a run killed after this commit: its delta waits to be folded
    assert settle(store) is True
    assert [p.name for p in (tmp_path / "/".join(SITE_LINES_DIR)).iterdir()] == [BASE_FILE]
    assert SiteLineCounts.load(store).documents("a.example") == 1
    # Nothing to fold: a rerun with nothing new does not parse the base (tens of MB at a few hundred sites).
    (tmp_path / "/".join(SITE_LINES_DIR) / BASE_FILE).write_text("not JSON: must not be read")
    assert settle(store) is False


@pytest.fixture(scope="module")
def sample_rows():
    from flows.seeds import load_references

    return rows_for([(path.read_bytes(), site) for path, site in zip(SEED_ARTICLES, OUTLETS)], load_references())
