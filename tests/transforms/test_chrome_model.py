"""The learned line stripper: the shipped model loads, the user's controls still decide, every line is audited."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from flows.seeds import LINE_MODEL_FILE, SeedError, load_line_model, load_references, text_stripper
from transforms.chrome import ChromeLexicon
from transforms.chrome.features import FEATURE_NAMES, SHAPE_NAMES, page_shapes
from transforms.chrome.model import LABELS, strip_with_model
from transforms.pipeline import clean_article, decode_document
from transforms.records import RawDocument

from tests.cases import ROOT
ARTICLES = sorted((ROOT / "seeds" / "articles").glob("*.txt"))
PARA = "The council voted on Tuesday to extend the bus program for another year, officials said in a statement."


@pytest.fixture(scope="module")
def model():
    return load_line_model()


@pytest.fixture(scope="module")
def lexicon() -> ChromeLexicon:
    return load_references(stripper="rules").lexicon


def test_shipped_model_names_its_version_and_training_data():
    data = json.loads(LINE_MODEL_FILE.read_text(encoding="utf-8"))
    assert data["version"].startswith("lines-")
    assert "WCXB" in data["trained_on"] and "Fundus" in data["trained_on"]
    assert tuple(data["labels"]) == LABELS and tuple(data["features"]) == FEATURE_NAMES


def test_model_trained_on_other_features_is_refused(tmp_path):
    data = json.loads(LINE_MODEL_FILE.read_text(encoding="utf-8"))
    data["features"] = data["features"][:-1]
    stale = tmp_path / "line_model.json"
    stale.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SeedError, match="train_text_model"):
        load_line_model.__wrapped__(stale)


def test_unknown_stripper_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("NEWSCLEAN_TEXT_STRIPPER", "magic")
    with pytest.raises(SeedError, match="rules, model"):
        text_stripper()


@pytest.mark.parametrize("path", ARTICLES, ids=lambda p: p.name[:3])
def test_every_line_is_kept_or_removed_with_a_reason(path, model, lexicon):
    text = path.read_text(encoding="utf-8")
    out = strip_with_model(text, model=model, lexicon=lexicon, language="en")
    assert out.input_lines == sum(1 for line in text.splitlines() if line.strip())
    assert len([line for line in out.body.splitlines() if line.strip()]) + len(out.chrome) == out.input_lines
    assert all(removed.rule for removed in out.chrome)
    for removed in out.chrome:
        match = re.fullmatch(r"model:(\w+)@(\d\.\d)", removed.rule)
        assert match is None or (match[1] in LABELS and 0.0 <= float(match[2]) <= 1.0)


def test_a_phrase_the_user_adds_removes_its_line(model):
    text = f"{PARA}\n\nSupport our newsroom today\n\n{PARA} It will cost more."
    plain = ChromeLexicon.from_rows([{"pattern": "advertisement", "match": "line", "rule": "ad_label"}])
    assert "Support our newsroom today" in strip_with_model(text, model=model, lexicon=plain, language="en").body
    user = ChromeLexicon.from_rows([{"pattern": "support our newsroom today", "match": "line", "rule": "donate"}])
    out = strip_with_model(text, model=model, lexicon=user, language="en")
    assert "Support our newsroom today" not in out.body
    assert ("Support our newsroom today", "donate") in [tuple(removed) for removed in out.chrome]


def test_site_repeats_are_removed_as_site_repeat(model, lexicon):
    text = f"Sign up for the morning briefing\n{PARA}\n{PARA} It will cost more."
    learned = frozenset({"sign up for the morning briefing"})
    out = strip_with_model(text, model=model, lexicon=lexicon, site_chrome=learned, language="en")
    assert [tuple(removed) for removed in out.chrome] == [("Sign up for the morning briefing", "site_repeat")]


def test_menu_and_footer_go_the_article_stays(model, lexicon):
    body = [PARA, "The vote was close, with five members against the plan and six in favour of it.",
            "A final decision on the fares is expected next month, after a public consultation."]
    text = "\n".join(["Home", "World", "Business", "Sport", "Weather", "Bus program extended for a year", *body,
                      "Most read", "Markets rally as rates fall", "Privacy policy", "Terms of use", "© 2025 Example"])
    out = strip_with_model(text, model=model, lexicon=lexicon, language="en")
    assert out.body.splitlines() == body


def test_text_without_line_breaks_is_split_into_sentences(model, lexicon):
    """A clean article written as one line (as trafilatura's html2txt writes a page) keeps most of its text."""
    article = (ROOT / "seeds" / "articles" / "004_3af96790ae26ce5f.txt").read_text(encoding="utf-8")
    one_line = " ".join(article.split())
    out = strip_with_model(one_line, model=model, lexicon=lexicon, language="en")
    assert out.input_lines >= 10
    assert len(out.body) >= 0.8 * len(one_line)


def test_empty_text(model, lexicon):
    out = strip_with_model(" \n\n", model=model, lexicon=lexicon)
    assert (out.body, out.input_lines, tuple(out.chrome)) == ("", 0, ())


def test_pipeline_records_the_stripper_and_uses_the_model():
    refs = load_references(stripper="model")
    assert refs.stripper == refs.line_model.version
    assert load_references(stripper="rules").stripper == "rules"
    article = decode_document(RawDocument(source_uri="a.txt", raw=ARTICLES[0].read_bytes(), format_hint="text"))
    cleaned = clean_article(article, refs=refs, line_cache={})
    assert cleaned.body and not cleaned.quarantined
    assert any(removed.rule.startswith("model:") for removed in cleaned.chrome)



# Lines whose shape is easy to give to the wrong line when a page is read as one array of characters: patterns at
# a line's start or end, "@" and "#" next to a line break, characters outside the Basic Multilingual Plane and
# characters that change length when lower-cased.
TRICKY_LINES = [
    "@newsdesk", "#breaking story tonight", "Write to jane.roe@example.com for more.", "Visit www.example.org today",
    "- a bullet point", "12) numbered", "# Heading", "**Bold lead**", "![photo](http://x.example/a.jpg)",
    "東京で雨が降りました。明日は晴れるでしょう。", "2024年5月3日 10:00", "Published 7:07 PM EST Nov 19, 2019",
    "İSTANBUL — Emoji 🎉🎉 and more 😀 text", "He said \"no.\"", "«Das ist gut», sagte sie. Dann ging sie.",
    "© 2025 Example (c) Ltd", "THE ALL CAPS HEADLINE", "Home | News | Sport / Weather", "x", "3.5.2021",
]


def test_a_lines_shape_does_not_depend_on_the_lines_around_it():
    """page_shapes reads a whole page at once: each row must be what the line alone gives."""
    function = frozenset({"the", "and", "for", "a", "und", "で", "の"})
    page = page_shapes(TRICKY_LINES, function=function)
    alone = np.vstack([page_shapes([line], function=function) for line in TRICKY_LINES])
    assert page.shape == (len(TRICKY_LINES), len(SHAPE_NAMES))
    np.testing.assert_allclose(page, alone, atol=1e-6)
    reversed_page = page_shapes(TRICKY_LINES[::-1], function=function)[::-1]
    np.testing.assert_allclose(reversed_page, alone, atol=1e-6)
    column = dict(zip(SHAPE_NAMES, page.T))
    assert column["has_url"][:4].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert column["bullet"][4:6].tolist() == [1.0, 1.0] and column["markdown"][6:9].tolist() == [1.0, 1.0, 1.0]
    assert column["has_date"][10:12].tolist() == [1.0, 1.0] and column["has_clock"][11] == 1.0
    assert column["cjk_share"][9] > 0.9 and column["ends_sentence"][13] == 1.0 and column["copyright"][15] == 1.0


def test_the_version_names_the_trees():
    """Two models never share a version (the articles table records it): it ends with a digest of the trees."""
    import hashlib
    data = json.loads(LINE_MODEL_FILE.read_text(encoding="utf-8"))
    digest = hashlib.sha1((data["line_stage"] + data["smooth_stage"]).encode()).hexdigest()[:7]
    assert data["version"].endswith(f"-{digest}")


def test_fields_come_from_the_labelled_lines(model, lexicon):
    text = "\n".join(["Home", "News", "", "Bus program extended for a year | The Daily Example", "",
                      "By Jane Roe", "May 3, 2024", "", PARA, "",
                      "The vote was close, with five members against the plan and six in favour of it.", "",
                      "A final decision on the fares is expected next month, after a public consultation.", "",
                      "Privacy policy"])
    out = strip_with_model(text, model=model, lexicon=lexicon, language="en")
    assert (out.title, out.authors, out.published) == ("Bus program extended for a year", ("Jane Roe",), "2024-05-03")
