"""Chrome stripping: goldens for the sample articles, invariants on clean text, site-chrome learning, seeds."""
from __future__ import annotations

import ast
import csv
import dataclasses
import pickle
import re
from collections import Counter
from pathlib import Path

import pytest

from transforms.chrome import rules as chrome
from transforms.chrome import (
    LEXICON_FILES,
    SITE_CHROME_MIN_DOCS,
    ChromeLexicon,
    count_line_keys,
    line_key,
    site_chrome_keys,
    strip_chrome,
    strip_chrome_many,
)

from tests.cases import SEEDS, load_cases


def read_table(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def lexicon() -> ChromeLexicon:
    return ChromeLexicon.from_tables({name: read_table(name) for name in LEXICON_FILES})


CASES = load_cases("chrome", "*.json")  # one per sample article (see goldens/chrome/README.md)


def test_every_sample_article_has_a_golden():
    assert sorted(case["file"] for case in CASES) == sorted(p.name for p in (SEEDS / "articles").glob("*.txt"))


@pytest.mark.parametrize("case", CASES, ids=[case["file"][:3] for case in CASES])
def test_sample_article_golden(case, lexicon):
    text = (SEEDS / "articles" / case["file"]).read_text(encoding="utf-8")
    out = strip_chrome(text, lexicon=lexicon)
    body_lines = {line.strip() for line in out.body.splitlines()}
    missing = [snippet for snippet in case["must_contain"] if snippet not in out.body]
    leaked = [line for line in case["must_not_contain"] if line in body_lines]
    leaked += [snippet for snippet in case["must_not_contain_text"] if snippet in out.body]
    assert not missing, f"article lines dropped: {missing}"
    assert not leaked, f"chrome kept: {leaked}"
    assert out.title == case["title"]
    assert list(out.authors) == case["authors"]
    assert [caption[: len(expected)] for caption, expected in zip(out.captions, case["captions"])] == case["captions"]
    assert len(out.captions) == len(case["captions"])
    assert out.published == case["published"]
    assert (not out.chrome) == case["whole"]


def test_every_removed_line_is_audited(lexicon):
    """Body lines plus removed lines give back every non-empty input line, in order."""
    for path in sorted((SEEDS / "articles").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        out = strip_chrome(text, lexicon=lexicon)
        assert out.input_lines == sum(1 for line in text.splitlines() if line.strip())
        assert len([line for line in out.body.splitlines() if line.strip()]) + len(out.chrome) == out.input_lines
        assert all(removed.rule for removed in out.chrome)


def test_article_without_chrome_comes_out_whole(lexicon):
    text = (SEEDS / "articles" / "004_3af96790ae26ce5f.txt").read_text(encoding="utf-8")
    out = strip_chrome(text, lexicon=lexicon)
    assert out.body.splitlines() == [line.strip() for line in text.strip().splitlines()]


@pytest.mark.parametrize("path", sorted((SEEDS / "articles").glob("*.txt")), ids=lambda p: p.name[:3])
def test_second_pass_is_a_no_op(path, lexicon):
    """The pipeline strips trafilatura's already-clean output again: clean text must come back unchanged."""
    once = strip_chrome(path.read_text(encoding="utf-8"), lexicon=lexicon)
    twice = strip_chrome(once.body, lexicon=lexicon)
    assert twice.body == once.body
    assert twice.chrome == ()


def test_clean_paragraphs_with_subheadings_stay(lexicon):
    para = "The council voted on Tuesday to extend the program for another year, officials said."
    text = f"{para}\n\nWhat happens next\n\n{para} It will cost more.\n\nBudget\n\n{para}"
    assert strip_chrome(text, lexicon=lexicon).body == text


def test_short_documents_are_not_dropped(lexicon):
    assert strip_chrome("Brief: the bridge reopens Monday.", lexicon=lexicon).body == "Brief: the bridge reopens Monday."


def test_lines_repeated_inside_one_article_are_kept(lexicon):
    para = "Residents were told to boil water until further notice, the utility said on Monday."
    text = f"{para}\nUpdate\n{para}\nUpdate\n{para}"
    assert strip_chrome(text, lexicon=lexicon).body == text


def test_menu_and_related_list_around_an_article_go(lexicon):
    para = "The minister said the new rules would take effect in March after a consultation with industry."
    text = "\n".join(["Home", "World", "Business", "Sport", para, para, "Related articles",
                      "Markets rally as rates fall", "By Jane Roe", "3h ago", "Copyright 2025 Example News"])
    out = strip_chrome(text, lexicon=lexicon)
    assert out.body == f"{para}\n{para}"
    rules = {removed.line: removed.rule for removed in out.chrome}
    assert rules["3h ago"] == "relative_time" and rules["Home"] in {"navigation", "outside_article"}


def test_leading_date_moves_to_published(lexicon):
    para = "The port reopened after the storm and ships began to unload their cargo again on Thursday."
    out = strip_chrome(f" date 2025-02-27 {para}", lexicon=lexicon)
    assert (out.body, out.published) == (para, "2025-02-27")


# Cross-document learning -------------------------------------------------------------------------------------


def test_batch_strips_like_one_by_one(lexicon):
    """strip_chrome_many shares line features across texts; each output must equal stripping that text alone."""
    texts = [path.read_text(encoding="utf-8") for path in sorted((SEEDS / "articles").glob("*.txt"))]
    texts += [text.replace("\n", "\n\n") for text in texts]  # the same lines again, in other pages
    chrome_keys = site_chrome_keys(count_line_keys(texts))
    for extracted in (False, True):
        alone = [strip_chrome(text, lexicon=lexicon, site_chrome=chrome_keys, extracted=extracted) for text in texts]
        assert strip_chrome_many(texts, lexicon=lexicon, site_chrome=chrome_keys, extracted=extracted) == alone
        per_text = [chrome_keys if i % 2 else frozenset() for i in range(len(texts))]
        assert strip_chrome_many(texts, lexicon=lexicon, site_chrome=per_text, extracted=extracted) == [
            strip_chrome(text, lexicon=lexicon, site_chrome=keys, extracted=extracted)
            for text, keys in zip(texts, per_text)]


def test_counting_with_a_line_cache_counts_like_without():
    """A worker keeps one key cache across documents; each document must count as it would alone."""
    texts = [path.read_text(encoding="utf-8") for path in sorted((SEEDS / "articles").glob("*.txt"))]
    texts += [text.replace("\n", "\n\n") for text in texts] + ["", "\n\n", "Share this"]
    cache: dict[str, str] = {}
    assert [count_line_keys([text], cache=cache) for text in texts] == [count_line_keys([text]) for text in texts]
    assert count_line_keys(texts, cache=cache) == count_line_keys(texts)


def test_contains_rules_stay_inside_their_line(lexicon):
    """A line's rule depends on its own text only (so it can be cached): a bare label is not a caption because
    of the line under it, while "Copyright" alone still is a copyright line."""
    rules = {removed.line: removed.rule for removed in strip_chrome(
        "Site Photo:\nRSS feed of photos\nCopyright\nMore", lexicon=lexicon).chrome}
    assert rules["Site Photo:"] != "caption"
    assert rules["Copyright"] == "copyright"


def test_line_key_folds_case_digits_and_punctuation():
    assert line_key("  Read Next: 10 Stories! ") == line_key("read next - 99 stories") == "read next 00 stories"


def test_only_chrome_like_lines_are_counted():
    """Syndicated paragraphs shared by two outlets of one 'site' (a folder) must never become chrome."""
    shared = "Turkey has indicated its openness to deploying troops in Ukraine, Bloomberg reported."
    counts = count_line_keys([f"Share this\n{shared}", f"Share this\n{shared}\nShare this", "Share this"])
    assert counts == Counter({"share this": 3})


def test_site_chrome_threshold_is_a_named_constant():
    counts = Counter({"share this": SITE_CHROME_MIN_DOCS, "rare line": SITE_CHROME_MIN_DOCS - 1})
    assert site_chrome_keys(counts) == frozenset({"share this"})
    assert site_chrome_keys(counts, min_docs=1) == frozenset({"share this", "rare line"})


def test_site_chrome_removes_learned_lines_but_keeps_shared_subheadings(lexicon):
    para = "The committee published its findings on Wednesday after a two-year inquiry into the collapse."
    text = f"Example Daily Menu\n{para}\nKey findings\n{para}\nExample Daily Menu"
    learned = frozenset({line_key("Example Daily Menu"), line_key("Key findings")})
    out = strip_chrome(text, lexicon=lexicon, site_chrome=learned)
    assert out.body == f"{para}\nKey findings\n{para}"
    assert [removed.rule for removed in out.chrome] == ["site_repeat", "site_repeat"]


def test_seed_corpus_learning_keeps_every_article_line(lexicon):
    """The five samples (one folder: one site) learned together still keep every article line."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((SEEDS / "articles").glob("*.txt"))]
    learned = site_chrome_keys(count_line_keys(texts * 3))  # as if each article came three times
    for case, text in zip(CASES, texts):
        body = strip_chrome(text, lexicon=lexicon, site_chrome=learned).body
        assert [s for s in case["must_contain"] if s not in body] == []


# Seeds and purity ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LEXICON_FILES)
def test_seed_tables_have_unique_keys_and_notes(name):
    rows = read_table(name)
    assert rows and "note" in rows[0]
    keys = [next(iter(row.values())) for row in rows]
    assert all(key.strip() for key in keys)
    assert len(keys) == len(set(keys)), [k for k, n in Counter(keys).items() if n > 1]
    assert all(row["note"].strip() for row in rows)


def test_bad_rows_are_rejected():
    with pytest.raises(ValueError, match="unknown match kind"):
        ChromeLexicon.from_rows([{"pattern": "x", "match": "glob", "rule": "r"}])
    with pytest.raises(ValueError, match="bad pattern"):
        ChromeLexicon.from_rows([{"pattern": "(", "match": "regex", "rule": "r"}])


def _plain_rule(line: str, rows: list[dict[str, str]]) -> str | None:
    """The lexicon's rule for one line the slow, obvious way: every row in table order, line rows first."""
    stripped = line.strip()
    by_kind = {kind: [row for row in rows if row["match"] == kind]
               for kind in ("line", "regex", "regex_cased", "contains", "contains_cased")}
    for row in by_kind["line"]:
        if line_key(row["pattern"]) == line_key(stripped):
            return row["rule"]
    if len(stripped) <= chrome.WHOLE_LINE_MAX_CHARS:
        for kind, text in (("regex", stripped.lower()), ("regex_cased", stripped)):
            for row in by_kind[kind]:
                if re.fullmatch(row["pattern"], text, re.MULTILINE):
                    return row["rule"]
    for row in rows:
        if row["match"] == "contains" and re.search(row["pattern"], stripped.lower(), re.MULTILINE) or \
                row["match"] == "contains_cased" and re.search(row["pattern"], stripped, re.MULTILINE):
            return row["rule"]
    return None


def test_document_scans_agree_with_line_by_line_matching(lexicon):
    """Heads, look-ahead literals and one alternation per kind are only a speed-up: each line must get the rule
    that trying every row on it alone gives, whether the line stands alone or inside a whole document."""
    rows = read_table("chrome_phrases.csv")
    lines = [line.strip() for path in sorted((SEEDS / "articles").glob("*.txt"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines += ["8h ago", "2 min read", "By Jane Roe", "Photo: AFP", "« Previous", "12 comments", "1,204", "Next »",
              "Home | World | Sport", "Jane Doe on May 3, 2019 at 4:05 pm said:", "John Smith/Reuters",
              "Reading time: 4 min", "hace 3 horas", "« Previous Post Next Post »", "← Previous Story", "12 Comments (3)", "© 2025 Example Media", "We use cookies to improve the site.",
              "A dog runs. Credit: Jane Roe", "Share on Facebook", "Image by Jane Roe", "Jane Roe is a reporter at X."]
    expected = [_plain_rule(line, rows) for line in lines]
    assert [lexicon.rule_for(line) for line in lines] == expected
    view = chrome._Document(lines)
    found = lexicon._contains_rules(view)
    found.update(lexicon._line_rules(view))
    exact = [lexicon.exact.get(line_key(line)) for line in lines]
    assert [exact[i] or found.get(i) for i in range(len(lines))] == expected


def test_chrome_module_is_pure():
    tree = ast.parse(Path(chrome.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    # ahocorasick is pure computation (a string automaton), like re.
    assert imported <= {"__future__", "ahocorasick", "ahocorasick_rs", "bisect", "collections", "dataclasses", "itertools", "operator", "re",
                        "string", "typing", "unicodedata", "transforms"}
    assert not re.search(r"\bopen\(|os\.environ|Path\(", Path(chrome.__file__).read_text(encoding="utf-8"))


def test_extracted_text_keeps_its_extent_and_loses_only_lexicon_chrome(lexicon):
    """trafilatura's body is the article already: short lines and a short body stay, known chrome still goes."""
    text = "Live updates\nThe vote is on Friday.\nAdvertisement\nShare this article\nOfficials declined to comment."
    out = strip_chrome(text, lexicon=lexicon, extracted=True)
    assert out.body == "Live updates\nThe vote is on Friday.\nOfficials declined to comment."
    assert [removed.rule for removed in out.chrome] == ["ad_label", "share_call"]


# Residue check for the flow's body expectations ----------------------------------------------------------------


def test_residue_regexes_are_plain_anchored_patterns(lexicon):
    patterns = lexicon.residue_regexes()
    assert patterns
    for pattern in patterns:
        assert pattern.startswith(("(?im)^", "(?m)^")) and pattern.endswith("$")
        assert re.compile(pattern).groups == 0  # non-capturing groups only


def test_residue_regexes_miss_clean_bodies_and_catch_chrome_lines(lexicon):
    patterns = [re.compile(pattern) for pattern in lexicon.residue_regexes()]
    for case in CASES:
        text = (SEEDS / "articles" / case["file"]).read_text(encoding="utf-8")
        body = strip_chrome(text, lexicon=lexicon).body
        assert [m.group() for p in patterns for m in p.finditer(body)] == [], case["file"]
        article_lines = "\n".join(line for line in text.splitlines()
                                  if any(line.strip().startswith(s) for s in case["must_contain"]))
        assert not any(p.search(article_lines) for p in patterns), case["file"]
    chrome_lines = ["Advertisement", "Share this article", "Read more: Markets fall again", "By Jane Roe",
                    "Photo: Jane Roe/Reuters", "Sign up for our newsletter", "All rights reserved"]
    caught = [line for line in chrome_lines if any(p.search(f"Intro.\n{line}\nOutro.") for p in patterns)]
    assert caught == chrome_lines[:-1]  # "all rights reserved" is a contains rule: it may stand inside prose


def test_residue_regexes_stay_on_one_line(lexicon):
    patterns = [re.compile(pattern) for pattern in lexicon.residue_regexes()]
    text = "Photo\nby the river, the old mill stands."  # "photo by ..." across two lines is no credit line
    assert re.search(r"(?i)^photo\s+by\s.{1,120}$", text, re.MULTILINE)
    assert not any(p.search(text) for p in patterns)


def test_numbered_items_and_table_rows_stay_in_the_article(lexicon):
    para = "The shop published its ranking of the season's most wanted presents after a survey of its customers."
    items = [line for n in range(1, 6) for line in (f"{n}) Toy Model {n}", f"http://example.com/{n}")]
    rows = [f"{n} Team {chr(64 + n)} {90 - n} {n + 3} {n}" for n in range(1, 6)]
    text = "\n".join(["Home", "Shop", para, *items, para, "Pos Team Points Wins Draws", *rows, para, "Menu"])
    body = strip_chrome(text, lexicon=lexicon).body
    assert all(line in body for line in items[::2] + rows)
    assert "Home" not in body.splitlines() and "Menu" not in body.splitlines()


def test_lexicon_rules_survive_pickling(lexicon):
    """Worker processes get the lexicon pickled: its automata are rebuilt and find the same rules."""
    lines = ["Jane Doe is a reporter for the Daily Bugle.", "Jane Doe is a fine cook and a gardener", "© 2019 Example",
             "We use cookies to improve your experience.", "A storm hit the coast. (Photo: AFP)", "Plain prose line.",
             "Home | World | Business | Tech", "Jane Roe / Reuters"]
    expected = lexicon._contains_rules(chrome._Document(lines)), lexicon._line_rules(chrome._Document(lines))
    copy = pickle.loads(pickle.dumps(lexicon))
    assert (copy._contains_rules(chrome._Document(lines)), copy._line_rules(chrome._Document(lines))) == expected
    assert expected[0][0] == "author_bio" and 1 not in expected[0]


def test_line_rules_same_with_merged_or_own_automata(lexicon):
    """The look-ahead literals of whole-line patterns are found with the contains heads in one pass; each scan's
    own automaton (used when the lower-cased text does not line up with the original) finds the same rules."""
    lines = ["Home | World | Business | Tech", "Jane Roe / Reuters", "Jane Doe at 10:30 on Nov 19, 2019 at 10:30",
             "A sentence | with a bar.", "Plain prose line."]
    merged = lexicon._line_rules(chrome._Document(lines))
    own = dataclasses.replace(lexicon, all_heads=None)._line_rules(chrome._Document(lines))
    assert merged == own and merged
