"""Hostile inputs: each once crashed, hung or blocked a run (issue 20); each now ends as one document with a
reason, the run going on.

The unit tests read each case through ``flows.sources`` (what the flow reads with); the last tests run the
real flow over every case of :mod:`tests.flows.hostile` in one output and check the invariant: every input path
accounted for exactly once, no duplicate ``doc_id``, the run exits normally, and a rerun does too.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from flows.invariants import check_output
from flows.sources import discover, read_input, read_sources
from tests.flows.hostile import PROSE, build_hostile_folder, gzip_bomb, sparse_file
from tests.flows.test_sources import as_user_nobody, deny_reading


@contextmanager
def deadline(seconds: int):
    """Fail instead of hanging (a FIFO opened for reading blocks until a writer comes)."""
    def expired(*_):
        raise TimeoutError(f"still reading after {seconds} s: the reader blocked")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _only(folder: Path):
    with deadline(20):
        docs = list(read_sources([folder]))
    assert len(docs) == 1, docs
    return docs[0]


def _jsonl(folder: Path, line: str):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "in.jsonl").write_text(line + "\n", encoding="ascii")
    return _only(folder)


def _text(tag: str) -> str:
    return json.dumps(f"A report about {tag}.\n\n" + PROSE.decode())


# --- per-document isolation -----------------------------------------------------------------------------


def test_a_url_that_does_not_parse_quarantines_its_line(tmp_path):
    doc = _jsonl(tmp_path, '{"text": %s, "url": "http://[::1/x"}' % _text("ipv6"))
    assert doc.read_error == "bad_url: Invalid IPv6 URL"
    assert b"[::1/x" in doc.raw  # the line itself is kept for the quarantine row


@pytest.mark.parametrize("field", ["site", "title", "url", "published", "text"])
def test_a_lone_surrogate_is_replaced_at_the_boundary(tmp_path, field):
    fields = {"text": _text("surrogates"), field: '"before \\ud800 after"'}
    if field == "text":
        fields["text"] = json.dumps("A report \ud800 about surrogates.\n\n" + PROSE.decode())
    doc = _jsonl(tmp_path, "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}")
    assert doc.read_error is None and "invalid_unicode" in doc.repairs
    value = doc.raw.decode("utf-8") if field == "text" else getattr(doc, field)
    assert "\ufffd" in value
    value.encode("utf-8")  # strict: what Parquet and the validator need


def test_a_json_line_nested_100000_deep_is_one_bad_line(tmp_path):
    (tmp_path / "deep.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n" + '{"text": %s}\n' % _text("deep"))
    first, second = read_sources([tmp_path])
    assert first.read_error == "bad_json_line: nested too deeply"
    assert second.read_error is None and second.source_uri.endswith("#2")


def test_a_file_name_that_is_not_utf8_is_read_under_an_escaped_name(tmp_path):
    with open(os.path.join(os.fsencode(tmp_path), b"caf\xe9.txt"), "wb") as handle:
        handle.write(PROSE)
    doc = _only(tmp_path)
    assert doc.source_uri == str(tmp_path / "caf\\xe9.txt") and doc.raw == PROSE
    assert "file_name_escaped" in doc.repairs
    doc.source_uri.encode("utf-8")


def test_a_fifo_is_quarantined_by_path_without_being_opened(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    doc = _only(tmp_path)
    assert doc.read_error == "not_a_regular_file: fifo" and doc.raw == b""


def test_a_fifo_named_as_the_source_is_quarantined_too(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    with deadline(20):
        [doc] = read_sources([tmp_path / "pipe.txt"])
    assert doc.read_error == "not_a_regular_file: fifo"


def test_a_file_swapped_for_a_fifo_after_the_walk_is_refused_on_open(tmp_path):
    path = tmp_path / "page.txt"
    path.write_bytes(PROSE)
    [item] = discover([tmp_path])
    path.unlink()
    os.mkfifo(path)
    with deadline(20):
        [doc] = read_input(item)
    assert doc.read_error == "not_a_regular_file: fifo"


def test_an_unreadable_folder_is_an_input_with_a_reason(tmp_path, monkeypatch):
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "inside.txt").write_bytes(PROSE)
    (tmp_path / "open.txt").write_bytes(PROSE)
    deny_listing(monkeypatch, tmp_path / "locked")
    items = {Path(item.location).name: item for item in discover([tmp_path])}
    assert set(items) == {"locked", "open.txt"}
    assert items["locked"].problem == "unreadable_folder: permission denied"


@pytest.mark.skipif(not hasattr(os, "fork") or os.geteuid() != 0, reason="needs root to become user nobody")
def test_an_unreadable_folder_for_real_as_user_nobody():
    folder = Path(tempfile.mkdtemp(prefix="newsclean-perm-"))  # pytest's tmp_path is closed to other users
    folder.chmod(0o755)
    (folder / "locked").mkdir()
    (folder / "locked" / "inside.txt").write_bytes(PROSE)
    (folder / "locked").chmod(0)
    found = as_user_nobody(lambda: [(item.location, item.problem) for item in discover([folder])])
    (folder / "locked").chmod(0o755)
    shutil.rmtree(folder)
    assert found == [[str(folder / "locked"), "unreadable_folder: permission denied"]]


def deny_listing(monkeypatch, *folders: Path) -> None:
    """The kernel's answer to a normal user listing a chmod 000 folder (root lists anything)."""
    denied, real_scandir = {str(folder) for folder in folders}, os.scandir

    def guarded_scandir(path="."):
        if not isinstance(path, int) and os.fsdecode(path) in denied:
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", guarded_scandir)


