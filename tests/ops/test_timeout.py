"""Per-document limits: a page that hangs the extractor is quarantined as `timeout`, a huge one as
`too_large`, and the run finishes."""
from __future__ import annotations

import time

from flows.clean_news import clean_news
from flows.workers import PRELOAD_ENV, Failure, WorkerPool
from tests.conftest import read_table

HANG_MARK = "PLEASE-HANG-HERE"


def install_hanging_extractor() -> None:
    """Runs inside each worker (NEWSCLEAN_WORKER_PRELOAD): extraction of a marked page never returns."""
    import transforms.pipeline as pipeline

    real = pipeline.extract_html

    def extract(html, *args, **kwargs):
        if HANG_MARK in html:
            while True:
                time.sleep(1)
        return real(html, *args, **kwargs)

    pipeline.extract_html = extract


def _page(title: str, body: str) -> str:
    paragraphs = "".join(f"<p>{body} Sentence {i} of the story goes on for a while here.</p>" for i in range(12))
    return f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{paragraphs}</article></body></html>"


def test_hanging_and_huge_pages_are_quarantined_and_the_run_finishes(prefect_harness, tmp_path, monkeypatch):
    monkeypatch.setenv(PRELOAD_ENV, f"{__name__}:install_hanging_extractor")
    source, out = tmp_path / "in" / "site", tmp_path / "out"
    source.mkdir(parents=True)
    (source / "a-fine.html").write_text(_page("Fine page", "The council approved the budget."), encoding="utf-8")
    (source / "b-hang.html").write_text(_page("Hanging page", HANG_MARK), encoding="utf-8")
    (source / "c-huge.html").write_text(_page("Huge page", "word " * 60_000), encoding="utf-8")
    (source / "d-fine.html").write_text(_page("Another page", "The mayor opened the new bridge."), encoding="utf-8")
    started = time.monotonic()
    summary = clean_news(sources=[str(source.parent)], out=str(out), workers=1, doc_timeout=3,
                         max_document_bytes=200_000)
    assert time.monotonic() - started < 120
    assert summary["written"] == 2
    quarantine = {row["source_uri"].rsplit("/", 1)[1]: row for row in read_table(out, "quarantine").to_pylist()}
    assert quarantine["b-hang.html"]["reasons"] == ["timeout"] and quarantine["b-hang.html"]["stage"] == "clean"
    assert quarantine["c-huge.html"]["reasons"] == ["too_large"]
    assert quarantine["b-hang.html"]["raw"].startswith(b"<html>")  # the original bytes, for a retry


def test_pool_replaces_a_stuck_worker_and_keeps_order(monkeypatch):
    monkeypatch.setenv(PRELOAD_ENV, f"{__name__}:install_hanging_extractor")
    from transforms.records import RawDocument

    docs = [RawDocument(source_uri=f"d{i}", raw=_page(f"T{i}", HANG_MARK if i == 2 else f"Story {i}.").encode(),
                        format_hint="html") for i in range(5)]
    from flows.seeds import load_references

    pool = WorkerPool(2, refs=load_references(), timeout=5)
    try:
        results = [r if isinstance(r, Failure) else r[0] for r in pool.map("process", docs, {})]
    finally:
        pool.close()
    assert [r.reason if isinstance(r, Failure) else None for r in results] == [None, None, "timeout", None, None]
    assert results[2].reason == "timeout" and pool.restarts == 1
    assert [r.source_uri for r in results if not isinstance(r, Failure)] == ["d0", "d1", "d3", "d4"]
