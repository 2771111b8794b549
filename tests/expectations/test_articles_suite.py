"""The articles suite: every field covered, each rule catches its fault with its severity, good rows pass."""
from __future__ import annotations

import datetime as dt

import pytest

from expectations.articles import (ASSIGNED_AFTER_VALIDATION, CRITICAL, ISO_639_1, MAX_REMOVED_SHARE, WARNING,
                                   GX_COLUMNS, ArticleValidator, SuiteInputs, build_rules, validation_frame)
from flows.store import ARTICLES_SCHEMA

INPUTS = SuiteInputs(chrome_residue=[r"(?im)^[ \t]*advertisement[ \t]*$", r"(?i)\bsubscribe now\b"],
                     alias_variants=["Türkiye", "U.K."])
BODY = ("Residents gathered on Thursday to hear how the new flood barrier will be paid for over ten years.\n\n"
        "The council expects the region to cover most of the cost, with a small rise in local charges.\n\n"
        "Engineers promised a detailed timetable at the next public meeting in the spring.")
# Faults that necessarily break a second rule too.
ALSO = {"Too short.": {"body_not_short"}, 1.5: {"removed_share_plausible"}}

# (rule, severity, change to a good row): the changed row must fail exactly that rule among the listed.
FAULTS = [
    ("doc_id_present", CRITICAL, {"doc_id": None}),
    ("doc_id_format", CRITICAL, {"doc_id": "not-a-hash"}),
    ("source_uri_present", CRITICAL, {"source_uri": None}),
    ("input_format_known", CRITICAL, {"input_format": "pdf"}),
    ("body_length", CRITICAL, {"body": "Too short."}),
    ("body_length", CRITICAL, {"body": "word " * 120_000}),
    ("body_not_short", WARNING, {"body": "A brief item of about fifty characters, no more."}),
    ("body_normalized_present", CRITICAL, {"body_normalized": None}),
    ("published_in_range", CRITICAL, {"published": dt.date(1989, 12, 31)}),
    ("published_in_range", CRITICAL, {"published": dt.date.today() + dt.timedelta(days=3)}),
    ("published_at_in_range", WARNING, {"published_at": dt.datetime(2999, 1, 1, tzinfo=dt.timezone.utc)}),
    ("language_present", WARNING, {"language": None}),
    ("language_iso_639_1", CRITICAL, {"language": "arz"}),
    ("language_iso_639_1", CRITICAL, {"language": "xx"}),
    ("title_present", WARNING, {"title": None}),
    ("title_length", WARNING, {"title": "Hi"}),
    ("authors_not_times", WARNING, {"authors": ["Jane Doe", "5 minutes ago"]}),
    ("authors_not_staff", WARNING, {"authors": ["Staff"]}),
    ("authors_not_site_name", WARNING, {"authors": ["River News"]}),
    ("author_length", WARNING, {"authors": ["x" * 150]}),
    ("site_present", WARNING, {"site": None}),
    ("site_one_token", WARNING, {"site": "river news/x"}),
    ("site_name_length", WARNING, {"site_name": "n" * 300}),
    ("url_http", WARNING, {"url": "javascript:void(0)"}),
    ("captions_length", WARNING, {"captions": ["c" * 2000]}),
    ("labels_length", WARNING, {"tags": ["t" * 300]}),
    ("entities_well_formed", WARNING, {"entities": [{"name": "Turkey", "kind": "country", "mentions": 0}]}),
    ("removed_share_valid", CRITICAL, {"removed_share": 1.5}),
    ("removed_share_plausible", WARNING, {"removed_share": MAX_REMOVED_SHARE + 0.01}),
    ("text_fully_decoded", WARNING, {"repairs": ["charset:cp1252", "replaced_undecodable"]}),
    ("no_chrome_residue", WARNING, {"body": BODY + "\nAdvertisement\nMore text follows here."}),
    ("no_chrome_residue", WARNING, {"body": BODY + "\nSubscribe now for full access."}),
    ("names_normalized", WARNING, {"body_normalized": BODY + " Türkiye said so."}),
    ("names_normalized", WARNING, {"body_normalized": "The U.K. agreed. " + BODY}),
    ("ingested_at_present", CRITICAL, {"ingested_at": None}),
    ("pipeline_version_present", CRITICAL, {"pipeline_version": None}),
    ("stripper_present", CRITICAL, {"stripper": None}),
    ("run_id_present", CRITICAL, {"run_id": None}),
]


def good_row(number: int) -> dict:
    return {
        "doc_id": f"{number:032x}", "source_uri": f"/in/river-news.example/{number}.txt", "input_format": "text",
        "site": "river-news.example", "site_name": "River News", "url": f"https://river-news.example/a/{number}",
        "title": "Flood barrier plan explained", "authors": ["Jane Doe"], "published": dt.date(2025, 2, 27),
        "published_at": dt.datetime(2025, 2, 27, 10, tzinfo=dt.timezone.utc), "language": "en", "body": BODY,
        "body_normalized": BODY + " Turkey and the UK, not Türkiyeli.", "captions": ["The barrier site. Photo: J. Doe"],
        "chrome": [{"line": "Share", "rule": "share_call"}], "entities": [{"name": "Turkey", "kind": "country", "mentions": 1}],
        "categories": ["Local"], "tags": ["floods"], "word_count": len(BODY.split()), "removed_share": 0.3,
        "repairs": ["mojibake"], "warnings": [], "ingested_at": dt.datetime.now(dt.timezone.utc),
        "pipeline_version": "test", "stripper": "rules", "run_id": "test-run",
    }


@pytest.fixture(scope="module")
def validator():
    return ArticleValidator(INPUTS)


