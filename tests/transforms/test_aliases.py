"""Finding name variants in a corpus (transforms/aliases.py): what `aliases suggest` proposes."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from transforms.aliases import compare, consonants, derived_pair, find_names, fold_diacritics, skeleton, suggest_aliases
from transforms.names import AliasTable

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
ARTICLES = sorted((SEEDS / "articles").glob("*.txt"))


def _seed_rows() -> list[dict[str, str]]:
    with (SEEDS / "aliases.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _without(*fragments: str) -> AliasTable:
    """The seed table minus every row that mentions one of ``fragments``."""
    rows = [row for row in _seed_rows() if not any(f in row["alias"] + row["canonical"] for f in fragments)]
    return AliasTable.from_rows(rows)


def _texts() -> list[str]:
    return [path.read_text(encoding="utf-8") for path in ARTICLES]


def _pairs(suggestions) -> set[tuple[str, str]]:
    return {(s.alias, s.canonical) for s in suggestions}


def test_samples_propose_zelenskyy_and_turkiye_when_their_rows_are_gone():
    suggestions = suggest_aliases(_texts(), aliases=_without("Zelensk", "Turk", "Türk"))
    assert {("Zelenskyy", "Zelensky"), ("Türkiye", "Turkey"), ("Turkiye", "Turkey")} <= _pairs(suggestions)
    by_alias = {s.alias: s for s in suggestions}
    assert by_alias["Türkiye"].alias_mentions == 5 and by_alias["Türkiye"].canonical_mentions == 30
    assert "Türkiye" in by_alias["Türkiye"].example
    assert by_alias["Zelenskyy"].kind == ""  # a new entity: the reader fills in its kind


def test_a_variant_of_a_known_entity_takes_its_kind():
    table = AliasTable.from_rows([row for row in _seed_rows() if row["alias"] not in ("Zelenskyy", "Erdoğan")])
    suggestions = {s.alias: s for s in suggest_aliases(_texts(), aliases=table)}
    assert (suggestions["Zelenskyy"].canonical, suggestions["Zelenskyy"].kind) == ("Zelensky", "person")
    assert (suggestions["Erdoğan"].canonical, suggestions["Erdoğan"].reason) == ("Erdogan", "diacritics")


def test_the_full_table_leaves_nothing_to_suggest_on_the_samples():
    assert suggest_aliases(_texts(), aliases=AliasTable.from_tables({"aliases.csv": _seed_rows()})) == []


def test_a_new_full_name_variant_is_linked_to_its_known_surname():
    table = AliasTable.from_rows([{"alias": "Shoigu", "canonical": "Shoigu", "kind": "person"}])
    texts = ["On Monday the defence minister Sergei Shoigu said the army would advance.",
             "Later the minister Sergey Shoigu told reporters that all was well.",
             "Reports said that Sergey Shoigu was in Moscow again."]
    found = {(s.alias, s.canonical, s.kind, s.reason) for s in suggest_aliases(texts, aliases=table)}
    assert found == {("Sergei Shoigu", "Sergey Shoigu", "person", "transliteration"),
                     ("Sergey Shoigu", "Shoigu", "person", "longer form")}


@pytest.mark.parametrize("first, second, reason", [
    ("Nato", "NATO", "case"),
    ("Erdoğan", "Erdogan", "diacritics"),
    ("İstanbul", "Istanbul", "diacritics"),
    ("Zelenskyy", "Zelenskiy", "transliteration"),
    ("Sergei", "Sergey", "transliteration"),
    ("Kiev", "Kyiv", "transliteration"),
    ("Kharkov", "Kharkiv", "transliteration"),
    ("Odessa", "Odesa", "transliteration"),
    ("Lukashenka", "Lukashenko", "similar"),
    ("Türkiye", "Turkey", "consonants"),
])
def test_variants_are_recognised(first, second, reason):
    assert compare(first, second)[0] == reason


@pytest.mark.parametrize("first, second", [
    ("Russia", "Russian"), ("German", "Germany"), ("Ukraine", "Ukrainian"), ("Europe", "Europeans"),
    ("Turkey", "Turkish"), ("Austria", "Australia"), ("Reed", "Read"), ("NEXTA", "Next"),
    ("Zelensky", "Volodymyr Zelensky"),
])
def test_different_words_are_not_variants(first, second):
    assert compare(first, second) is None


def test_folding_and_keys():
    assert fold_diacritics("Kılıçdaroğlu") == "Kilicdaroglu"
    assert skeleton("Yevgeny") == skeleton("Evgeny")
    assert consonants("Türkiye") == consonants("Turkey")
    assert derived_pair("India", "Indian") and not derived_pair("Zelensky", "Zelenskyy")


def test_names_are_found_in_prose_not_in_shouting_or_headlines():
    text = "JOIN US ON TELEGRAM\nCould Turkey Take Lead Role for Peace in Ukraine?\nHe said Turkeyʼs army is big and ready."
    found = [(m.name, m.in_prose) for m in find_names(text)]
    assert ("JOIN", False) not in found and not any(name == "TELEGRAM" for name, _ in found)
    assert ("Turkey", True) in found  # possessive dropped, inside a prose sentence
    assert ("Peace", False) in found  # a headline word, never a candidate
