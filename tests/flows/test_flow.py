"""A real clean-news flow run under Prefect, read back with DuckDB, Polars and pandas."""
from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import polars as pl

from flows.clean_news import clean_news
from tests.conftest import SEED_ARTICLES

FORBIDDEN_IN_BODY = ("JOIN US ON TELEGRAM", "Advertisement", "Read Next", "min read", "Show More", "See all", "Avatar")


def _articles_glob(out) -> str:
    return f"{out}/articles/**/*.parquet"


def test_seeds_run_writes_five_clean_articles(seeds_run):
    out, summary = seeds_run
    assert summary["read"] == 5 and summary["written"] == 5 and summary["quarantined"] == 0
    rows = duckdb.sql(
        f"select body, body_normalized from read_parquet('{_articles_glob(out)}', hive_partitioning=true)"
    ).fetchall()
    assert len(rows) == 5
    strippers = duckdb.sql(f"select distinct stripper from read_parquet('{_articles_glob(out)}')").fetchall()
    assert strippers == [("rules",)]  # the default plain-text stripper, recorded per article
    for body, normalized in rows:
        for phrase in FORBIDDEN_IN_BODY:
            assert phrase not in body, phrase
        assert "Türkiye" not in normalized and "Erdoğan" not in normalized


def test_output_reads_in_duckdb_polars_and_pandas(seeds_run):
    out, _ = seeds_run
    con = duckdb.connect()
    described = con.sql(f"describe select * from read_parquet('{_articles_glob(out)}', hive_partitioning=true)")
    types = {row[0]: row[1] for row in described.fetchall()}
    assert types["dt"] == "DATE" and types["published"] == "DATE"
    assert types["entities"].startswith("STRUCT(") and types["authors"] == "VARCHAR[]"
    frame = pl.read_parquet(_articles_glob(out), hive_partitioning=True)
    assert frame.height == 5 and frame["doc_id"].n_unique() == 5
    entities = frame.explode("entities").unnest("entities")
    assert entities.filter(pl.col("name") == "Turkey")["mentions"].sum() > 0
    assert len(pd.read_parquet(f"{out}/articles")) == 5


def test_second_run_adds_no_rows(seeds_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(seeds_run[0], out)  # other tests read the session's run as it was
    # (--full is covered by tests/ops/test_incremental.py; a run that writes here would add Prefect artifacts)
    second = clean_news(sources=[str(SEED_ARTICLES)], out=str(out))
    assert second["skipped_unchanged"] == 5 and second["read"] == 0 and second["written"] == 0
    count = duckdb.sql(f"select count(*) from read_parquet('{_articles_glob(out)}')").fetchall()[0][0]
    assert count == 5


def test_reports_exist(seeds_run):
    out, summary = seeds_run
    assert (out / "reports" / "data_docs" / "index.html").is_file()
    assert (out / "reports" / f"run-{summary['run_id']}.md").is_file()


def test_sample_articles_form_one_story(seeds_run):
    out, _ = seeds_run
    stories = duckdb.sql(f"select distinct story_id from read_parquet('{_articles_glob(out)}')").fetchall()
    assert len(stories) == 1 and stories[0][0]
    table = duckdb.sql(f"select story_id, n_articles, n_sites from read_parquet('{out}/stories/*.parquet')").fetchall()
    assert table == [(stories[0][0], 5, 1)]  # one folder, so one `site` for all five


def test_sample_articles_arriving_in_two_runs_join_one_story(prefect_harness, tmp_path):
    first, second = tmp_path / "monday" / "articles", tmp_path / "tuesday" / "articles"
    for folder, names in ((first, sorted(SEED_ARTICLES.iterdir())[:2]), (second, sorted(SEED_ARTICLES.iterdir())[2:])):
        folder.mkdir(parents=True)
        for path in names:
            (folder / path.name).write_bytes(path.read_bytes())
    out = tmp_path / "out"
    clean_news(sources=[str(first)], out=str(out))
    clean_news(sources=[str(second)], out=str(out))
    stories = duckdb.sql(f"select count(*), count(distinct story_id) from read_parquet('{_articles_glob(out)}')").fetchall()
    assert stories == [(5, 1)]


def test_an_exact_copy_adds_no_row_and_its_source_is_kept(prefect_harness, tmp_path):
    from flows.stories import load_index
    from flows.store import Store

    source = tmp_path / "in"
    source.mkdir()
    original = sorted(SEED_ARTICLES.iterdir())[4]
    (source / "a.txt").write_bytes(original.read_bytes())
    (source / "b.txt").write_bytes(original.read_bytes() + b"\n\n")  # other bytes, same body: a re-scrape
    out = tmp_path / "out"
    summary = clean_news(sources=[str(source)], out=str(out))
    assert (summary["read"], summary["written"], summary["exact_duplicates"]) == (2, 1, 1)
    assert summary["read"] == summary["written"] + summary["quarantined"] + summary["already_stored"]
    ledger = load_index(Store.open(str(out))).ledger
    assert [entry["source_uri"] for entry in ledger] == [str(source / "b.txt")]