@pytest.fixture(scope="module")
def outcome(validator):
    rows = [good_row(0)] + [{**good_row(n), **change} for n, (_, _, change) in enumerate(FAULTS, start=1)]
    rows.append(good_row(0))  # a duplicate of row 0: both copies fail uniqueness
    return validator.validate(validation_frame(rows))


def test_every_article_field_is_checked():
    covered = {name for rule in build_rules(INPUTS) for name in rule.fields}
    fields = {f.name for f in ARTICLES_SCHEMA} - {"warnings"}  # warnings is the suite's own output
    # Fields filled after validation are not covered; the validator reports them as not checked instead.
    assert fields - covered - set(ASSIGNED_AFTER_VALIDATION) == set()


def test_fields_filled_after_validation_are_reported_as_not_checked(validator):
    for name in ASSIGNED_AFTER_VALIDATION:
        assert any(item.startswith(f"{name}:") for item in validator.not_checked)


def test_every_rule_has_a_severity_and_a_name_in_its_meta():
    for rule in build_rules(INPUTS):
        assert rule.severity in (CRITICAL, WARNING)
        if rule.expectation is not None:
            assert rule.expectation.meta == {"name": rule.name, "severity": rule.severity, "fields": list(rule.fields)}
            assert rule.expectation.severity == rule.severity  # GX's own field, saved in the suite
        else:  # a Python check says why it is not a GX expectation
            assert rule.check is not None and rule.python_because, rule.name


def test_expectations_read_only_the_articles_tables_own_columns():
    """No helper columns (body_chars, alias_candidates, ...): GX checks what the Parquet holds."""
    columns = {f.name for f in ARTICLES_SCHEMA}
    gx_rules = [rule for rule in build_rules(INPUTS) if rule.expectation is not None]
    assert len(gx_rules) >= 20
    assert {rule.expectation.column for rule in gx_rules} <= columns & set(GX_COLUMNS)
    body_length = next(rule.expectation for rule in gx_rules if rule.name == "body_length")
    assert body_length.column == "body" and type(body_length).__name__ == "ExpectColumnValueLengthsToBeBetween"
    # and no two-screen regex in the saved suite
    assert max(len(getattr(rule.expectation, "regex", "") or "") for rule in gx_rules) < 1000


@pytest.mark.parametrize("number,fault", list(enumerate(FAULTS, start=1)), ids=[f[0] for f in FAULTS])
def test_fault_is_caught_with_its_severity(outcome, number, fault):
    name, severity, _ = fault
    found = outcome.critical if severity == CRITICAL else outcome.warnings
    assert name in found.get(number, []), (outcome.critical.get(number), outcome.warnings.get(number))


def test_good_row_passes_everything_but_its_duplicate_check(outcome):
    assert outcome.warnings.get(0) is None
    assert outcome.critical.get(0) == ["doc_id_unique"]
    assert outcome.critical.get(len(FAULTS) + 1) == ["doc_id_unique"]


def test_only_the_row_with_a_fault_fails(outcome):
    for number, (name, _, _) in enumerate(FAULTS, start=1):
        failed = outcome.critical.get(number, []) + outcome.warnings.get(number, [])
        change = next(iter(FAULTS[number - 1][2].values()))
        expected = {name} | ALSO.get(change if isinstance(change, (str, float)) else None, set())
        assert set(failed) == expected, (name, failed)


def test_iso_639_1_is_the_real_code_list():
    assert len(ISO_639_1) == 184
    assert {"en", "tr", "uk", "zh", "he"} <= ISO_639_1 and not {"zxx", "arz", "iw", "eng"} & ISO_639_1


@pytest.mark.parametrize("code", ["en\n", " en", "e", "enx", "EN"])
def test_language_regex_accepts_only_a_bare_code(validator, code):
    result = validator.validate(validation_frame([{**good_row(0), "language": code}]))
    assert "language_iso_639_1" in result.critical.get(0, [])


def test_missing_reference_data_is_reported_not_silent():
    bare = ArticleValidator(SuiteInputs())
    assert "no_chrome_residue" not in bare.rules and "names_normalized" not in bare.rules
    assert [item.split(":")[0] for item in bare.not_checked] == [
        "no_chrome_residue", "names_normalized", *ASSIGNED_AFTER_VALIDATION]


def test_an_empty_frame_validates_to_nothing(validator):
    result = validator.validate(validation_frame([]))
    assert result.critical == {} and result.warnings == {}


def test_a_python_check_that_raises_quarantines_that_row_only(validator):
    """A list column holding something else (here a number) cannot be checked: that row is held back with
    the reason, the others are judged as usual, and the commit goes on."""
    result = validator.validate(validation_frame([good_row(0), {**good_row(1), "authors": 5}]))
    assert result.critical.get(1) == ["suite_error:authors_not_times", "suite_error:authors_not_staff",
                                      "suite_error:authors_not_site_name", "suite_error:author_length"]
    assert 0 not in result.critical


def test_validate_rows_gives_one_verdict_per_row_in_order(validator):
    """The flow zips articles with verdicts: one per row, in the rows' order, the clean ones included."""
    rows = [good_row(0), {**good_row(1), "published": dt.date(1989, 12, 31)}, {**good_row(2), "title": None}, good_row(3)]
    verdicts = validator.validate_rows(rows).verdicts
    assert len(verdicts) == 4
    assert verdicts[0].passed and verdicts[0].warnings == () and verdicts[3].passed
    assert not verdicts[1].passed and verdicts[1].critical == ("published_in_range",)
    assert verdicts[2].passed and verdicts[2].warnings == ("title_present",)
    assert validator.validate_rows([]).verdicts == []
