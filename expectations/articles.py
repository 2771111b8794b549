"""The expectation suite for the ``articles`` table, thresholds as named constants.

Every expectation carries ``meta.severity``: ``critical`` failures send the row to quarantine,
``warning`` failures keep the row and are counted in the report. The flow, not the suite,
acts on the severities. Every column of the articles table is covered by at least one rule
(``Rule.fields`` says which; a test holds the suite to the schema).
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

# --- thresholds ---------------------------------------------------------------------------
# Below this the "article" is a fragment (a label, a caption): nothing analytics can use.
MIN_BODY_CHARS = 20
# Shorter bodies are kept but counted: briefs exist, but many are extraction misses.
SHORT_BODY_CHARS = 200
# No news article is this long; a body above it is a runaway page or a concatenation.
MAX_BODY_CHARS = 500_000
MIN_TITLE_CHARS = 3
MAX_TITLE_CHARS = 400
MAX_AUTHOR_CHARS = 100  # one byline name; longer is a sentence caught as an author
MAX_SITE_NAME_CHARS = 200
MAX_CAPTION_CHARS = 1_000  # a caption is a sentence or two, not a paragraph of the article
MAX_LABEL_CHARS = 200  # one category or tag
EARLIEST_PUBLISHED = dt.date(1990, 1, 1)
# Chrome residue is looked for in lines up to this long (about 20 words): chrome is labels, buttons, bylines
# and one-line notices, while paragraphs are longer. Each line is tried against every residue pattern, so
# scanning only these (a small share of a body) keeps 100,000 rows in seconds; longer lines go unchecked.
MAX_RESIDUE_LINE_CHARS = 120
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
# A byline is a person, not a clock: "5 minutes ago", "12:30", "Updated 2024".
AUTHOR_NOT_A_TIME = r"(?i)(?:\d|\bago\b|\bupdated\b|\bminutes?\b|\bhours?\b)"
AUTHOR_NOT_STAFF = r"(?i)(?:^|; )(?:staff|editor|editors|admin|newsroom|news desk|reporter)(?:$|; )"
# Replacement characters mean bytes were lost in decoding: the text is readable but not verbatim.
LOSSY_REPAIR = r"replaced_undecodable"
# Result format: row labels of every failure, but only a few sample values (bodies are long).
RESULT_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": 5}


@dataclass(frozen=True)
class Rule:
    """One expectation with the name shown in quarantine reasons, its severity and the table fields it checks."""

    name: str
    severity: str
    expectation: object
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class SuiteInputs:
    """Reference data the suite needs, derived from seeds/ by the flow."""

    chrome_residue: Sequence[str] = ()  # regexes that must not match anywhere in `body`
    alias_variants: Sequence[str] = ()  # non-canonical spellings that must not remain in `body_normalized`


def build_rules(inputs: SuiteInputs, *, today: dt.date | None = None) -> list[Rule]:
    """All expectations of the articles suite, each with a name, a severity and the fields it covers."""
    import great_expectations.expectations as gxe

    earliest = dt.datetime.combine(EARLIEST_PUBLISHED, dt.time())
    tomorrow = dt.datetime.combine((today or dt.date.today()) + dt.timedelta(days=1), dt.time())

    def rule(name, severity, expectation, *fields):
        return Rule(name, severity, expectation, fields or (expectation.column,))

    rules = [
        rule("doc_id_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="doc_id")),
        rule("doc_id_unique", CRITICAL, gxe.ExpectColumnValuesToBeUnique(column="doc_id")),
        rule("doc_id_format", CRITICAL, gxe.ExpectColumnValuesToMatchRegex(column="doc_id", regex=DOC_ID)),
        rule("source_uri_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="source_uri")),
        rule("input_format_known", CRITICAL, gxe.ExpectColumnValuesToBeInSet(
            column="input_format", value_set=list(INPUT_FORMATS))),
        rule("body_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="body_chars"), "body"),
        rule("body_length", CRITICAL, gxe.ExpectColumnValuesToBeBetween(
            column="body_chars", min_value=MIN_BODY_CHARS, max_value=MAX_BODY_CHARS), "body", "word_count"),
        rule("body_not_short", WARNING, gxe.ExpectColumnValuesToBeBetween(
            column="body_chars", min_value=SHORT_BODY_CHARS), "body"),
        rule("body_normalized_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(
            column="body_normalized_chars"), "body_normalized"),
        rule("published_in_range", CRITICAL, gxe.ExpectColumnValuesToBeBetween(
            column="published_ts", min_value=earliest, max_value=tomorrow), "published"),
        rule("published_at_in_range", WARNING, gxe.ExpectColumnValuesToBeBetween(
            column="published_at_ts", min_value=earliest, max_value=tomorrow), "published_at"),
        rule("language_present", WARNING, gxe.ExpectColumnValuesToNotBeNull(column="language")),
        # A regex, not a 184-value set: GX rebuilds each expectation's configuration about 140 times
        # per run and a long value_set made this one rule cost 20 ms per batch (the rest cost 3).
        rule("language_iso_639_1", CRITICAL, gxe.ExpectColumnValuesToMatchRegex(
            column="language", regex=ISO_639_1_REGEX)),
        rule("title_present", WARNING, gxe.ExpectColumnValuesToNotBeNull(column="title")),
        rule("title_length", WARNING, gxe.ExpectColumnValueLengthsToBeBetween(
            column="title", min_value=MIN_TITLE_CHARS, max_value=MAX_TITLE_CHARS)),
        rule("authors_not_times", WARNING, gxe.ExpectColumnValuesToNotMatchRegex(
            column="author", regex=AUTHOR_NOT_A_TIME), "authors"),
        rule("authors_not_staff", WARNING, gxe.ExpectColumnValuesToNotMatchRegex(
            column="author", regex=AUTHOR_NOT_STAFF), "authors"),
        rule("authors_not_site_name", WARNING, gxe.ExpectColumnValuesToBeInSet(
            column="author_is_site_name", value_set=[False]), "authors"),
        rule("author_length", WARNING, gxe.ExpectColumnValuesToBeBetween(
            column="author_longest", min_value=2, max_value=MAX_AUTHOR_CHARS), "authors"),
        rule("site_present", WARNING, gxe.ExpectColumnValuesToNotBeNull(column="site")),
        rule("site_one_token", WARNING, gxe.ExpectColumnValuesToMatchRegex(column="site", regex=SITE)),
        rule("site_name_length", WARNING, gxe.ExpectColumnValueLengthsToBeBetween(
            column="site_name", min_value=1, max_value=MAX_SITE_NAME_CHARS)),
        rule("url_http", WARNING, gxe.ExpectColumnValuesToMatchRegex(column="url", regex=URL)),
        rule("captions_length", WARNING, gxe.ExpectColumnValuesToBeBetween(
            column="caption_longest", min_value=1, max_value=MAX_CAPTION_CHARS), "captions"),
        rule("labels_length", WARNING, gxe.ExpectColumnValuesToBeBetween(
            column="label_longest", min_value=1, max_value=MAX_LABEL_CHARS), "categories", "tags"),
        rule("entities_well_formed", WARNING, gxe.ExpectColumnValuesToBeInSet(
            column="entities_ok", value_set=[True]), "entities"),
        rule("removed_share_valid", CRITICAL, gxe.ExpectColumnValuesToBeBetween(
            column="removed_share", min_value=0.0, max_value=1.0)),
        rule("removed_share_plausible", WARNING, gxe.ExpectColumnValuesToBeBetween(
            column="removed_share", min_value=0.0, max_value=MAX_REMOVED_SHARE), "removed_share", "chrome"),
        rule("text_fully_decoded", WARNING, gxe.ExpectColumnValuesToNotMatchRegex(
            column="repairs_joined", regex=LOSSY_REPAIR), "repairs"),
        rule("ingested_at_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="ingested_at")),
        rule("pipeline_version_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="pipeline_version")),
        rule("run_id_present", CRITICAL, gxe.ExpectColumnValuesToNotBeNull(column="run_id")),
    ]
    if inputs.chrome_residue:
        # One alternation, not a list: a single pass over each body instead of one per pattern
        # keeps 100,000 rows inside the benchmark's budget.
        rules.append(rule("no_chrome_residue", WARNING, gxe.ExpectColumnValuesToNotMatchRegexList(
            column="body_short_lines", regex_list=[residue_regex(inputs.chrome_residue)]), "body", "chrome"))
    if inputs.alias_variants:
        rules.append(rule("names_normalized", WARNING, gxe.ExpectColumnValuesToNotMatchRegex(
            column="alias_candidates", regex=alias_variant_regex(inputs.alias_variants)), "body_normalized", "entities"))
    for item in rules:
        item.expectation.meta = {"name": item.name, "severity": item.severity, "fields": list(item.fields)}
    return rules


def residue_regex(patterns: Iterable[str]) -> str:
    r"""One regex matching where any of ``patterns`` matches.

    Line-anchored patterns (``(?m)^...``) share one ``^`` so the engine tries them only at line
    starts, not at every character: with ~90 seed patterns that is the difference between
    seconds and minutes on 100,000 bodies.

    >>> residue_regex([r"(?im)^advertisement$", r"(?i)\d+ min read"])
    '(?m:^)(?:(?im:advertisement$))|(?:(?i:\\d+ min read))'
    >>> bool(re.search(_, "Text\nAdvertisement\nMore")), bool(re.search(_, "Ad advertisement"))
    (True, False)
    """
    anchored, anywhere = [], []
    for pattern in dict.fromkeys(patterns):
        flags, rest = _split_flags(pattern)
        if rest.startswith("^") and "m" in flags:
            anchored.append(f"(?{flags}:{rest[1:]})")
        else:
            anywhere.append(f"(?{flags}:{rest})" if flags else f"(?:{rest})")
    parts = [f"(?m:^)(?:{'|'.join(anchored)})"] if anchored else []
    if anywhere:
        parts.append(f"(?:{'|'.join(anywhere)})")
    return "|".join(parts)


def _matches_blank(regex: str) -> bool:
    r"""Whether ``regex`` matches an empty or whitespace-only line.

    >>> _matches_blank(r"(?im)^[ \t]*advertisement[ \t]*$"), _matches_blank(r"(?m)^[ \t]*$")
    (False, True)
    """
    compiled = re.compile(regex)
    return any(compiled.search(blank) for blank in ("", " ", "\t", "\u00a0", "\r", "\n", " \n "))


def _split_flags(pattern: str) -> tuple[str, str]:
    """A leading global ``(?im)`` split off, so it can be scoped to its own alternative."""
    match = re.match(r"^\(\?([imsx]+)\)", pattern)
    return (match.group(1), pattern[match.end():]) if match else ("", pattern)


def alias_variant_regex(variants: Iterable[str]) -> str:
    """One regex matching any of ``variants`` as a whole word.

    Each alternative starts with its literal first character and checks the character before
    it afterwards, so the regex engine can skip every position whose character starts no
    variant (a leading look-behind would make it try all of them at every character).

    >>> bool(re.search(alias_variant_regex(["Türkiye", "U.K."]), "the U.K. and Türkiye"))
    True
    >>> bool(re.search(alias_variant_regex(["Nato"]), "Natoli")), bool(re.search(alias_variant_regex(["Nato"]), "ANato"))
    (False, False)
    """
    def alternative(variant: str) -> str:
        first, rest = re.escape(variant[0]), re.escape(variant[1:])
        return f"{first}(?<!\\w{first}){rest}" if re.match(r"\w", variant[0]) else f"{first}{rest}"

    ordered = sorted(set(v for v in variants if v), key=len, reverse=True)
    return "(?:" + "|".join(alternative(v) for v in ordered) + ")(?!\\w)"


def literal_trie_regex(words: Iterable[str]) -> str:
    r"""A regex matching where any of ``words`` occurs literally, as a prefix tree of alternatives.

    A word that is the prefix of another ends its branch (for "does any occur" the shorter one
    suffices), and each position tries one alternative per distinct next character, not per word.

    >>> literal_trie_regex(["Kiev", "Kyiv", "Kievan Rus", "U.K."])
    'K(?:iev|yiv)|U\\.K\\.'
    >>> bool(re.search(_, "in Kyivska")), bool(re.search(_, "UK"))
    (True, False)
    """
    trie: dict = {}
    for word in set(w for w in words if w):
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def branch(node: dict) -> str:
        if "" in node:
            return ""
        alternatives = [re.escape(char) + branch(child) for char, child in sorted(node.items())]
        return alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"

    top = [re.escape(char) + branch(child) for char, child in sorted(trie.items())]
    return "|".join(top) if top else "(?!)"


class AliasCandidates:
    r"""Snippets of a text around every literal occurrence of an alias variant, one character either side.

    The word-boundary regex needs only those characters, so running it on the snippets gives the same
    verdict as running it on the whole text, at Aho-Corasick speed instead of a regex pass over the corpus.

    >>> AliasCandidates(["Türkiye", "U.K."]).find("In Türkiye and the U.K., Türkiyes")
    ' Türkiye \n U.K.,\n Türkiyes'
    >>> AliasCandidates(["Nato"]).find("nothing here") is None
    True
    >>> AliasCandidates(["Dynamo Kiev", "Kiev"]).find("XDynamo Kiev")  # overlapping variants: both kept
    'XDynamo Kiev\n Kiev'
    """

    def __init__(self, variants: Iterable[str]):
        import ahocorasick

        self._automaton = ahocorasick.Automaton()
        for variant in set(v for v in variants if v):
            self._automaton.add_word(variant, len(variant))
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()
            # Most texts hold no variant at all; a regex over the variants' prefix tree says so about
            # three times faster than walking the automaton over every character.
            self._any = re.compile(literal_trie_regex(variants))

    def find(self, text: str | None) -> str | None:
        if self._empty or not text or not self._any.search(text):
            return None
        snippets = [text[max(0, end - length):end + 2] for end, length in self._automaton.iter(text)]
        return "\n".join(snippets) if snippets else None


def validation_frame(rows: Sequence[dict]) -> pd.DataFrame:
    """The columns the suite reads, one row per article, indexed 0..n-1 (GX reports row labels).

    List fields become scalars the expectations can test (joined authors, longest caption) so one
    row stays one row: exploding them would break the row labels that map failures back to articles.
    Texts are object columns and numbers float64, datetimes datetime64[ns]: GX compares those
    vectorised (nullable Int64 and second/microsecond datetimes go through a Python call per row),
    and same-typed columns share one block, so GX's per-metric row filters copy a few blocks, not 25.
    """
    def texts(key: str) -> pd.Series:
        return pd.Series([r.get(key) for r in rows], dtype=object)

    def numbers(values) -> pd.Series:
        return pd.Series(values, dtype="float64")  # None becomes NaN, which GX counts as null

    def longest(values) -> float | None:
        return max(map(len, values)) if values else None

    is_site_name = _SiteNameCheck()
    frame = pd.DataFrame({
        "doc_id": texts("doc_id"),
        "source_uri": texts("source_uri"),
        "input_format": texts("input_format"),
        "site": texts("site"),
        "site_name": texts("site_name"),
        "url": texts("url"),
        # Full texts stay Python objects (no Arrow copy of the corpus); the validator derives the small
        # columns GX reads from them: lengths, short lines, alias candidates.
        "body": texts("body"),
        "body_normalized": texts("body_normalized"),
        "title": texts("title"),
        "language": texts("language"),
        "published_ts": _gx_datetimes(pd.Series(pd.to_datetime([r.get("published") for r in rows]))),
        "published_at_ts": _gx_datetimes(_naive_utc([r.get("published_at") for r in rows])),
        "author": pd.Series(["; ".join(r.get("authors") or ()) or None for r in rows], dtype=object),
        "author_longest": numbers([longest(r.get("authors")) for r in rows]),
        "author_is_site_name": pd.Series([is_site_name(r.get("authors"), r.get("site"), r.get("site_name"))
                                          for r in rows], dtype=bool),
        "caption_longest": numbers([longest(r.get("captions")) for r in rows]),
        "label_longest": numbers([longest([*(r.get("categories") or ()), *(r.get("tags") or ())]) for r in rows]),
        "entities_ok": pd.Series([_entities_ok(r.get("entities") or ()) for r in rows], dtype=bool),
        "removed_share": numbers([float(r.get("removed_share") or 0.0) for r in rows]),
        "repairs_joined": pd.Series(["; ".join(r.get("repairs") or ()) for r in rows], dtype=object),
        "ingested_at": pd.Series([r.get("ingested_at") for r in rows], dtype=object),
        "pipeline_version": texts("pipeline_version"),
        "run_id": texts("run_id"),
    })
    return frame.reset_index(drop=True)


# Columns of the validation frame that GX never reads: the validator derives what the suite checks.
FULL_TEXT_COLUMNS = ("body", "body_normalized")
# Inside pandas' nanosecond range, the only datetimes GX compares vectorised.
_NS_FIRST, _NS_LAST = pd.Timestamp.min.ceil("s"), pd.Timestamp.max.floor("s")


def _gx_datetimes(series: pd.Series) -> pd.Series:
    # A date outside 1677..2262 is clipped to that edge: still outside the suite's 1990..tomorrow,
    # so the verdict is the same (the sample value in Data Docs shows the edge, not the input).
    return series.clip(_NS_FIRST, _NS_LAST).astype("datetime64[ns]")


def _short_lines(body: str | None, *, keep_blank: bool = False) -> str:
    r"""The lines of ``body`` short enough to be chrome, blank ones left out unless ``keep_blank``.

    >>> _short_lines("A heading\n\n" + "x" * 200 + "\nAdvertisement")
    'A heading\nAdvertisement'
    """
    if not body:
        return ""
    if keep_blank:
        return "\n".join([line for line in body.splitlines() if len(line) <= MAX_RESIDUE_LINE_CHARS])
    return "\n".join([line for line in body.splitlines()
                      if len(line) <= MAX_RESIDUE_LINE_CHARS and line and not line.isspace()])


def _naive_utc(values: list) -> pd.Series:
    # GX compares against naive bounds; an aware column would make the comparison raise.
    series = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
    return series.dt.tz_localize(None)


def _entities_ok(entities: Sequence[dict]) -> bool:
    return all(e.get("name") and e.get("kind") and (e.get("mentions") or 0) >= 1 for e in entities)


class _SiteNameCheck:
    """Whether an author is the site's own name; names and squashed spellings cached (a batch repeats them).

    >>> check = _SiteNameCheck()
    >>> check(["River News"], "river-news.example", "River News"), check(["Jane Doe"], "river-news.example", None)
    (True, False)
    """

    def __init__(self):
        self._names: dict[tuple, frozenset] = {}
        self._squashed: dict[str, str] = {}

    def __call__(self, authors: Sequence[str] | None, site: str | None, site_name: str | None) -> bool:
        if not authors:
            return False
        names = self._names.get((site, site_name))
        if names is None:
            names = self._names[(site, site_name)] = frozenset(
                self._squash(n) for n in (site_name, (site or "").split(".")[0], site) if n) - {""}
        return any(self._squash(a) in names for a in authors if a)

    def _squash(self, text: str) -> str:
        squashed = self._squashed.get(text)
        if squashed is None:
            squashed = self._squashed[text] = _squash(text)
        return squashed


_NOT_WORD = re.compile(r"[\W_]+")


def _squash(text: str) -> str:
    return _NOT_WORD.sub("", text.lower())


def not_checked(inputs: SuiteInputs) -> list[str]:
    """What the suite cannot check in a run with ``inputs``, one line each, for the run report.

    >>> [line.split(":")[0] for line in not_checked(SuiteInputs(chrome_residue=["x"]))]
    ['names_normalized', 'story_id', 'near_duplicate_of']
    """
    missing = [] if inputs.chrome_residue else ["no_chrome_residue: the chrome lexicon gave no residue patterns"]
    if not inputs.alias_variants:
        missing.append("names_normalized: the alias table gave no variants")
    return missing + [f"{name}: assigned after validation (story clustering)" for name in ASSIGNED_AFTER_VALIDATION]


@dataclass
class SuiteResult:
    """Per-row failures of one validation run."""

    critical: dict[int, list[str]] = field(default_factory=dict)
    warnings: dict[int, list[str]] = field(default_factory=dict)
    rule_failures: dict[str, int] = field(default_factory=dict)
    success: bool = True


class ArticleValidator:
    """An ephemeral GX context holding the suite; runs batches and builds Data Docs into ``docs_dir``."""

    def __init__(self, inputs: SuiteInputs, docs_dir: str | None = None, *, today: dt.date | None = None):
        import logging

        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        # That module sets its own logger to INFO and says where each ephemeral docs site goes: noise in a run.
        logging.getLogger(ProgressBarsConfig.__module__).setLevel(logging.WARNING)
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        self.docs_dir = docs_dir
        self.rows_validated = 0
        if docs_dir:
            self.context.add_data_docs_site("newsclean", site_config=_site_config(docs_dir))
        batch = (self.context.data_sources.add_or_update_pandas("newsclean")
                 .add_dataframe_asset(SUITE_NAME).add_batch_definition_whole_dataframe("batch"))
        self.inputs = inputs
        self.rules = {rule.name: rule for rule in build_rules(inputs, today=today)}
        self._aliases = AliasCandidates(inputs.alias_variants) if inputs.alias_variants else None
        # Blank lines are most of the short lines and each costs the residue regex a try at every
        # pattern; they are left out unless the patterns could match one (then dropping them would hide residue).
        self._keep_blank_lines = bool(inputs.chrome_residue) and _matches_blank(residue_regex(inputs.chrome_residue))
        self.not_checked = not_checked(inputs)
        suite = self.context.suites.add(gx.ExpectationSuite(name=SUITE_NAME))
        for rule in self.rules.values():
            suite.add_expectation(rule.expectation)
        # Run directly, not through a Checkpoint: it has no actions here (Data Docs are built once, by
        # build_docs) and its freshness checks and result wrapping cost about 30 ms per batch.
        # ValidationDefinition.run stores each result, which is what Data Docs render.
        self.definition = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=SUITE_NAME, data=batch, suite=suite))

    def validate(self, frame: pd.DataFrame, *, run_name: str | None = None) -> SuiteResult:
        outcome = SuiteResult()
        if frame.empty:
            return outcome
        self.rows_validated += len(frame)
        validation = self.definition.run(batch_parameters={"dataframe": self.checked_frame(frame)},
                                         result_format=RESULT_FORMAT, run_id=_run_identifier(run_name))
        outcome.success = validation.success
        for result in validation.results:
            if result.success:
                continue
            meta = result.expectation_config.meta or {}
            name, severity = meta.get("name", result.expectation_config.type), meta.get("severity", CRITICAL)
            rows = result.result.get("unexpected_index_list")
            if rows is None:
                # The expectation raised: a suite or data-type bug, not a verdict on the rows. Say so
                # in the reason and hold every row back, since none of them was checked.
                name, severity, rows = f"suite_error:{name}", CRITICAL, list(frame.index)
            target = outcome.critical if severity == CRITICAL else outcome.warnings
            for label in dict.fromkeys(rows):
                target.setdefault(int(label), []).append(name)
            outcome.rule_failures[name] = outcome.rule_failures.get(name, 0) + len(set(rows))
        return outcome

    def checked_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame GX reads: ``frame`` with the full texts replaced by the columns derived from them."""
        body, normalized = frame["body"], frame["body_normalized"]
        keep_blank, finder = self._keep_blank_lines, self._aliases
        columns = {name: frame[name] for name in frame.columns if name not in FULL_TEXT_COLUMNS}
        columns["body_chars"] = pd.Series([None if t is None else len(t) for t in body], dtype="float64",
                                          index=frame.index)
        columns["body_normalized_chars"] = pd.Series([None if t is None else len(t) for t in normalized],
                                                     dtype="float64", index=frame.index)
        columns["body_short_lines"] = pd.Series([_short_lines(t, keep_blank=keep_blank) for t in body],
                                                dtype=object, index=frame.index)
        columns["alias_candidates"] = pd.Series([finder.find(t) for t in normalized] if finder else None,
                                                dtype=object, index=frame.index)
        return pd.DataFrame(columns)

    def build_docs(self, docs_dir: str | None = None) -> str | None:
        """Render the suite and this context's validation results as Data Docs; return the index path."""
        target = docs_dir or self.docs_dir
        if not target:
            return None
        site = "newsclean"
        if target != self.docs_dir:
            site = "newsclean-extra"
            self.context.add_data_docs_site(site, site_config=_site_config(target))
        self.context.build_data_docs(site_names=[site])
        return f"{target.rstrip('/')}/index.html"


def _site_config(docs_dir: str) -> dict:
    return {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": docs_dir},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }


def _run_identifier(run_name: str | None):
    if not run_name:
        return None
    from great_expectations.core.run_identifier import RunIdentifier

    return RunIdentifier(run_name=run_name)
