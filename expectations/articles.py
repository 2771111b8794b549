"""The expectation suite for the ``articles`` table, thresholds as named constants.

Every expectation carries ``meta.severity``: ``critical`` failures send the row to quarantine,
``warning`` failures keep the row and are counted in the report. The flow, not the suite,
acts on the severities.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

SUITE_NAME = "articles"
CRITICAL = "critical"
WARNING = "warning"

MIN_BODY_CHARS = 1
MAX_BODY_CHARS = 500_000
MIN_TITLE_CHARS = 3
MAX_TITLE_CHARS = 400
EARLIEST_PUBLISHED = dt.date(1990, 1, 1)
MAX_REMOVED_SHARE = 0.95
ISO_639_1 = r"^[a-z]{2}$"
INPUT_FORMATS = ("text", "html")
# A byline is a person, not a clock: "5 minutes ago", "12:30", "Updated 2024".
AUTHOR_NOT_A_TIME = r"(?i)(?:\d|\bago\b|\bupdated\b|\bminutes?\b|\bhours?\b)"
AUTHOR_NOT_STAFF = r"(?i)^(?:staff|editor|editors|admin|newsroom|news desk|reporter)$"


@dataclass(frozen=True)
class Rule:
    """One expectation with the name shown in quarantine reasons and its severity."""

    name: str
    severity: str
    expectation: object


@dataclass(frozen=True)
class SuiteInputs:
    """Reference data the suite needs, derived from seeds/ by the flow."""

    chrome_residue: Sequence[str] = ()  # regexes that must not match anywhere in `body`
    alias_variants: Sequence[str] = ()  # non-canonical spellings that must not remain in `body_normalized`


def build_rules(inputs: SuiteInputs, *, today: dt.date | None = None) -> list[Rule]:
    """All expectations of the articles suite, each with a name and a severity."""
    import great_expectations.expectations as gxe

    tomorrow = (today or dt.date.today()) + dt.timedelta(days=1)
    rules = [
        Rule("doc_id_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="doc_id")),
        Rule("doc_id_unique", CRITICAL, gxe.ExpectColumnValuesToBeUnique(column="doc_id")),
        Rule("source_uri_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="source_uri")),
        Rule("input_format_known", CRITICAL, gxe.ExpectColumnValuesToBeInSet(column="input_format", value_set=list(INPUT_FORMATS))),
        Rule("body_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="body")),
        Rule("body_length", CRITICAL, gxe.ExpectColumnValueLengthsToBeBetween(column="body", min_value=MIN_BODY_CHARS, max_value=MAX_BODY_CHARS)),
        Rule("published_in_range", CRITICAL, gxe.ExpectColumnValuesToBeBetween(
            column="published_ts", min_value=dt.datetime.combine(EARLIEST_PUBLISHED, dt.time()),
            max_value=dt.datetime.combine(tomorrow, dt.time()))),
        Rule("language_iso_639_1", CRITICAL, gxe.ExpectColumnValuesToMatchRegex(column="language", regex=ISO_639_1)),
        Rule("title_present", WARNING, gxe.ExpectColumnValuesToNotBeNull(column="title")),
        Rule("title_length", WARNING, gxe.ExpectColumnValueLengthsToBeBetween(column="title", min_value=MIN_TITLE_CHARS, max_value=MAX_TITLE_CHARS)),
        Rule("authors_not_times", WARNING, gxe.ExpectColumnValuesToNotMatchRegex(column="author", regex=AUTHOR_NOT_A_TIME)),
        Rule("authors_not_staff", WARNING, gxe.ExpectColumnValuesToNotMatchRegex(column="author", regex=AUTHOR_NOT_STAFF)),
        Rule("authors_not_site_name", WARNING, gxe.ExpectColumnValuesToBeInSet(column="author_is_site_name", value_set=[False])),
        Rule("removed_share_plausible", WARNING, gxe.ExpectColumnValuesToBeBetween(column="removed_share", min_value=0.0, max_value=MAX_REMOVED_SHARE)),
    ]
    if inputs.chrome_residue:
        rules.append(Rule("no_chrome_residue", WARNING, gxe.ExpectColumnValuesToNotMatchRegexList(
            column="body", regex_list=list(inputs.chrome_residue))))
    if inputs.alias_variants:
        rules.append(Rule("names_normalized", WARNING, gxe.ExpectColumnValuesToNotMatchRegex(
            column="body_normalized", regex=alias_variant_regex(inputs.alias_variants))))
    for rule in rules:
        rule.expectation.meta = {"name": rule.name, "severity": rule.severity}
    return rules


def alias_variant_regex(variants: Iterable[str]) -> str:
    """One regex matching any of ``variants`` as a whole word.

    >>> bool(re.search(alias_variant_regex(["Türkiye", "U.K."]), "the U.K. and Türkiye"))
    True
    >>> bool(re.search(alias_variant_regex(["Nato"]), "Natoli"))
    False
    """
    alternatives = "|".join(re.escape(v) for v in sorted(set(variants), key=len, reverse=True))
    return rf"(?<![\w])(?:{alternatives})(?![\w])"


def validation_frame(rows: Sequence[dict]) -> pd.DataFrame:
    """The columns the suite reads, one row per article, indexed 0..n-1 (GX reports row labels).

    Authors are exploded to one row per author in a side frame would break row labels, so the
    author checks run on the joined list and a precomputed site-name flag.
    """
    frame = pd.DataFrame({
        "doc_id": [r["doc_id"] for r in rows],
        "source_uri": [r["source_uri"] for r in rows],
        "input_format": [r["input_format"] for r in rows],
        "body": [r["body"] for r in rows],
        "body_normalized": [r["body_normalized"] for r in rows],
        "title": [r["title"] for r in rows],
        "language": [r["language"] for r in rows],
        "published_ts": pd.to_datetime([r["published"] for r in rows]),
        "author": ["; ".join(r["authors"]) or None for r in rows],
        "author_is_site_name": [_author_is_site_name(r["authors"], r.get("site"), r.get("site_name")) for r in rows],
        "removed_share": [float(r["removed_share"]) for r in rows],
    })
    return frame.reset_index(drop=True)


def _author_is_site_name(authors: Sequence[str], site: str | None, site_name: str | None) -> bool:
    names = {_squash(n) for n in (site_name, (site or "").split(".")[0], site) if n}
    return any(_squash(a) in names for a in authors if a)


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


@dataclass
class SuiteResult:
    """Per-row failures of one validation run."""

    critical: dict[int, list[str]] = field(default_factory=dict)
    warnings: dict[int, list[str]] = field(default_factory=dict)
    rule_failures: dict[str, int] = field(default_factory=dict)
    success: bool = True


class ArticleValidator:
    """An ephemeral GX context holding the suite; runs batches and builds Data Docs into ``docs_dir``."""

    def __init__(self, inputs: SuiteInputs, docs_dir: str | None = None):
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        self.docs_dir = docs_dir
        if docs_dir:
            self.context.add_data_docs_site("newsclean", site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": docs_dir},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            })
        batch = (self.context.data_sources.add_or_update_pandas("newsclean")
                 .add_dataframe_asset(SUITE_NAME).add_batch_definition_whole_dataframe("batch"))
        self.rules = {rule.name: rule for rule in build_rules(inputs)}
        suite = self.context.suites.add(gx.ExpectationSuite(name=SUITE_NAME))
        for rule in self.rules.values():
            suite.add_expectation(rule.expectation)
        definition = self.context.validation_definitions.add(gx.ValidationDefinition(name=SUITE_NAME, data=batch, suite=suite))
        self.checkpoint = self.context.checkpoints.add(gx.Checkpoint(
            name=SUITE_NAME, validation_definitions=[definition], actions=[],
            result_format={"result_format": "COMPLETE"}))

    def validate(self, frame: pd.DataFrame) -> SuiteResult:
        outcome = SuiteResult()
        if frame.empty:
            return outcome
        run = self.checkpoint.run(batch_parameters={"dataframe": frame})
        for validation in run.run_results.values():
            outcome.success = outcome.success and validation.success
            for result in validation.results:
                meta = result.expectation_config.meta or {}
                name, severity = meta.get("name", result.expectation_config.type), meta.get("severity", CRITICAL)
                if result.success:
                    continue
                rows = result.result.get("unexpected_index_list")
                if rows is None:  # an expectation that raised: every row is suspect
                    rows = list(frame.index)
                target = outcome.critical if severity == CRITICAL else outcome.warnings
                for label in dict.fromkeys(rows):
                    target.setdefault(int(label), []).append(name)
                outcome.rule_failures[name] = outcome.rule_failures.get(name, 0) + len(set(rows))
        return outcome

    def build_docs(self) -> None:
        if self.docs_dir:
            self.context.build_data_docs()