# --- bounded memory ---------------------------------------------------------------------------------------


def _peak_bytes_reading(path: Path, **options) -> tuple[int, list]:
    tracemalloc.start()
    try:
        docs = [(doc.read_error, len(doc.raw)) for doc in read_input(discover([path])[0], **options)]
        return tracemalloc.get_traced_memory()[1], docs
    finally:
        tracemalloc.stop()


def test_a_sparse_file_is_not_read_past_the_size_limit(tmp_path):
    sparse_file(tmp_path / "sparse.txt", 400 * 1024 * 1024)
    peak, docs = _peak_bytes_reading(tmp_path / "sparse.txt")
    assert docs == [("too_large", 1024 * 1024)]
    assert peak < 40 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB for a 16 MiB limit"


def test_a_gzip_bomb_is_not_decompressed_past_the_size_limit(tmp_path):
    expanded = gzip_bomb(tmp_path / "bomb.txt.gz", compressed_mb=0.4)
    assert expanded > 300 * 1024 * 1024
    peak, docs = _peak_bytes_reading(tmp_path / "bomb.txt.gz")
    assert docs == [("too_large", 1024 * 1024)]
    assert peak < 40 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB for a 16 MiB limit"


def test_max_doc_mb_is_honoured_above_and_below_16(tmp_path):
    (tmp_path / "big.txt").write_bytes(PROSE * (20 * 1024 * 1024 // len(PROSE)))
    [(error, size)] = _peak_bytes_reading(tmp_path / "big.txt", max_document_bytes=32 * 1024 * 1024)[1]
    assert error is None and size > 16 * 1024 * 1024
    [(error, _)] = _peak_bytes_reading(tmp_path / "big.txt", max_document_bytes=1024 * 1024)[1]
    assert error == "too_large"
    (tmp_path / "lines.jsonl").write_text('{"text": %s}\n' % json.dumps("word " * 300_000))  # a 1.5 MB line
    [(error, _)] = _peak_bytes_reading(tmp_path / "lines.jsonl", max_document_bytes=1024 * 1024)[1]
    assert error == "too_large"


def test_a_long_jsonl_is_read_in_bounded_batches(tmp_path):
    from flows.ledger import Ledger
    from flows.reading import BatchReader

    with (tmp_path / "many.jsonl").open("w") as handle:
        for number in range(2500):
            handle.write(json.dumps({"text": f"Line {number} of a long feed."}) + "\n")
    (tmp_path / "z.txt").write_bytes(PROSE)
    reader = BatchReader(discover([tmp_path]), Ledger(), max_docs=1000, max_bytes=1 << 30)
    batches = []
    while not reader.done:
        batch = reader.next_batch()
        batches.append((len(batch.docs), [Path(row.path).name for row in batch.ledger_rows]))
    # the .jsonl's ledger row goes with its last line; the text file after it fills the last batch
    assert batches == [(1000, []), (1000, []), (501, ["many.jsonl", "z.txt"])]


# --- the whole flow over every hostile input ---------------------------------------------------------------


def _table_rows(out: Path, table: str) -> list[dict]:
    folder = out / table
    if not folder.is_dir():
        return []
    columns = ["source_uri", "doc_id", "repairs"] + (["reasons"] if table == "quarantine" else [])
    return ds.dataset(folder, format="parquet", partitioning="hive", ignore_prefixes=[".", "_"]).to_table(
        columns=columns).to_pylist()


def placements(out: Path) -> dict[str, list[tuple[str, dict]]]:
    """source_uri -> the (table, row) pairs that hold it."""
    placed: dict[str, list[tuple[str, dict]]] = {}
    for table in ("articles", "quarantine"):
        for row in _table_rows(out, table):
            placed.setdefault(row["source_uri"], []).append((table, row))
    return placed


@pytest.fixture(scope="module")
def hostile_run(prefect_harness, tmp_path_factory):
    """Two real runs of the flow over every hostile input (the second finds nothing new)."""
    from flows.clean_news import clean_news

    base = tmp_path_factory.mktemp("hostile")
    source = base / "source"
    cases = build_hostile_folder(source)
    simulated = {case.simulate: Path(case.path) for case in cases if case.simulate}
    out = str(base / "out")
    with pytest.MonkeyPatch.context() as patch:  # the checker must see the files as the runs did
        deny_reading(patch, simulated["permission_denied"])
        deny_listing(patch, simulated["folder_denied"])
        with deadline(600):
            first = clean_news(sources=[str(source)], out=out)
            first["broken_invariants"] = check_output(out, [str(source)])
            second = clean_news(sources=[str(source)], out=out)
            second["broken_invariants"] = check_output(out, [str(source)])
    return cases, base / "out", first, second


def _display(path: str) -> str:
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


def test_every_hostile_input_is_accounted_for_exactly_once(hostile_run):
    """flows.invariants: every input in the ledger, each of its documents stored exactly once (articles,
    quarantine or an exact copy with its source), no doc_id twice, the story index and stories.parquet
    complete, no leftovers; and each case where it belongs, with its reason or repair."""
    cases, out, first, _ = hostile_run
    assert first["broken_invariants"] == []
    placed = placements(out)
    wrong = []
    for case in cases:
        rows = placed.get(_display(case.path), [])
        if len(rows) != 1:
            wrong.append(f"{case.label}: stored {len(rows)} times")
            continue
        table, row = rows[0]
        if table != case.expect:
            wrong.append(f"{case.label}: in {table} ({row.get('reasons')})")
        elif case.reason and not any(reason.startswith(case.reason) for reason in row["reasons"]):
            wrong.append(f"{case.label}: reasons {row['reasons']}, expected {case.reason}")
        elif case.repair and case.repair not in row["repairs"]:
            wrong.append(f"{case.label}: repairs {row['repairs']}, expected {case.repair}")
    assert not wrong, "\n".join(wrong)
    assert first["read"] == first["written"] + first["quarantined"] + first["already_stored"]
    assert first["reconciliation"]["ok"]


def test_a_rerun_over_the_hostile_inputs_succeeds_and_adds_nothing(hostile_run):
    _, _, first, second = hostile_run
    assert second["broken_invariants"] == []
    assert second["written"] == 0 and second["quarantined"] == 0
    assert second["skipped_unchanged"] == first["files"] == second["files"]
