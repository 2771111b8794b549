"""The seeds loader on tables saved by spreadsheets: a UTF-8 byte order mark, Latin-1, risky aliases."""
from __future__ import annotations

import shutil

import pytest

from flows.seeds import SeedError, load_references, seed_warnings
from tests.conftest import ROOT


@pytest.fixture
def seeds(tmp_path):
    folder = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", folder, ignore=shutil.ignore_patterns("articles"))
    return folder


def test_a_table_saved_with_a_byte_order_mark_reads_like_the_original(seeds):
    table = seeds / "aliases.csv"
    table.write_bytes(b"\xef\xbb\xbf" + table.read_bytes())
    assert load_references(seeds).aliases.rows == load_references(ROOT / "seeds").aliases.rows


def test_a_latin1_table_is_named_with_its_line_and_the_fix(seeds):
    table = seeds / "aliases.csv"
    lines = table.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.append("Zelenski,Zelensky,person,Polish spelling: caf\u00e9\n")
    table.write_bytes("".join(lines).encode("latin-1", errors="replace"))
    with pytest.raises(SeedError) as raised:
        load_references(seeds)
    message = str(raised.value)
    first_bad = next(number for number, line in enumerate(lines, start=1) if not line.isascii())
    assert f"aliases.csv:{first_bad}: not UTF-8" in message
    assert "iconv -f cp1252 -t utf-8" in message and "CSV UTF-8" in message


def test_one_letter_and_common_word_aliases_are_warned_about(seeds):
    table = seeds / "aliases.csv"
    last = len(table.read_text(encoding="utf-8").splitlines())
    with table.open("a", encoding="utf-8") as handle:
        handle.write("A,Austria,country,a one-letter alias\nMay,Theresa May,person,a month and a verb\n")
    warnings = seed_warnings(seeds)
    assert [message.split(" is ")[0] for message in warnings] == [f"{table}:{last + 1}: 'A'", f"{table}:{last + 2}: 'May'"]
    assert seed_warnings(ROOT / "seeds") == ()  # the project's own table has none


def test_the_cli_prints_seed_warnings_before_running(seeds, capsys, monkeypatch, tmp_path):
    import flows.clean_news
    from flows.cli import main

    with (seeds / "aliases.csv").open("a", encoding="utf-8") as handle:
        handle.write("May,Theresa May,person,a month and a verb\n")

    def flow_stub(**_):
        raise SystemExit(9)  # stop before Prefect: only what the CLI printed first matters here

    monkeypatch.setattr(flows.clean_news, "clean_news", flow_stub)
    with pytest.raises(SystemExit):
        main(["run", str(ROOT / "seeds" / "articles"), "--out", str(tmp_path / "out"), "--seeds", str(seeds)])
    error = capsys.readouterr().err
    assert "newsclean: warning: " in error and "'May' is also a common English word" in error
