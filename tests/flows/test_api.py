"""The Python API (`from newsclean import clean_text, clean_html, clean_documents`): the same records a run stores."""
from __future__ import annotations


import newsclean
from flows.store import ARTICLES_SCHEMA
from tests.conftest import SEED_ARTICLES, read_table


def test_clean_documents_gives_the_rows_a_run_stores(seeds_run):
    out, _ = seeds_run
    stored = {row["doc_id"]: row for row in read_table(out).to_pylist()}
    pages = sorted(SEED_ARTICLES.glob("*.txt"))
    records = newsclean.clean_documents([{"text": page.read_bytes().decode("utf-8"), "site": "articles"}
                                         for page in pages])
    assert len(records) == len(pages) == len(stored) and {r["doc_id"] for r in records} == set(stored)
    # Every field a run fills in before validation and the story index, value for value.
    before_validation = set(ARTICLES_SCHEMA.names) - {"source_uri", "ingested_at", "run_id", "warnings", "story_id",
                                                      "near_duplicate_of"}
    for record in records:
        row = stored[record["doc_id"]]
        assert {name: record[name] for name in before_validation} == \
               {name: row[name] for name in before_validation} | {"removed_share": record["removed_share"]}
        assert abs(record["removed_share"] - row["removed_share"]) < 1e-6  # float32 in the Parquet
        assert record["quarantine_reasons"] == [] and record["quarantine_stage"] is None


def test_a_record_has_the_articles_fields_and_fits_the_schema():
    record = newsclean.clean_text("Home | World\n\nThe council approved the new budget on Monday after a long debate.",
                                  site="example.com", url="https://example.com/budget", published="2026-11-20")
    assert set(ARTICLES_SCHEMA.names) <= set(record)
    assert str(record["published"]) == "2026-11-20" and record["url"] == "https://example.com/budget"
    import pyarrow as pa

    row = {name: record[name] for name in ARTICLES_SCHEMA.names} | {"run_id": "in-memory"}
    assert pa.Table.from_pylist([row], schema=ARTICLES_SCHEMA).num_rows == 1  # the record is an articles row


def test_bad_documents_get_reasons_not_exceptions():
    empty, no_text, text = newsclean.clean_documents(["", {"url": "https://example.com/x"}, "A short line of text."])
    assert empty["quarantine_reasons"] == ["empty"] and no_text["quarantine_reasons"] == ["no_text_field"]
    assert no_text["quarantine_stage"] == "read" and text["source_uri"] == "memory.jsonl#3"


def test_version_is_the_installed_one():
    from importlib.metadata import version

    assert newsclean.__version__ == version("newsclean")
