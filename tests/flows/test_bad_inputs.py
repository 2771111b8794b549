"""Bad input never crashes a run and is never lost: each ends in articles (repaired) or in quarantine with a reason.

One real clean-news run over the shared seeds plus a folder of every bad input in
tests/goldens/bad_inputs/cases.json; the small inputs are committed byte-exact, the big or odd ones
(50 MB, 1 MB line, 100,000-deep HTML, truncated gzip, symlink, unreadable file) are made here.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from tests.cases import ROOT, SHARED, golden, load_cases
from tests.flows.test_sources import deny_reading

GOLDENS = golden("bad_inputs")
CASES = load_cases("bad_inputs")
PROSE = (GOLDENS / "files" / "nul_bytes.txt").read_bytes().replace(b"\x00", b"")


def _truncated_gzip(path: Path) -> None:
    packed = gzip.compress(PROSE * 40)
    path.write_bytes(packed[: len(packed) // 2])


def _large_text(path: Path) -> None:
    # 50 MB of ordinary lines, written in chunks: bigger than any article, small enough to make quickly.
    chunk = PROSE * (1024 * 1024 // len(PROSE))
    with path.open("wb") as handle:
        while handle.tell() < 50 * 1024 * 1024:
            handle.write(chunk)


def _one_long_line(path: Path) -> None:
    line = PROSE.replace(b"\n", b" ")
    path.write_bytes((line * (1024 * 1024 // len(line) + 1))[: 1024 * 1024])


def _deep_html(path: Path) -> None:
    path.write_bytes(b"<html><body>" + b"<div>" * 100_000 + PROSE + b"</div>" * 100_000 + b"</body></html>")


def _symlink_outside(path: Path) -> None:
    outside = path.parent.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_bytes(b"This file lives outside the SOURCE folder and must never be read.\n" * 5)
    path.symlink_to(outside / "secret.txt")


def _unreadable(path: Path) -> None:
    path.write_bytes(PROSE)
    path.chmod(0)


GENERATORS = {"truncated_gzip": _truncated_gzip, "large_text": _large_text, "one_long_line": _one_long_line,
              "deep_html": _deep_html, "symlink_outside": _symlink_outside, "unreadable": _unreadable}


def build_bad_folder(folder: Path) -> Path:
    """The folder of bad inputs: committed files copied, the others generated."""
    folder.mkdir(parents=True)
    for case in CASES:
        name = case["file"].split("#")[0]
        target = folder / name
        if target.exists() or target.is_symlink():
            continue
        if case.get("generate"):
            GENERATORS[case["generate"]](target)
        else:
            target.write_bytes((GOLDENS / "files" / name).read_bytes())
    return folder


def _rows(out: Path, table: str) -> list[dict]:
    folder = out / table
    if not folder.is_dir():
        return []
    columns = ["source_uri", "doc_id", "body", "repairs"] if table == "articles" else ["source_uri", "doc_id", "reasons"]
    return ds.dataset(folder, format="parquet", partitioning="hive", ignore_prefixes=[".", "_"]).to_table(
        columns=columns).to_pylist()


@pytest.fixture(scope="module")
def bad_run(prefect_harness, tmp_path_factory):
    """One flow run over ../shared/seeds and the bad-input folder; returns (summary, {file: (table, row)})."""
    from flows.clean_news import clean_news

    base = tmp_path_factory.mktemp("bad-inputs")
    bad = build_bad_folder(base / "source")
    unreadable = bad / "unreadable.txt"
    # Tests run as root, and root reads a chmod 000 file anyway (CAP_DAC_OVERRIDE). So the kernel's
    # answer to a normal user is simulated here; test_sources.py checks the real one as user `nobody`.
    with pytest.MonkeyPatch.context() as patch:
        deny_reading(patch, unreadable)
        summary = clean_news(sources=[str(SHARED / "seeds"), str(bad)], out=str(base / "out"))
    placed: dict[str, list[tuple[str, dict]]] = {}
    for table in ("articles", "quarantine"):
        for row in _rows(base / "out", table):
            placed.setdefault(row["source_uri"], []).append((table, row))
    return summary, bad, placed


@pytest.mark.parametrize("case", CASES, ids=[c["label"] for c in CASES])
def test_bad_input_lands_where_expected(bad_run, case):
    _, bad, placed = bad_run
    uri = str(bad / case["file"])
    assert uri in placed, f"{case['label']}: {uri} is in neither articles nor quarantine"
    assert len(placed[uri]) == 1, f"{case['label']}: stored {len(placed[uri])} times"
    table, row = placed[uri][0]
    assert table == case["expect"], f"{case['label']}: went to {table} ({row.get('reasons')})"
    if table == "quarantine":
        assert case["reason"] in row["reasons"], f"{case['label']}: reasons {row['reasons']}"
        return
    for repair in case.get("repairs", []):
        assert repair in row["repairs"], f"{case['label']}: repairs {row['repairs']}"
    for snippet in case.get("contains", []):
        assert snippet in row["body"], f"{case['label']}: {snippet!r} missing from the body"
    for snippet in case.get("not_contains", []):
        assert snippet not in row["body"], f"{case['label']}: {snippet!r} left in the body"


def test_every_document_read_is_stored_once_and_counts_add_up(bad_run):
    summary, _, placed = bad_run
    assert summary["read"] == summary["written"] + summary["quarantined"] + summary["already_stored"]
    assert summary["already_stored"] == 0
    assert summary["read"] == sum(len(rows) for rows in placed.values()) == len(placed)
    assert summary["reconciliation"]["ok"]
    assert sum(summary["quarantine_reasons"].values()) >= summary["quarantined"]


def test_symlink_target_is_never_read(bad_run):
    _, bad, placed = bad_run
    assert not any("outside the SOURCE" in (row.get("body") or "") for rows in placed.values() for _, row in rows)


def test_report_counts_match_the_run(bad_run):
    summary, _, _ = bad_run
    page = Path(summary["reports"]["html"]).read_text(encoding="utf-8")
    assert "the counts add up" in page
    assert f"read {summary['read']:,} = written {summary['written']:,}" in page
    for reason in summary["quarantine_reasons"]:
        assert reason in page


def test_a_broken_seeds_table_is_named_before_the_flow_starts(tmp_path, capsys, monkeypatch):
    """A duplicate alias row: exit 2, the file, line and fix on stderr, before Prefect starts the flow (which
    would log a traceback of the failed flow run first)."""
    import shutil

    import flows.clean_news
    from flows.cli import main

    def flow_started(**_):
        raise AssertionError("the flow started despite the broken seeds table")

    monkeypatch.setattr(flows.clean_news, "clean_news", flow_started)

    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds, ignore=shutil.ignore_patterns("articles"))
    with (seeds / "aliases.csv").open("a", encoding="utf-8") as handle:
        handle.write("Türkiye,Turkey,country,a second row for the same alias\n")
    out = tmp_path / "out"
    assert main(["run", str(ROOT / "seeds" / "articles"), "--out", str(out), "--seeds", str(seeds)]) == 2
    error = capsys.readouterr().err
    assert "aliases.csv:" in error and "duplicate" in error and "Türkiye" in error
    assert not out.exists()
