"""The expectation suite for the ``articles`` table, thresholds as named constants, and its GX project.

The GX expectations are here; the plain Python checks (list columns, lexicon patterns) are in
:mod:`expectations.python_checks`; what a rule and a verdict are, in :mod:`expectations.rules`.

Every expectation carries ``meta.severity``: ``critical`` failures send the row to quarantine,
``warning`` failures keep the row and are counted in the report. The flow, not the suite,
acts on the severities. Every column of the articles table is covered by at least one rule
(``Rule.fields`` says which; a test holds the suite to the schema).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from expectations.python_checks import LIST_COLUMNS, lexicon_rules, list_column_rules
from expectations.rules import CRITICAL, WARNING, Rule, SuiteInputs, SuiteResult, Verdict  # noqa: F401 (public here too)

SUITE_NAME = "articles"

# --- thresholds ---------------------------------------------------------------------------
# Below this the "article" is a fragment (a label, a caption): nothing analytics can use.
MIN_BODY_CHARS = 20
# Shorter bodies are kept but counted: briefs exist, but many are extraction misses.
SHORT_BODY_CHARS = 200
# No news article is this long; a body above it is a runaway page or a concatenation.
MAX_BODY_CHARS = 500_000
MIN_TITLE_CHARS = 3
MAX_TITLE_CHARS = 400
MAX_SITE_NAME_CHARS = 200
EARLIEST_PUBLISHED = dt.date(1990, 1, 1)
MAX_REMOVED_SHARE = 0.95  # a document that lost more than this share of its lines is suspicious
INPUT_FORMATS = ("text", "html")
# Fields the flow fills after validation (story clustering runs on validated rows): the suite never
# sees their values, so they are reported as not checked rather than counted as covered.
ASSIGNED_AFTER_VALIDATION = ("story_id", "near_duplicate_of")
DOC_ID = r"^[0-9a-f]{32}$"
SITE = r"^[^\s/]+$"  # a host name or a folder name: one token, no path
URL = r"^https?://[^\s/]+\S*$"
# ISO 639-1 (184 codes, "bh" included as the standard still lists it); a detector's ISO 639-3
# code such as "arz" or "zxx" is not one of them.
ISO_639_1 = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz
ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik
io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml
mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd
se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi
vo wa wo xh yi yo za zh zu
""".split())
# Exactly one code: \Z, not $, which would also accept a trailing newline.
ISO_639_1_REGEX = "^(?:" + "|".join(sorted(ISO_639_1)) + r")\Z"
# Result format: row labels of every failure, but only a few sample values (bodies are long).
RESULT_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": 5}


# The articles table's scalar columns the GX suite reads (the list columns go to the Python checks).
GX_COLUMNS = ("doc_id", "source_uri", "input_format", "site", "site_name", "url", "title", "language", "body",
              "body_normalized", "published", "published_at", "removed_share", "ingested_at", "pipeline_version",
              "stripper", "run_id")


def build_rules(inputs: SuiteInputs, *, today: dt.date | None = None) -> list[Rule]:
    """All checks of the articles suite, each with a name, a severity and the fields it covers: the GX
    expectations on the table's scalar columns, then the Python checks (list columns, lexicon patterns)."""
    from great_expectations.expectations.metadata_types import FailureSeverity

    rules = gx_rules(today=today) + list_column_rules() + lexicon_rules(inputs)
    for item in rules:
        if item.expectation is not None:
            item.expectation.meta = {"name": item.name, "severity": item.severity, "fields": list(item.fields)}
            # GX's own severity field too (saved in the suite): a warning that fails still marks the
            # validation result failed in Data Docs, but a reader of the suite sees which rules only warn.
            item.expectation.severity = FailureSeverity(item.severity)
    return rules


def _expectation(name: str, severity: str, expectation, *fields: str) -> Rule:
    return Rule(name, severity, expectation, fields or (expectation.column,))


