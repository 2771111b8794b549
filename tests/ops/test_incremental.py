"""Incremental runs: the ledger skips unchanged inputs, picks up new and changed ones; --full rebuilds."""
from __future__ import annotations

import os

import pyarrow.parquet as pq

from flows.clean_news import clean_news
from flows.ledger import Ledger
from flows.store import Store
from tests.conftest import read_table, write_corpus


def _ids(out) -> list[str]:
    return read_table(out).column("doc_id").to_pylist() + read_table(out, "quarantine").column("doc_id").to_pylist()


def test_rerun_skips_unchanged_and_processes_new_and_changed(prefect_harness, corpus):
    source, out = corpus
    first = clean_news(sources=[str(source)], out=str(out), batch_size=10, workers=1)
    assert first["read"] == 24 and first["written"] + first["quarantined"] == 24
    assert len(Ledger.load(Store.open(str(out)))) == 24
    assert len(list((out / "state" / "ledger").glob("*.parquet"))) == 1  # segments folded at the end

    again = clean_news(sources=[str(source)], out=str(out), workers=1)
    assert again["skipped_unchanged"] == 24 and again["read"] == 0 and again["written"] == 0
    # the runs index lists the idle run with its JSON summary (it has no HTML report), adding up
    index = (out / "reports" / "index.html").read_text(encoding="utf-8")
    row = index[index.index(f"run-{again['run_id']}."):].split("</tr>")[0]
    assert row.startswith(f"run-{again['run_id']}.json") and "class=ok" in row

    write_corpus(source, 3, start=100)  # new
    changed = source / "example-news" / "article-00001.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "A correction was appended.\n", encoding="utf-8")
    touched = source / "example-news" / "article-00002.txt"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))  # same bytes
    third = clean_news(sources=[str(source)], out=str(out), workers=1)
    assert third["read"] == 4 and third["unchanged_content"] == 1 and third["skipped_unchanged"] == 22
    ids = _ids(out)
    assert len(ids) == len(set(ids)) == 28

    fourth = clean_news(sources=[str(source)], out=str(out), workers=1)
    assert fourth["skipped_unchanged"] == 27 and fourth["read"] == 0


def test_full_rebuilds_the_dataset_in_place(prefect_harness, corpus):
    source, out = corpus
    clean_news(sources=[str(source)], out=str(out), workers=1)
    (source / "example-news" / "article-00003.txt").unlink()
    rebuilt = clean_news(sources=[str(source)], out=str(out), workers=1, full=True)
    assert rebuilt["read"] == 23 and rebuilt["skipped_unchanged"] == 0
    ids = _ids(out)
    assert len(ids) == len(set(ids)) == 23  # the old copies were replaced, the deleted input's row is gone
    run_ids = read_table(out).column("run_id").to_pylist() + read_table(out, "quarantine").column("run_id").to_pylist()
    assert set(run_ids) == {rebuilt["run_id"]}, rebuilt["quarantine_reasons"]
    assert not [p for p in out.iterdir() if p.name.startswith((".full-", ".old-"))]
    stories = pq.read_table(out / "stories" / "stories.parquet")  # rebuilt too, not the first run's
    assert sum(stories.column("n_articles").to_pylist()) == read_table(out).num_rows
    assert set(stories.column("story_id").to_pylist()) == set(read_table(out).column("story_id").to_pylist())
    assert clean_news(sources=[str(source)], out=str(out), workers=1)["skipped_unchanged"] == 23
