"""One run at a time per output: a second run exits with a clear message, or waits with --wait."""
from __future__ import annotations

import threading

import pytest

from flows.cli import EXIT_LOCKED, main
from flows.clean_news import clean_news
from flows.lock import OutputLock, OutputLocked
from flows.store import Store
from tests.conftest import read_table


def test_second_run_on_the_same_output_exits_with_a_message(prefect_harness, corpus, capsys):
    source, out = corpus
    with OutputLock(Store.open(str(out))):
        with pytest.raises(OutputLocked, match="in use by another newsclean run .*pid"):
            clean_news(sources=[str(source)], out=str(out), workers=1)
        assert main(["run", str(source), "--out", str(out), "--workers", "1"]) == EXIT_LOCKED
    assert "--wait" in capsys.readouterr().err
    assert not (out / "articles").exists()  # nothing was written while locked


def test_a_busy_output_is_named_before_the_flow_starts(corpus, capsys, monkeypatch):
    import flows.clean_news

    def flow_started(**_):
        raise AssertionError("the flow started although the output is locked")

    monkeypatch.setattr(flows.clean_news, "clean_news", flow_started)
    source, out = corpus
    with OutputLock(Store.open(str(out))):
        assert main(["run", str(source), "--out", str(out)]) == EXIT_LOCKED
    assert "in use by another newsclean run" in capsys.readouterr().err


def test_wait_queues_behind_the_running_one(prefect_harness, corpus):
    source, out = corpus
    lock = OutputLock(Store.open(str(out))).__enter__()
    threading.Timer(1.0, lock.__exit__, args=(None, None, None)).start()
    summary = clean_news(sources=[str(source)], out=str(out), workers=1, wait=120)
    assert summary["written"] + summary["quarantined"] == 24
    assert read_table(out).num_rows == summary["written"]
