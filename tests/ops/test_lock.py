"""One run at a time per output: a second run exits with a clear message, or waits with --wait."""
from __future__ import annotations

import os
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


def _object_store():
    """A Store on a non-local filesystem (pyarrow's in-memory mock): its lock lives on this machine."""
    import pyarrow.fs as pafs

    return Store(pafs._MockFileSystem(), "bucket/news")


def test_an_object_store_lock_lives_in_a_private_folder(tmp_path, monkeypatch):
    import stat

    from flows.lock import lock_path

    monkeypatch.delenv("NEWSCLEAN_LOCK_DIR", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    (tmp_path / "run").mkdir()
    path = lock_path(_object_store())
    folder = os.path.dirname(path)
    assert folder == str(tmp_path / "run" / "newsclean-locks")  # not the shared temporary folder
    info = os.lstat(folder)
    assert stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) == 0o700
    with OutputLock(_object_store()):
        assert os.path.isfile(path)


def test_a_lock_folder_of_another_user_or_a_link_is_refused(tmp_path, monkeypatch):
    LockError = ValueError  # flows.lock.LockError is one
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link").symlink_to(elsewhere)
    monkeypatch.setenv("NEWSCLEAN_LOCK_DIR", str(tmp_path / "link"))
    with pytest.raises(LockError, match="not a folder"):
        OutputLock(_object_store())
    if os.geteuid() == 0:
        theirs = tmp_path / "theirs"
        theirs.mkdir(mode=0o777)
        os.chown(theirs, 12345, 12345)
        monkeypatch.setenv("NEWSCLEAN_LOCK_DIR", str(theirs))
        with pytest.raises(LockError, match="another user"):
            OutputLock(_object_store())


def test_a_planted_symlink_lock_file_is_not_followed(tmp_path):
    LockError = ValueError  # flows.lock.LockError is one
    victim = tmp_path / "victim.conf"
    victim.write_text("precious\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".newsclean.lock").symlink_to(victim)
    with pytest.raises(LockError, match="symbolic link"):
        with OutputLock(Store.open(str(out))):
            pass
    assert victim.read_text() == "precious\n"


def test_report_waits_for_no_one_it_takes_the_lock(seeds_run, capsys):
    out, _ = seeds_run
    with OutputLock(Store.open(str(out))):
        assert main(["report", str(out)]) == EXIT_LOCKED
    assert "in use by another newsclean run" in capsys.readouterr().err