def gx_rules(*, today: dt.date | None = None) -> list[Rule]:
    """The GX expectations on the articles table's scalar columns (published dates up to ``today`` + 1 day)."""
    import great_expectations.expectations as gxe

    earliest = dt.datetime.combine(EARLIEST_PUBLISHED, dt.time())
    tomorrow = dt.datetime.combine((today or dt.date.today()) + dt.timedelta(days=1), dt.time())
    return [
        _expectation("doc_id_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="doc_id")),
        _expectation("doc_id_unique", CRITICAL, gxe.ExpectColumnValuesToBeUnique(column="doc_id")),
        _expectation("doc_id_format", CRITICAL, gxe.ExpectColumnValuesToMatchRegex(column="doc_id", regex=DOC_ID)),
        _expectation("source_uri_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="source_uri")),
        _expectation("input_format_known", CRITICAL, gxe.ExpectColumnValuesToBeInSet(
            column="input_format", value_set=list(INPUT_FORMATS))),
        _expectation("body_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="body")),
        _expectation("body_length", CRITICAL, gxe.ExpectColumnValueLengthsToBeBetween(
            column="body", min_value=MIN_BODY_CHARS, max_value=MAX_BODY_CHARS), "body", "word_count"),
        _expectation("body_not_short", WARNING, gxe.ExpectColumnValueLengthsToBeBetween(
            column="body", min_value=SHORT_BODY_CHARS)),
        _expectation("body_normalized_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="body_normalized")),
        _expectation("published_in_range", CRITICAL, gxe.ExpectColumnValuesToBeBetween(
            column="published", min_value=earliest, max_value=tomorrow)),
        _expectation("published_at_in_range", WARNING, gxe.ExpectColumnValuesToBeBetween(
            column="published_at", min_value=earliest, max_value=tomorrow)),
        _expectation("language_present", WARNING, gxe.ExpectColumnValuesToNotBeNull(column="language")),
        # A regex, not a 184-value set: GX rebuilds each expectation's configuration about 140 times
        # per run and a long value_set made this one rule cost 20 ms per batch (the rest cost 3).
        _expectation("language_iso_639_1", CRITICAL, gxe.ExpectColumnValuesToMatchRegex(
            column="language", regex=ISO_639_1_REGEX)),
        _expectation("title_present", WARNING, gxe.ExpectColumnValuesToNotBeNull(column="title")),
        _expectation("title_length", WARNING, gxe.ExpectColumnValueLengthsToBeBetween(
            column="title", min_value=MIN_TITLE_CHARS, max_value=MAX_TITLE_CHARS)),
        _expectation("site_present", WARNING, gxe.ExpectColumnValuesToNotBeNull(column="site")),
        _expectation("site_one_token", WARNING, gxe.ExpectColumnValuesToMatchRegex(column="site", regex=SITE)),
        _expectation("site_name_length", WARNING, gxe.ExpectColumnValueLengthsToBeBetween(
            column="site_name", min_value=1, max_value=MAX_SITE_NAME_CHARS)),
        _expectation("url_http", WARNING, gxe.ExpectColumnValuesToMatchRegex(column="url", regex=URL)),
        _expectation("removed_share_valid", CRITICAL, gxe.ExpectColumnValuesToBeBetween(
            column="removed_share", min_value=0.0, max_value=1.0)),
        _expectation("removed_share_plausible", WARNING, gxe.ExpectColumnValuesToBeBetween(
            column="removed_share", min_value=0.0, max_value=MAX_REMOVED_SHARE), "removed_share", "chrome"),
        _expectation("ingested_at_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="ingested_at")),
        _expectation("pipeline_version_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="pipeline_version")),
        _expectation("stripper_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="stripper")),
        _expectation("run_id_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="run_id")),
    ]



def validation_frame(rows: Sequence[dict]) -> pd.DataFrame:
    """The rows as the suite reads them: the articles table's columns, one row per article, indexed 0..n-1
    (GX reports row labels, which map failures back to articles).

    Scalar columns keep their names and values; dates and timestamps become naive datetime64[ns] (the
    only datetimes GX compares vectorised), texts object columns and numbers float64 (nullable Int64 goes
    through a Python call per row). List columns (authors, captions, ...) stay lists for the Python checks.
    """
    def column(key: str) -> pd.Series:
        return pd.Series([r.get(key) for r in rows], dtype=object)

    frame = pd.DataFrame({
        **{key: column(key) for key in ("doc_id", "source_uri", "input_format", "site", "site_name", "url",
                                         "title", "language", "body", "body_normalized")},
        "published": _gx_datetimes(pd.Series(pd.to_datetime([r.get("published") for r in rows]))),
        "published_at": _gx_datetimes(_naive_utc([r.get("published_at") for r in rows])),
        # None becomes NaN, which GX counts as null
        "removed_share": pd.Series([float(r.get("removed_share") or 0.0) for r in rows], dtype="float64"),
        "ingested_at": column("ingested_at"),
        "pipeline_version": column("pipeline_version"),
        "stripper": column("stripper"),
        "run_id": column("run_id"),
        **{key: column(key) for key in LIST_COLUMNS},
    })
    return frame.reset_index(drop=True)


# Inside pandas' nanosecond range, the only datetimes GX compares vectorised.
_NS_FIRST, _NS_LAST = pd.Timestamp.min.ceil("s"), pd.Timestamp.max.floor("s")


def _gx_datetimes(series: pd.Series) -> pd.Series:
    # A date outside 1677..2262 is clipped to that edge: still outside the suite's 1990..tomorrow,
    # so the verdict is the same (the sample value in Data Docs shows the edge, not the input).
    return series.clip(_NS_FIRST, _NS_LAST).astype("datetime64[ns]")


def _naive_utc(values: list) -> pd.Series:
    # GX compares against naive bounds; an aware column would make the comparison raise.
    series = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
    return series.dt.tz_localize(None)


def not_checked(inputs: SuiteInputs) -> list[str]:
    """What the suite cannot check in a run with ``inputs``, one line each, for the run report.

    >>> [line.split(":")[0] for line in not_checked(SuiteInputs(chrome_residue=["x"]))]
    ['names_normalized', 'story_id', 'near_duplicate_of']
    """
    missing = [] if inputs.chrome_residue else ["no_chrome_residue: the chrome lexicon gave no residue patterns"]
    if not inputs.alias_variants:
        missing.append("names_normalized: the alias table gave no variants")
    return missing + [f"{name}: assigned after validation (story clustering)" for name in ASSIGNED_AFTER_VALIDATION]


# Names inside the GX project (see ArticleValidator).
DATA_SOURCE = "newsclean"
DATA_ASSET = "articles"  # shown as "Data asset" in Data Docs
BATCH_DEFINITION = "commit"  # each commit's rows are one whole-dataframe batch
CHECKPOINT = "articles"
DOCS_SITE = "newsclean"


class ArticleValidator:
    """The suite in a GX context, run per commit through a Checkpoint; Data Docs built into ``docs_dir``.

    With ``project_root`` the context is a file-backed GX project in ``project_root/gx``: the suite
    (expectations/articles.json), the validation definition, the Checkpoint and every validation result
    (uncommitted/validations/articles/RUN_ID/...) are saved there, and a later run on the same output
    reuses them, so Data Docs list every run. Without it the context lives in memory (tests, benchmarks).
    """

    def __init__(self, inputs: SuiteInputs, docs_dir: str | None = None, *, project_root: str | None = None,
                 today: dt.date | None = None):
        import logging

        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        # That module sets its own logger to INFO and says where each docs site goes: noise in a run.
        logging.getLogger(ProgressBarsConfig.__module__).setLevel(logging.WARNING)
        if project_root:
            self.context = gx.get_context(mode="file", project_root_dir=project_root)
        else:
            self.context = gx.get_context(mode="ephemeral")
        bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        if self.context.variables.progress_bars != bars:
            self.context.variables.progress_bars = bars
            if project_root:
                self.context.variables.save()
        self.docs_dir = docs_dir
        self.rows_validated = 0
        self.validated: list = []  # ValidationResultIdentifiers of this validator's runs, for Data Docs
        if docs_dir:
            _use_docs_site(self.context, docs_dir)
        self.inputs = inputs
        self.rules = {rule.name: rule for rule in build_rules(inputs, today=today)}
        self.not_checked = not_checked(inputs)
        # The suite is saved again each run: thresholds move with the date and the seeds may have changed.
        suite = self.context.suites.add_or_update(gx.ExpectationSuite(
            name=SUITE_NAME, expectations=[r.expectation for r in self.rules.values() if r.expectation is not None],
            meta={"notes": "newsclean articles table; rules checked in Python are listed in each run report"}))
        definition = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=SUITE_NAME, data=_batch_definition(self.context), suite=suite))
        # No actions: Data Docs are built once per run (build_docs), not once per commit.
        self.checkpoint = self.context.checkpoints.add_or_update(gx.Checkpoint(
            name=CHECKPOINT, validation_definitions=[definition], actions=[], result_format=RESULT_FORMAT))

    def validate(self, frame: pd.DataFrame, *, run_name: str | None = None) -> SuiteResult:
        """Run the Checkpoint on ``frame`` (its result is stored under ``run_name``) and the Python checks."""
        outcome = SuiteResult(rows=len(frame))
        if frame.empty:
            return outcome
        self.rows_validated += len(frame)
        result = self.checkpoint.run(batch_parameters={"dataframe": frame[list(GX_COLUMNS)]},
                                     run_id=_run_identifier(run_name))
        outcome.success = result.success
        self.validated += list(result.run_results)
        for validation in result.run_results.values():
            for item in validation.results:
                if item.success:
                    continue
                meta = item.expectation_config.meta or {}
                name, severity = meta.get("name", item.expectation_config.type), meta.get("severity", CRITICAL)
                rows = item.result.get("unexpected_index_list")
                if rows is None:
                    # The expectation raised: a suite or data-type bug, not a verdict on the rows. Say so
                    # in the reason and hold every row back, since none of them was checked.
                    name, severity, rows = f"suite_error:{name}", CRITICAL, list(frame.index)
                outcome.add(name, severity, rows)
        for rule in self.rules.values():
            if rule.check is not None:
                failing, broken = rule.check(frame)
                if failing:
                    outcome.success = outcome.success and rule.severity != CRITICAL
                    outcome.add(rule.name, rule.severity, failing)
                if broken:  # as for an expectation that raised: those rows were not checked
                    outcome.success = False
                    outcome.add(f"suite_error:{rule.name}", CRITICAL, broken)
        return outcome

    def validate_rows(self, rows: Sequence[dict], *, run_name: str | None = None) -> SuiteResult:
        """:meth:`validate` on articles-table rows (see :func:`validation_frame`); a verdict per row, in order."""
        return self.validate(validation_frame(rows), run_name=run_name)

    def build_docs(self, *, everything: bool = False) -> str | None:
        """Render the suite and this validator's validation results as Data Docs and update their index;
        with ``everything``, every stored result again. Return the index path."""
        if not self.docs_dir:
            return None
        from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

        # Only the new pages: rendering every stored result again would grow with the project's history.
        resources = None if everything else [ExpectationSuiteIdentifier(name=SUITE_NAME), *self.validated]
        self.context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=resources)
        return f"{self.docs_dir.rstrip('/')}/index.html"


def _batch_definition(context):
    """The pandas data source, the ``articles`` asset and its whole-dataframe batch, made once per project."""
    try:
        source = context.data_sources.get(DATA_SOURCE)
    except (KeyError, ValueError, LookupError):
        source = context.data_sources.add_pandas(DATA_SOURCE)
    try:
        asset = source.get_asset(DATA_ASSET)
    except LookupError:
        asset = source.add_dataframe_asset(DATA_ASSET)
    try:
        return asset.get_batch_definition(BATCH_DEFINITION)
    except (KeyError, LookupError):
        return asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)


def _use_docs_site(context, docs_dir: str) -> None:
    """Make ``docs_dir`` the project's one Data Docs site (GX's default site under uncommitted/ is dropped).

    In a file-backed project the folder is saved relative to the project, so the output can be moved.
    """
    import os

    root = getattr(context, "root_directory", None)
    base = os.path.relpath(docs_dir, root) if root and not docs_dir.startswith(("s3://", "gs://")) else docs_dir
    config = _site_config(base)
    sites = context.get_config().data_docs_sites or {}
    for name in [n for n in sites if n != DOCS_SITE]:
        context.delete_data_docs_site(name)
    if DOCS_SITE not in sites:
        context.add_data_docs_site(DOCS_SITE, site_config=config)
    elif sites[DOCS_SITE] != config:
        context.update_data_docs_site(DOCS_SITE, site_config=config)


def _site_config(docs_dir: str) -> dict:
    view = {"module_name": "expectations.data_docs"}
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": docs_dir},
        # Views that escape every value taken from the data (GX inserts them as raw HTML).
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder",
                               "view": {**view, "class_name": "EscapingIndexPageView"}},
        "site_section_builders": {
            "expectations": {"view": {**view, "class_name": "EscapingPageView"}},
            "validations": {"view": {**view, "class_name": "EscapingPageView"},
                            "renderer": {**view, "class_name": "NamedAssetValidationPage"}},
            "profiling": "None",
        },
    }


def _run_identifier(run_name: str | None):
    """GX's id of a validation run: our run id as its name, and a run time given explicitly.

    Without ``run_time`` GX parses the *name* with dateutil, which reads a run id such as
    ``20261207T154048Z-6380ad`` as a time with a UTC offset of -63:80 and fails the commit with "offset must be a
    timedelta strictly between ...". The time is the run's start, read from the run id, so every result of one
    run sorts together; a name that is not a run id gets the current time.

    >>> _run_identifier("20261207T154048Z-6380ad").to_tuple()
    ('20261207T154048Z-6380ad', '20261207T154048.000000Z')
    """
    if not run_name:
        return None
    from great_expectations.core.run_identifier import RunIdentifier

    try:
        run_time = dt.datetime.strptime(run_name[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        run_time = dt.datetime.now(dt.timezone.utc)
    return RunIdentifier(run_name=run_name, run_time=run_time)
