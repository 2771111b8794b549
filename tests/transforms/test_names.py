"""Name normalization: golden cases, the negative file, the sample articles' counts, and the table's rules."""
from __future__ import annotations

import ast
import csv
import pickle
import re

import pytest

from transforms.names import ALIAS_FILES, AliasTable, normalize_names

from tests.cases import ROOT, SEEDS, golden, load_cases

GOLDENS = golden("names")
ARTICLES = sorted((SEEDS / "articles").glob("*.txt"))


def _seed_rows() -> list[dict[str, str]]:
    with (SEEDS / "aliases.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _table(rows: list[dict[str, str]] | None = None) -> AliasTable:
    return AliasTable.from_tables({"aliases.csv": _seed_rows() if rows is None else rows})


TABLE = _table()


def _cases() -> list:
    """Golden cases as pytest params; ``"expect": "fail"`` marks a known failure (strict xfail)."""
    cases = load_cases("names")
    return [pytest.param(case, id=case["label"],
                         marks=[pytest.mark.xfail(strict=True, reason=case["comment"])]
                         if case.get("expect", "pass") == "fail" else [])
            for case in cases]


def _negative_lines() -> list[str]:
    lines = (GOLDENS / "negative.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def _mentions(result) -> dict[str, int]:
    return {entity.name: entity.mentions for entity in result.entities}


@pytest.mark.parametrize("case", _cases())
def test_golden_case(case):
    result = normalize_names(case["input"], aliases=TABLE)
    assert result.text == case["expected"]
    assert _mentions(result) == case["entities"]


@pytest.mark.parametrize("line", _negative_lines())
def test_negative_text_is_unchanged_and_names_nothing(line):
    result = normalize_names(line, aliases=TABLE)
    assert result.text == line
    assert result.entities == ()
    assert result.rewrites == ()


def test_sample_articles_count_every_spelling_once_per_mention():
    with (GOLDENS / "sample_counts.csv").open(newline="", encoding="utf-8") as handle:
        expected = list(csv.DictReader(handle))
    texts = {path.name: path.read_text(encoding="utf-8") for path in ARTICLES}
    assert {row["article"] for row in expected} == set(texts)
    for row in expected:
        got = _mentions(normalize_names(texts[row["article"]], aliases=TABLE)).get(row["entity"], 0)
        assert got == int(row["mentions"]), (row["article"], row["entity"], row["spellings"])


def test_normalizing_twice_equals_once():
    texts = [path.read_text(encoding="utf-8") for path in ARTICLES]
    texts += [c.values[0]["input"] for c in _cases()] + _negative_lines()
    for text in texts:
        once = normalize_names(text, aliases=TABLE)
        twice = normalize_names(once.text, aliases=TABLE)
        assert twice.text == once.text
        assert twice.entities == once.entities
        assert twice.rewrites == ()


def test_every_canonical_and_every_written_form_maps_to_itself():
    for spelling, entity, kind in TABLE.spellings():
        written = normalize_names(spelling, aliases=TABLE).text
        result = normalize_names(written, aliases=TABLE)
        assert result.text == written, spelling
        if kind != "ignore":
            assert _mentions(result) == {entity: 1}, spelling
    entities = {entity for _, entity, kind in TABLE.spellings() if kind != "ignore"}
    for entity in entities:
        assert normalize_names(entity, aliases=TABLE).text == entity


def test_default_canonicals_are_plain_english():
    for name in ("Turkey", "Erdogan", "Zelensky", "Kyiv", "UK", "US", "NATO", "Istanbul"):
        assert TABLE.entity_of(name)[0] == name


def test_swapping_one_row_makes_turkiye_the_canonical():
    rows = [
        {**row, "alias": "Turkey", "canonical": "Türkiye"} if row["alias"] == "Türkiye" else row
        for row in _seed_rows()
    ]
    changed = sum(a != b for a, b in zip(rows, _seed_rows()))
    assert changed == 1
    text = (SEEDS / "articles" / "002_347296a88aaad4ca.txt").read_text(encoding="utf-8")
    before = normalize_names(text, aliases=TABLE)
    after = normalize_names(text, aliases=_table(rows))
    assert after.text != before.text
    assert _mentions(before)["Turkey"] == _mentions(after)["Türkiye"] == 9
    assert "Turkey" not in _mentions(after)
    assert "Turkiye" not in after.text and "Turkey" not in after.text.replace("Turkish", "")


def test_a_full_name_row_keeps_the_full_name_and_counts_the_surname():
    table = AliasTable.from_rows([
        {"alias": "Sergei Lavrov", "canonical": "Sergey Lavrov", "kind": "person"},
        {"alias": "Sergey Lavrov", "canonical": "Lavrov", "kind": "person"},
    ])
    result = normalize_names("Sergei Lavrov met Lavrov's deputy.", aliases=table)
    assert result.text == "Sergey Lavrov met Lavrov's deputy."
    assert _mentions(result) == {"Lavrov": 2}
    assert result.rewrites == (("Sergei Lavrov", "Sergey Lavrov", 1),)


def test_the_table_is_read_from_the_alias_files():
    assert ALIAS_FILES == ("aliases.csv",)
    assert AliasTable.from_tables({"aliases.csv": []}).automaton is None
    assert normalize_names("Türkiye", aliases=AliasTable.from_rows([])).text == "Türkiye"


@pytest.mark.parametrize("rows, message", [
    ([("Turkey", "Türkiye", "country"), ("Türkiye", "Turkey", "country")],
     "aliases.csv:2, aliases.csv:3: the rows link in a circle"),
    ([("Kiev", "Kyiv", "place"), ("Kyiv", "Kyiv", "city")], "aliases.csv:3: kind 'city'"),
    ([("Kiev", "Kyiv", "place"), ("Kyiv", "Kyiv", "country")], "entity 'Kyiv' has more than one kind"),
    ([("Erdoğan", "Erdogan", "person"), ("Erdog\u0306an", "Erdogan", "person")],
     "aliases.csv:3: alias 'Erdoğan' is already on aliases.csv:2"),
    ([("", "Erdogan", "person")], "aliases.csv:2: `alias` and `canonical`"),
])
def test_bad_tables_are_rejected_naming_the_row(rows, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        AliasTable.from_rows([{"alias": a, "canonical": c, "kind": k} for a, c, k in rows])


def test_variants_are_the_spellings_that_must_not_remain():
    variants = set(TABLE.variants())
    assert {"Türkiye", "Turkiye", "Erdoğan", "Zelenskyy", "U.K.", "Nato", "Sergei Lavrov"} <= variants
    assert not {"Turkey", "Erdogan", "UK", "NATO", "Sergey Lavrov"} & variants
    # a protected phrase keeps these, so finding them in body_normalized is not an error
    assert not {"Kiev", "Britain"} & variants


def test_table_pickles_as_its_rows():
    copy = pickle.loads(pickle.dumps(TABLE))
    assert copy == TABLE
    assert normalize_names("Zelenskyy", aliases=copy).text == "Zelensky"


def test_transforms_stay_pure():
    forbidden = {"prefect", "great_expectations", "pyarrow", "pandas", "duckdb", "polars", "os", "pathlib", "requests"}
    for module in ("names.py", "aliases.py"):
        tree = ast.parse((ROOT / "transforms" / module).read_text(encoding="utf-8"))
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module}
        assert not imported & forbidden, module
