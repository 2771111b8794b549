"""The `aliases suggest` command (flows/aliases.py): CSV rows on stdout, the alias table untouched. What it
proposes is tested with transforms/aliases.py in tests/transforms/test_aliases.py."""
from __future__ import annotations

import csv
import hashlib
import io

from flows.aliases import COLUMNS, suggest_command
from transforms.names import AliasTable

from tests.cases import SEEDS


def _without(*fragments: str) -> AliasTable:
    """The seed table minus every row that mentions one of ``fragments``."""
    with (SEEDS / "aliases.csv").open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if not any(f in row["alias"] + row["canonical"] for f in fragments)]
    return AliasTable.from_rows(rows)


def test_command_prints_csv_rows_and_changes_nothing(capsys):
    before = hashlib.sha256((SEEDS / "aliases.csv").read_bytes()).hexdigest()
    out = io.StringIO()
    code = suggest_command([str(SEEDS / "articles")], aliases=_without("Zelensk", "Turk", "Türk"), out=out)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == COLUMNS
    assert {("Zelenskyy", "Zelensky"), ("Türkiye", "Turkey")} <= {(r["alias"], r["canonical"]) for r in rows}
    assert all(r["example"] and int(r["alias_mentions"]) > 0 for r in rows)
    assert "5 documents read" in capsys.readouterr().err
    assert hashlib.sha256((SEEDS / "aliases.csv").read_bytes()).hexdigest() == before


def test_command_respects_the_limit():
    out = io.StringIO()
    assert suggest_command([str(SEEDS / "articles")], aliases=AliasTable.from_rows([]), limit=1, out=out) == 0
    assert len(out.getvalue().splitlines()) == 2
