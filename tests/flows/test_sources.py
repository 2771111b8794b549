"""Finding and reading inputs: nothing raises, every problem becomes a document with a read_error."""
from __future__ import annotations

import gzip
import json
import os
import tempfile
from pathlib import Path

import pytest

from flows.sources import discover, format_of, read_input, read_sources

PROSE = b"Residents gathered on Thursday to hear how the new flood barrier will be paid for.\n"


def _docs(folder: Path) -> dict[str, object]:
    return {Path(doc.source_uri.split("#")[0]).name + ("#" + doc.source_uri.split("#")[1] if "#" in doc.source_uri else ""): doc
            for doc in read_sources([folder])}


def deny_reading(monkeypatch, *paths: Path) -> None:
    """The kernel's answer to a normal user opening a chmod 000 file, for ``paths`` (tests run as root, which
    reads anything; test_permission_denied_for_real_as_user_nobody checks the real one)."""
    denied, real_open = {str(path) for path in paths}, os.open

    def guarded_open(path, flags, *args, **kwargs):
        if not isinstance(path, int) and os.fsdecode(path) in denied:
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)


def test_symlink_outside_source_is_listed_not_followed(tmp_path):
    source, outside = tmp_path / "source", tmp_path / "outside"
    source.mkdir(), outside.mkdir()
    (outside / "secret.txt").write_bytes(b"outside")
    (outside / "folder").mkdir()
    (outside / "folder" / "inner.txt").write_bytes(b"outside too")
    (source / "link.txt").symlink_to(outside / "secret.txt")
    (source / "linked_folder").symlink_to(outside / "folder")
    (source / "inside.txt").write_bytes(PROSE)
    (source / "alias.txt").symlink_to(source / "inside.txt")  # a link inside the source is fine
    docs = _docs(source)
    assert docs["link.txt"].read_error == "symlink_outside_source" and docs["link.txt"].raw == b""
    assert docs["linked_folder"].read_error == "symlink_outside_source"
    assert docs["alias.txt"].raw == PROSE and docs["inside.txt"].raw == PROSE
    assert "inner.txt" not in docs
    assert docs["link.txt"].doc_id != docs["linked_folder"].doc_id  # two problems, two documents


def test_truncated_gzip_and_broken_jsonl_lines(tmp_path):
    packed = gzip.compress(PROSE * 100)
    (tmp_path / "cut.txt.gz").write_bytes(packed[: len(packed) // 2])
    (tmp_path / "fine.txt.gz").write_bytes(gzip.compress(PROSE))
    (tmp_path / "mixed.jsonl").write_text(
        json.dumps({"text": "good one"}) + "\n{broken\n\n[1, 2]\n" + json.dumps({"title": "no text"}) + "\n"
        + json.dumps({"html": "<p>good two</p>", "url": "https://x.example/a"}) + "\n", encoding="utf-8")
    docs = _docs(tmp_path)
    assert docs["cut.txt.gz"].read_error == "truncated_gzip"
    assert docs["fine.txt.gz"].raw == PROSE and docs["fine.txt.gz"].read_error is None
    assert docs["mixed.jsonl#1"].raw == b"good one"
    assert docs["mixed.jsonl#2"].read_error == "bad_json_line" and docs["mixed.jsonl#2"].raw == b"{broken"
    assert docs["mixed.jsonl#4"].read_error == "bad_json_line"  # valid JSON, not an object
    assert docs["mixed.jsonl#5"].read_error == "no_text_field"
    assert docs["mixed.jsonl#6"].format_hint == "html" and docs["mixed.jsonl#6"].url == "https://x.example/a"
    assert len(docs) == 7  # the blank line 3 is not a document


def test_unknown_extensions_are_skipped_in_folders_but_taken_when_named(tmp_path):
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "page.HTML.gz").write_bytes(gzip.compress(b"<html></html>"))
    assert [item.path.name for item in discover([tmp_path])] == ["page.HTML.gz"]
    assert [item.path.name for item in discover([tmp_path / "photo.png"])] == ["photo.png"]
    assert format_of(Path("x.jsonl.gz")) == "jsonl"


def test_permission_denied_simulated_for_root(tmp_path, monkeypatch):
    path = tmp_path / "locked.txt"
    path.write_bytes(PROSE)
    deny_reading(monkeypatch, path)
    [doc] = read_input(discover([tmp_path])[0])
    assert doc.read_error == "unreadable: permission denied" and doc.raw == b""


def as_user_nobody(work):
    """``work()``'s JSON-able result, run in a forked child that dropped to user `nobody` (tests run as root, to
    whom the kernel refuses nothing); the child's exception comes back as its repr."""
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            os.setgid(65534)
            os.setuid(65534)
            os.write(writer, json.dumps(work()).encode())
        except BaseException as error:
            os.write(writer, json.dumps(repr(error)).encode())
        finally:
            os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    with os.fdopen(reader, "rb") as answer:
        return json.loads(answer.read().decode())


@pytest.mark.skipif(not hasattr(os, "fork") or os.geteuid() != 0, reason="needs root to become user nobody")
def test_permission_denied_for_real_as_user_nobody():
    """The kernel's own EACCES: a forked child drops to `nobody` and reads a chmod 000 file (root would read it)."""
    folder = Path(tempfile.mkdtemp(prefix="newsclean-perm-"))
    folder.chmod(0o755)
    locked = folder / "locked.txt"
    locked.write_bytes(PROSE)
    locked.chmod(0)
    item = discover([folder])[0]  # stat needs no read permission
    answer = as_user_nobody(lambda: read_input(item).__next__().read_error or "read")
    locked.unlink()
    folder.rmdir()
    assert answer == "unreadable: permission denied"
